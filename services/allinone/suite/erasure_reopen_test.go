package suite_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
)

// eventsOfType counts the request's events of type T, as assessment reads them.
func eventsOfType[T proto.Message](e *sgEnv, id string) int {
	e.t.Helper()
	n := 0
	for _, m := range openedEventsAs(e.t, e.p, "assessment", id) {
		if _, ok := m.(T); ok {
			n++
		}
	}
	return n
}

// Clause 4.1.2 (and 4.1.1), end to end over gRPC through the four
// services: a request naming a controller customer is rejected, closes,
// and legal erases its targets at the end of retention. A rejection is
// the end an amendment or a corrected fact can reopen; reopened now, the
// case would be decided again and notification would plan a disclosure
// with the customer gone, skipping the redirect ask and the customer's
// notice. So the member's amendment and the reviewer's fact correction are
// refused with TARGETS_ERASED, and neither a CaseReopened nor a new
// PlanDerived is appended: the request stays closed as rejected.
func TestClause4_1_2_AnErasedRejectionCannotBeBroughtBackEndToEnd(t *testing.T) {
	e := startSafeguards(t, sgOptions{leadHook: true, customers: true})
	id := e.deSubmit("erased-rejection", func(r *intakev1.DataDisclosureRequest) { r.CustomerId = "cust-42" })
	must(t, "decide reject", func() error {
		_, err := e.as[reviewer].Decide(e.ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "no jurisdiction"})
		return err
	})
	e.deClosed(id, intakev1.Outcome_OUTCOME_REJECTED)
	legal := intakev1.NewIntakeServiceClient(e.p.Dial(t, sgCarol))
	if er, err := legal.EraseTargets(e.ctx, &intakev1.EraseTargetsRequest{RequestId: id, Reason: "retention period over"}); err != nil || !er.GetErasedNow() {
		t.Fatalf("EraseTargets = %v, %v", er, err)
	}
	plans := eventsOfType[*notificationv1.PlanDerived](e, id)

	_, err := e.in.Amend(e.ctx, &intakev1.AmendRequest{RequestId: id, Information: "the order was reissued"})
	refused(t, "the member's amendment", err, "4.1.2", "TARGETS_ERASED")
	_, err = e.as[reviewer].ProposeFactCorrection(e.ctx, &assessmentv1.ProposeFactCorrectionRequest{RequestId: id, Reason: "no emergency was claimed",
		Correction: &assessmentv1.FactCorrection{EmergencyClaimed: proto.Bool(false)}})
	refused(t, "the reviewer's fact correction", err, "4.1.2", "TARGETS_ERASED")

	// Both refusals appended nothing, so nothing can follow from them.
	if n := eventsOfType[*assessmentv1.CaseReopened](e, id); n != 0 {
		t.Errorf("%d CaseReopened after the erasure, want none", n)
	}
	if n := eventsOfType[*notificationv1.PlanDerived](e, id); n != plans {
		t.Errorf("%d PlanDerived after the refused ways in, want %d as before", n, plans)
	}
	e.deClosed(id, intakev1.Outcome_OUTCOME_REJECTED)
}
