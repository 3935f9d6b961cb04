package ports

import (
	"context"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// OpenCaseConsumer is the durable reactor that opens a case per received
// request.
const OpenCaseConsumer = "assessment-open-case"

// OpenCaseReactor opens the case of each RequestReceived, and sends a case
// back to review on an amendment, a redirect declined or a DPA objection. What is retried
// and what is dead-lettered is the platform's one rule (ddrerr.Classify):
// a request whose facts the rules cannot use (invalid, or refused by
// policy) will not get better by retrying and goes to the dead letters at
// once, where an operator sees it.
func OpenCaseReactor(a *app.Assessment) consumer.ReactorHandlers {
	return consumer.Reactor(
		consumer.On(func(ctx context.Context, ev eventstore.Event, rr *intakev1.RequestReceived) error {
			return a.OpenReceivedCase(ctx, ev.ID, codec.FactsFromReceived(rr), codec.RequesterFromReceived(rr), ev.Time)
		}),
		// Issue 16: the causes that send a case back to review. Whether
		// one does is the case's lifecycle (domain.Case.Reopen); a
		// withdrawal and a recorded disclosure need no reaction, the case
		// folds them from the request's history. A cause that would reopen
		// a case whose targets were erased is refused (4.1.2,
		// TARGETS_ERASED) and so dead-lettered rather than dropped: it is
		// a recorded fact nobody acted on, which an auditor wants to find
		// beside why; a log line would be lost, and an operator can answer
		// it with a new request.
		consumer.On(func(ctx context.Context, ev eventstore.Event, _ *intakev1.RequestAmended) error {
			return a.Reopen(ctx, ev.ID, ev.RequestID, domain.ReopenAmended, "")
		}),
		consumer.On(func(ctx context.Context, ev eventstore.Event, r *notificationv1.RedirectOutcomeRecorded) error {
			switch r.GetRedirect().GetOutcome() {
			case notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED, notificationv1.RedirectOutcome_REDIRECT_OUTCOME_NOT_POSSIBLE,
				notificationv1.RedirectOutcome_REDIRECT_OUTCOME_IDENTITY_UNKNOWN:
				return a.Reopen(ctx, ev.ID, ev.RequestID, domain.ReopenRedirectDeclined, "")
			}
			return nil
		}),
		consumer.On(func(ctx context.Context, ev eventstore.Event, o *notificationv1.DpaObjected) error {
			return a.Reopen(ctx, ev.ID, ev.RequestID, domain.ReopenDPAObjected, o.GetDecisionId())
		}),
	)
}
