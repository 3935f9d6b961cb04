package ports

import (
	"context"
	"errors"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// OpenCaseConsumer is the durable reactor that opens a case per received
// request.
const OpenCaseConsumer = "assessment-open-case"

// OpenCaseSubjects are the events it reacts to.
var OpenCaseSubjects = []string{eventstore.PatternOf[*intakev1.RequestReceived]()}

// OpenCaseHandler opens the case of a RequestReceived. A request whose facts
// the rules cannot use will not get better by retrying: it goes to the dead
// letters at once, where an operator sees it.
func OpenCaseHandler(a *app.Assessment) consumer.Handler {
	return consumer.On(func(ctx context.Context, ev eventstore.Event, rr *intakev1.RequestReceived) error {
		err := a.OpenCase(ctx, ev.ID, rr)
		var ve *ddrerr.ValidationError
		var pv *ddrerr.PolicyViolation
		if errors.As(err, &ve) || errors.As(err, &pv) {
			return consumer.Permanent(err)
		}
		return err
	}).Handler()
}
