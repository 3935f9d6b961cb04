package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// decodeLifecycle reads the other services' events that change what the
// plan may do (domain/lifecycle.go): intake's withdrawal, assessment's
// reopening, reporting's recorded disclosure. They are folded where they
// stand in the request's record, so the gate and the delivery worker see
// them at once, before the reactor records StepsStopped.
func decodeLifecycle(ev eventstore.Event) (domain.Event, bool) {
	at := func(t interface{ AsTime() time.Time }, ok bool) time.Time {
		if ok {
			return t.AsTime().UTC()
		}
		return ev.Time.UTC()
	}
	switch m := ev.Payload.(type) {
	case *intakev1.RequestWithdrawn:
		return domain.Withdrawn{CauseEventID: ev.ID, At: at(m.GetWithdrawTime(), m.GetWithdrawTime() != nil)}, true
	case *assessmentv1.CaseReopened:
		return domain.Reopened{CauseEventID: ev.ID, SupersededDecisionID: m.GetSupersededDecisionId(), At: at(m.GetReopenTime(), m.GetReopenTime() != nil)}, true
	case *reportingv1.DispositionRecorded:
		// Only a disclosure starts the clock of the notice it makes owed;
		// a terminal outcome discloses nothing, and is the end the
		// consulted DPAs are told of (domain/outcome.go).
		t := m.GetDisposition().GetRecordTime()
		if m.GetDisposition().GetDisclosure() == nil {
			end := policy.Outcome(strings.ToLower(protoconv.EnumName(m.GetDisposition().GetOutcome(), "TERMINAL_OUTCOME_")))
			if !end.Valid() {
				return nil, false
			}
			return domain.TerminalRecorded{CauseEventID: ev.ID, End: end, At: at(t, t != nil)}, true
		}
		return domain.DisclosureRecorded{CauseEventID: ev.ID, At: at(t, t != nil)}, true
	}
	return nil, false
}

// Stop is the reaction to a withdrawal or a reopening: it records
// StepsStopped with the steps that were pending. The event id derives from
// the cause's, so a redelivered cause records nothing twice; a reopening
// already superseded by a new plan records nothing.
func (n *Notification) Stop(ctx context.Context, requestID string, reason domain.StopReason, causeEventID string) error {
	call := command.Call{RequestID: requestID, Actor: n.cfg.Actor, Now: n.cfg.Now().UTC(), Trigger: causeEventID}
	_, err := command.Run(ctx, n.store, plans, call, func(r *Request, c command.Call) ([]domain.Event, error) {
		return r.Plan.Stop(reason, causeEventID, c.Now)
	})
	return err
}

// overdueNotices counts owed notices recorded overdue, once each: the
// alert DDRNoticeOverdue (deploy/observability) fires on it. No request id
// or customer: they would be unbounded labels, and the customer is
// personal data.
var overdueNotices = telemetry.Instruments("github.com/ddrsuite/ddr/services/notification", func(m metric.Meter) metric.Int64Counter {
	return telemetry.Counter(m, "ddr.notification.notices_overdue", "Owed customer notices (after an emergency disclosure, after a gag) recorded past their due date")
})

// FireOverdue records NoticeOverdue for each owed notice of the request
// past its due time, once per deadline and due time: the id derives from
// (request, deadline, due), so replicas firing at once write it once. It
// returns how many this call recorded.
func (n *Notification) FireOverdue(ctx context.Context, requestID string) (int, error) {
	r, err := n.Get(ctx, requestID)
	if err != nil {
		return 0, err
	}
	now := n.cfg.Now().UTC()
	fired := 0
	for _, e := range r.Plan.OverdueNotices(now) {
		o, ok := e.(domain.NoticeOverdue)
		if !ok {
			continue
		}
		trigger := fmt.Sprintf("%s/%s/%d", requestID, o.DeadlineID, o.Due.UnixNano())
		call := command.Call{RequestID: requestID, Actor: n.cfg.Actor, Now: now, Trigger: trigger}
		res, err := command.Run(ctx, n.store, plans, call, func(r *Request, c command.Call) ([]domain.Event, error) {
			for _, x := range r.Plan.OverdueNotices(c.Now) {
				if x, ok := x.(domain.NoticeOverdue); ok && x.DeadlineID == o.DeadlineID && x.Due.Equal(o.Due) {
					return []domain.Event{x}, nil
				}
			}
			return nil, nil
		})
		if err != nil {
			return fired, err
		}
		if len(res.Events) > 0 {
			fired++
			overdueNotices().Add(ctx, 1, metric.WithAttributes(attribute.String("deadline", kindOfDeadline(o.DeadlineID))))
			n.cfg.Logger.WarnContext(ctx, "owed notice overdue", "request_id", requestID, "deadline", o.DeadlineID, "due", o.Due)
		}
	}
	return fired, nil
}

// kindOfDeadline is the bounded part of a deadline id (without a customer
// reference).
func kindOfDeadline(id string) string {
	switch {
	case strings.HasPrefix(id, domain.DeadlineNoticeAfterEmergency):
		return "after_emergency"
	case strings.HasPrefix(id, domain.DeadlineNoticeAfterGag):
		return "after_gag"
	}
	return "other"
}
