package service_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// outcomeNotices lists the recorded outcome notices (NOTIFY_DPA_OUTCOME).
func outcomeNotices(t *testing.T, e *lifecycleEnv, id string) []*notificationv1.Delivery {
	t.Helper()
	var out []*notificationv1.Delivery
	for _, d := range recorded[*notificationv1.NoticeDelivered](t, e, id) {
		if d.GetDelivery().GetStep() == notificationv1.StepKind_STEP_KIND_NOTIFY_DPA_OUTCOME {
			out = append(out, d.GetDelivery())
		}
	}
	return out
}

// A DPA notified and consulted on a request is told by e-mail that the
// authority withdrew it, once, however often the withdrawal and
// reporting's terminal outcome arrive; the notice names the DPA in the
// unsealed field and carries nothing about the people concerned.
func TestClause5_1_ConsultedDPAIsToldOnceThatTheRequestWasWithdrawn(t *testing.T) {
	e := startLifecycle(t)
	const id = "req-outcome"
	at := time.Now().Add(-time.Hour).UTC()
	e.appendEvents(id, received(id, at), decided(id, "D1", at))
	e.waitFor(id, "the DPA packet", func(p *notificationv1.Plan) bool {
		return deliveredTo(p, notificationv1.StepKind_STEP_KIND_NOTIFY_DPA) == 1
	})
	if n := len(e.smtp.To(dpaEmail)); n != 1 {
		t.Fatalf("%d messages to the DPA before the end, want the packet only", n)
	}
	withdrawal := func() eventstore.Event {
		return eventstore.Event{Service: "intake", Name: "withdrawn", Payload: &intakev1.RequestWithdrawn{
			RequestId: id, Reason: "no longer needed", WithdrawTime: timestamppb.New(at.Add(30 * time.Minute)), RecordedBy: "spiffe://ddr.local/staff/priya"}}
	}
	e.appendEvents(id, withdrawal())
	p := e.waitFor(id, "the outcome notice delivered", func(p *notificationv1.Plan) bool {
		return deliveredTo(p, notificationv1.StepKind_STEP_KIND_NOTIFY_DPA_OUTCOME) == 1
	})
	var step *notificationv1.Step
	for _, s := range p.GetSteps() {
		if s.GetKind() == notificationv1.StepKind_STEP_KIND_NOTIFY_DPA_OUTCOME {
			step = s
		}
	}
	if step.GetStatus() != notificationv1.StepStatus_STEP_STATUS_DONE || step.GetClause() != "5.1" {
		t.Fatalf("outcome step %v", step)
	}

	// The withdrawal again, reporting's terminal outcome late, and sweeps
	// run by hand: nothing more goes out or is recorded.
	e.appendEvents(id, withdrawal(), eventstore.Event{Service: "reporting", Name: "disposition_recorded", Payload: &reportingv1.DispositionRecorded{RequestId: id,
		Disposition: &reportingv1.Disposition{Kind: &reportingv1.Disposition_Outcome{Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_WITHDRAWN},
			RecordTime: timestamppb.Now(), RecordedBy: "spiffe://ddr.local/staff/priya"}}})
	for range 2 {
		if err := e.comp.Deliverer().Deliver(e.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	got := outcomeNotices(t, e, id)
	if len(got) != 1 || got[0].GetDpa() != "DPC-IE" || got[0].GetRequestEnd() != "withdrawn" {
		t.Fatalf("outcome notices recorded: %v", got)
	}
	msgs := e.smtp.To(dpaEmail)
	if len(msgs) != 2 {
		t.Fatalf("%d messages to the DPA, want the packet and one outcome notice", len(msgs))
	}
	last := msgs[len(msgs)-1].Data
	if !strings.Contains(last, "Outcome:            withdrawn") || !strings.Contains(last, id) {
		t.Fatalf("outcome notice:\n%s", last)
	}
	for _, personal := range []string{targetValue, "cust-42", custEmail} {
		if strings.Contains(last, personal) {
			t.Fatalf("the outcome notice carries %q", personal)
		}
	}
}
