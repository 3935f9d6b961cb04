package ports

import (
	"context"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// OpenCaseConsumer is the durable reactor that opens a case per received
// request.
const OpenCaseConsumer = "assessment-open-case"

// OpenCaseReactor opens the case of each RequestReceived. What is retried
// and what is dead-lettered is the platform's one rule (ddrerr.Classify):
// a request whose facts the rules cannot use (invalid, or refused by
// policy) will not get better by retrying and goes to the dead letters at
// once, where an operator sees it.
func OpenCaseReactor(a *app.Assessment) consumer.ReactorHandlers {
	return consumer.Reactor(
		consumer.On(func(ctx context.Context, ev eventstore.Event, rr *intakev1.RequestReceived) error {
			return a.OpenReceivedCase(ctx, ev.ID, codec.FactsFromReceived(rr), codec.RequesterFromReceived(rr), ev.Time)
		}),
	)
}
