package ports

import (
	"context"

	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/reporting/app"
)

// SealConsumer is the durable reactor that seals a request's record when it
// reaches a terminal point.
const SealConsumer = "reporting-seal"

// SealSubjects are the events after which a request may have reached a
// terminal point; the handler decides from the whole record.
var SealSubjects = []string{
	"ddr.req.*.notification.cleared",
	"ddr.req.*.notification.redirected",
	"ddr.req.*.assessment.decided",
	"ddr.req.*.intake.withdrawn",
	"ddr.req.*.reporting.disposition_recorded",
}

// SealHandler seals the record of the event's request. It is idempotent:
// the app appends a seal only when the record is terminal and does not
// already end with one, under an id derived from what it covers.
func SealHandler(a *app.Reporting) consumer.Handler {
	return func(ctx context.Context, ev eventstore.Event) error {
		_, err := a.Seal(ctx, ev.RequestID)
		return err
	}
}
