package ports

import (
	"context"

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

// SealSubjects are the events after which a request may have reached a
// terminal point; the handler decides from the whole record.
var SealSubjects = []string{
	eventstore.PatternOf[*notificationv1.RequestCleared](),
	eventstore.PatternOf[*notificationv1.RequestRedirected](),
	eventstore.PatternOf[*assessmentv1.AssessmentDecided](),
	eventstore.PatternOf[*intakev1.RequestWithdrawn](),
	eventstore.PatternOf[*reportingv1.DispositionRecorded](),
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
