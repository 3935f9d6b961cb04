package app_test

import (
	"strings"
	"testing"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// Clause 4.1.2 (and 4.1.1): notification derives a plan only from a
// decision, and after the erasure no new decision is taken (assessment
// refuses to reopen an erased case). What can still reach the reactor is
// a decision from before, redelivered or replayed from the dead letters:
// opened now, its controller customer has no id. Deriving from it would
// plan the disclosure with no customer to ask or notify; the requirements'
// own rule (a controller needs an addressee) refuses it instead, as a
// client error the reactor dead-letters at once, and no PlanDerived is
// appended. This pins that no other guard is needed there.
func TestClause4_1_2_ADecisionRedeliveredAfterTheErasureDerivesNoPlan(t *testing.T) {
	e := newErasureEnv(t)
	const id = "req-rederive"
	received, decision := demandWithCustomers(id, "IE", subjectCanary+"-target@subject.example",
		[]*intakev1.Customer{{CustomerId: subjectCanary + "-customer", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "IE"}})
	writeDemand(t, e.ctx, e.store, received, decision)
	n := e.start().n
	if err := n.Derive(e.ctx, decided(t, e.decision(id))); err != nil {
		t.Fatal(err)
	}
	if got := e.count(id); got != 1 {
		t.Fatalf("%d PlanDerived before the erasure, want 1", got)
	}

	e.erase(id)
	for _, p := range []proc{{n: n}, e.start()} { // the running process, and one started after the erasure
		err := p.n.Derive(e.ctx, decided(t, e.decision(id)))
		if err == nil || ddrerr.Classify(err) != ddrerr.ClientError {
			t.Errorf("the decision redelivered after the erasure: %v, want a client error (dead-lettered at once)", err)
		}
		if err != nil && strings.Contains(err.Error(), subjectCanary) {
			t.Errorf("the refusal names a SUBJECT value: %v", err)
		}
	}
	if got := e.count(id); got != 1 {
		t.Errorf("%d PlanDerived after the redelivered decision, want still 1", got)
	}
}

// decision is the request's AssessmentDecided as the store opens it now.
func (e *erasureEnv) decision(id string) eventstore.Event {
	e.t.Helper()
	h, err := e.store.Load(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range h.Events {
		if _, ok := ev.Payload.(*assessmentv1.AssessmentDecided); ok {
			return ev
		}
	}
	e.t.Fatalf("no decision for %s", id)
	return eventstore.Event{}
}

// count counts the request's PlanDerived.
func (e *erasureEnv) count(id string) int {
	e.t.Helper()
	h, err := e.store.Load(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range h.Events {
		if _, ok := ev.Payload.(*notificationv1.PlanDerived); ok {
			n++
		}
	}
	return n
}
