package ports

import (
	"context"
	"fmt"

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
// reaches a terminal point.
const SealConsumer = "reporting-seal"

// SealReactor seals the record of the event's request after each event
// that may have brought it to a terminal point; the app decides from the
// whole record. It is idempotent: a seal is appended only when the record
// is terminal and does not already end with one, under an id derived from
// what it covers. What is retried and what is dead-lettered is
// ddrerr.Classify's call, the one rule for every reactor.
func SealReactor(a *app.Reporting) consumer.ReactorHandlers {
	return consumer.Reactor(
		sealOn[*notificationv1.RequestCleared](a),
		sealOn[*notificationv1.RequestRedirected](a),
		sealOn[*assessmentv1.AssessmentDecided](a),
		sealOn[*intakev1.RequestWithdrawn](a),
		sealOn[*reportingv1.DispositionRecorded](a),
		// Notification stops a withdrawn request's steps on its own time:
		// its StepsStopped can reach the record after the acknowledgement
		// closed and sealed it (seen under CI load). A closed record must
		// end with a seal that covers every entry, so it is sealed again.
		sealOn[*notificationv1.StepsStopped](a),
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
