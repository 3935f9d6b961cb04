package app_test

import (
	"testing"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// Events written by the one-person flows before issue 15 stay in the
// record and fold, but lift nothing: an exemption and a DPA answer recorded
// by one person, and the hold lifted on them, leave the hold owed.
func TestClause4_2_1_LegacyOnePersonEventsFoldButLiftNothing(t *testing.T) {
	e := newEnv(t)
	const id = "req-legacy"
	if err := e.n.Derive(e.ctx, decided(e.t, e.receive(request{id: id, country: "CN"}))); err != nil {
		t.Fatal(err)
	}
	at := protoconv.Timestamp(e.clock.Now())
	h, err := e.store.Load(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	legacy := []eventstore.Event{
		{Service: app.Service, Name: "exemption_recorded", Payload: &notificationv1.ExemptionRecorded{RequestId: id, Exemption: &notificationv1.Exemption{
			Step: notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA, Reason: "IMMINENT_RISK", Basis: "one person said so", RecordedBy: staff, RecordTime: at}}},
		{Service: app.Service, Name: "dpa_consulted", Payload: &notificationv1.DpaConsulted{RequestId: id, Consultation: &notificationv1.DpaConsultation{
			Authority: "DPC-IE", Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_NO_OBJECTION, RecordedBy: staff, RecordTime: at}}},
		{Service: app.Service, Name: "hold_lifted", Payload: &notificationv1.HoldLifted{RequestId: id, Basis: notificationv1.HoldLiftBasis_HOLD_LIFT_BASIS_CONSULTATION, LiftedBy: staff, LiftTime: at}},
	}
	if _, err := e.store.Append(e.ctx, id, h.LastSeq, legacy...); err != nil {
		t.Fatal(err)
	}
	p := e.plan(id)
	if len(p.GetExemptions()) != 1 || len(p.GetConsultations()) != 1 {
		t.Fatalf("the record lost the legacy facts: %d exemptions, %d consultations", len(p.GetExemptions()), len(p.GetConsultations()))
	}
	if s := step(p, notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA).GetStatus(); s != notificationv1.StepStatus_STEP_STATUS_REQUIRED {
		t.Errorf("hold step %v after one-person records, want REQUIRED", s)
	}
	if p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED || len(p.GetBlockers()) == 0 {
		t.Errorf("plan %v with blockers %v, want still blocked", p.GetStatus(), p.GetBlockers())
	}
	if len(p.GetLifts()) != 0 {
		t.Errorf("legacy records became lifts: %v", p.GetLifts())
	}
}
