package ports

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/reporting/app"
)

// SealConsumer is the durable reactor that seals a request's record when it
// reaches a terminal point, and again when another service's event extends
// it once closed.
const SealConsumer = "reporting-seal"

// ClosedRecords is what the seal reactor asks of reporting's read model
// (app.Reports, fed by its projection): whether a record is closed without
// a seal at its end, once the model has folded a given event.
type ClosedRecords interface {
	WaitFor(ctx context.Context, seq uint64) error
	SealDue(requestID string) bool
}

// sealWait bounds how long the seal reactor waits for the read model to
// reach an event before it asks the record itself.
const sealWait = 2 * time.Second

// SealHandlers is the seal reactor: it seals a request's record whenever
// the record is closed and does not end with a seal. It is idempotent: a
// seal is appended only when the record is terminal and does not already
// end with one, under an id derived from what it covers. What is retried
// and what is dead-lettered is ddrerr.Classify's call, the one rule for
// every reactor.
type SealHandlers struct {
	app      *app.Reporting
	closed   ClosedRecords
	triggers consumer.ReactorHandlers
	trigger  consumer.Handler // triggers.Handler(), built once
}

// SealReactor builds the seal reactor. It reads every event of the stream:
//   - the events that may bring a record to a terminal point seal it (the
//     app decides from the whole record);
//   - any other service's event may extend a record already closed
//     (notification stops a withdrawn request's steps on its own time, a
//     notice goes out after the disposition): the record is sealed again,
//     so the facts of a closed record are always covered by a seal at its
//     end. Most events belong to open records, so the read model answers
//     first, once it has folded the event; the record decides when the
//     model says a seal is due or has not reached the event in time.
//
// Reporting's own later entries (a DPA's read of the record, an opening to
// a DPA, a restriction) are records of access to the closed record, not
// facts of the request, and seal nothing: a read must not write a seal.
func SealReactor(a *app.Reporting, closed ClosedRecords) SealHandlers {
	t := sealTriggers(a)
	return SealHandlers{app: a, closed: closed, triggers: t, trigger: t.Handler()}
}

// Start runs the reactor as the durable consumer cfg names, on every event
// of the stream (any FilterSubjects given are replaced).
func (s SealHandlers) Start(ctx context.Context, js jetstream.JetStream, cfg consumer.Config) (*consumer.Runner, error) {
	cfg.FilterSubjects = []string{eventstore.AllEvents}
	return consumer.Start(ctx, js, cfg, s.handle)
}

func (s SealHandlers) handle(ctx context.Context, ev eventstore.Event) error {
	if s.triggers.Handles(ev) {
		return s.trigger(ctx, ev)
	}
	if ev.Service == app.Service {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, sealWait)
	err := s.closed.WaitFor(wctx, ev.Sequence)
	cancel()
	if err == nil && !s.closed.SealDue(ev.RequestID) {
		return nil
	}
	if _, err := s.app.Seal(ctx, ev.RequestID, ev.ID); err != nil {
		return fmt.Errorf("sealing the extended record of request %s: %w", ev.RequestID, err)
	}
	return nil
}

// sealTriggers are the events that may bring a record to a terminal point.
func sealTriggers(a *app.Reporting) consumer.ReactorHandlers {
	return consumer.Reactor(
		sealOn[*notificationv1.RequestCleared](a),
		sealOn[*notificationv1.RequestRedirected](a),
		sealOn[*assessmentv1.AssessmentDecided](a),
		sealOn[*intakev1.RequestWithdrawn](a),
		sealOn[*reportingv1.DispositionRecorded](a),
		// Issue 16: a withdrawal closes the record once a Privacy Team
		// member acknowledged it, with the disposition "withdrawn" unless
		// one was recorded before (then it undoes nothing). The
		// withdrawal alone still seals a record already terminal for
		// another reason (a rejection), as it always did.
		consumer.On(func(ctx context.Context, ev eventstore.Event, p *assessmentv1.WithdrawalAcknowledged) error {
			if err := a.CloseWithdrawn(ctx, ev.RequestID, ev.Actor, p.GetAcknowledgedBy(), ev.ID, p.GetAfterDisclosure()); err != nil {
				return fmt.Errorf("closing the withdrawn record of request %s: %w", ev.RequestID, err)
			}
			return nil
		}),
	)
}

func sealOn[T proto.Message](a *app.Reporting) consumer.TypedHandler {
	return consumer.On(func(ctx context.Context, ev eventstore.Event, _ T) error {
		if _, err := a.Seal(ctx, ev.RequestID, ev.ID); err != nil {
			return fmt.Errorf("sealing the record of request %s: %w", ev.RequestID, err)
		}
		return nil
	})
}
