package app_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// TestIssue19_TheSweepAndTheHoldsReadTheLivePlansAsAScanOfEveryPlan drives
// plans through their states on a real stream, their index folded by a
// projection as in service, and checks at several times that what the
// delivery worker's sweep selects (deliveries or a clearance due; notices
// overdue), the hold listing and the overdue gauge, read from the plans
// that may still owe work and those held, equal the same reads over every
// plan; and that the settled plans are not among the live ones.
func TestIssue19_TheSweepAndTheHoldsReadTheLivePlansAsAScanOfEveryPlan(t *testing.T) {
	e := newEnv(t)
	smtpSrv := startSMTP(t, true)
	idx, proj := e.projectedIndex()
	d := e.deliverer(contacts(""), smtpSrv.Addr(), "instance-1", idx)
	workers := []*app.Deliverer{d}
	ids := []string{"req-delivered", "req-waiting", "req-held", "req-gag", "req-rejected", "req-withdrawn"}
	var last uint64
	seen := func(id string) {
		t.Helper()
		h, err := e.store.Load(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		last = max(last, h.LastSeq)
	}
	check := func(when string, at time.Time, live ...string) {
		t.Helper()
		for _, id := range ids {
			seen(id)
		}
		if err := proj.WaitFor(e.ctx, last); err != nil {
			t.Fatal(err)
		}
		if err := idx.CheckSets(); err != nil {
			t.Errorf("%s: %v", when, err)
		}
		e.clock.Set(at)
		var due, late []string
		for i, d := range workers {
			due, late = d.SweepSelections(at)
			scanDue, scanLate := d.ScannedSweepSelections(at)
			if !slices.Equal(due, scanDue) || !slices.Equal(late, scanLate) {
				t.Errorf("%s: worker %d's sweep selects due %v, late %v; a scan of every plan %v, %v", when, i+1, due, late, scanDue, scanLate)
			}
		}
		holds, _ := idx.Holds(at, "", math.MaxInt32)
		scanHolds, _ := idx.ScannedHolds(at, "", math.MaxInt32)
		if !slices.Equal(holds, scanHolds) {
			t.Errorf("%s: holds %v; a scan of every plan %v", when, holds, scanHolds)
		}
		page, next := idx.Holds(at, "", 1)
		scanPage, scanNext := idx.ScannedHolds(at, "", 1)
		if !slices.Equal(page, scanPage) || next != scanNext {
			t.Errorf("%s: first page of holds %v (%q); a scan %v (%q)", when, page, next, scanPage, scanNext)
		}
		if n, scan := idx.OverdueNotices(at), idx.ScannedOverdueNotices(at); n != scan {
			t.Errorf("%s: %d notices overdue; a scan counts %d", when, n, scan)
		}
		if got := idx.Live(); !slices.Equal(got, live) {
			t.Errorf("%s: live plans %v, want %v", when, got, live)
		}
		t.Logf("%s: due %v, late %v, %d held, live %v", when, due, late, len(holds), idx.Live())
	}

	// A disclose decision with a controller customer, from an adequate
	// country: the redirect ask first, then the notice (4.1.2) and the
	// DPA packets (2.2).
	for _, id := range []string{"req-delivered", "req-waiting", "req-withdrawn"} {
		if err := e.n.Derive(e.ctx, decided(t, e.receive(request{id: id, country: "DE"}))); err != nil {
			t.Fatal(err)
		}
	}
	// The same from a country without adequacy: on hold (4.2.1).
	if err := e.n.Derive(e.ctx, decided(t, e.receive(request{id: "req-held", country: "CN"}))); err != nil {
		t.Fatal(err)
	}
	// Under a gag that ends in two hours, the notice exempted until then.
	gagEnds := t0.Add(2 * time.Hour)
	if err := e.n.Derive(e.ctx, decided(t, e.receive(request{id: "req-gag", country: "DE",
		gag: &assessmentv1.Prohibition{Present: true, Reference: "NDO-7", ExpiresAt: timestamppb.New(gagEnds)}}))); err != nil {
		t.Fatal(err)
	}
	must[app.PlanView](t)(e.n.RecordRedirectOutcome(e.ctx, staff, "req-gag", domain.RedirectNotPossible, ""))
	prop := must[app.Proposed](t)(e.n.ProposeExemption(e.ctx, staff, "req-gag", domain.ExemptionProposal{
		Step: domain.StepNotifyCustomer, Reason: domain.SkipProhibited, Basis: "non-disclosure order until it lapses", Evidence: "NDO-7"}))
	must[app.PlanView](t)(e.n.ConfirmLift(e.ctx, legal, "req-gag", prop.LiftID))
	// A rejection: nothing is owed to anyone.
	if err := e.n.Derive(e.ctx, decided(t, e.receive(request{id: "req-rejected", country: "DE", decision: assessmentv1.DecisionKind_DECISION_KIND_REJECT}))); err != nil {
		t.Fatal(err)
	}
	all := []string{"req-delivered", "req-gag", "req-held", "req-waiting", "req-withdrawn"}
	check("derived", t0, all...)

	// The authority declines the redirect; the worker sends the notice
	// and the packet, and the packet to the authority without an address
	// goes by hand. With the notice delivered to the one address the
	// worker has for the customer, the plan owes nothing more.
	must[app.PlanView](t)(e.n.RecordRedirectOutcome(e.ctx, staff, "req-delivered", domain.RedirectDeclined, ""))
	if err := d.Deliver(e.ctx, "req-delivered"); err != nil {
		t.Fatal(err)
	}
	dispatchByTwo(t, e, "req-delivered", "CNIL")
	if len(smtpSrv.To(custEmail)) != 1 {
		t.Fatalf("%d notices to the customer", len(smtpSrv.To(custEmail)))
	}
	// The authority withdraws a request before anything went out: it
	// leaves the live plans.
	h, err := e.store.Load(e.ctx, "req-withdrawn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, "req-withdrawn", h.LastSeq, eventstore.Event{Service: "intake", Name: "withdrawn", Time: t0,
		Payload: &intakev1.RequestWithdrawn{RequestId: "req-withdrawn", WithdrawTime: timestamppb.New(t0)}}); err != nil {
		t.Fatal(err)
	}
	live := []string{"req-gag", "req-held", "req-waiting"}
	check("notice delivered, request withdrawn", t0.Add(time.Minute), live...)
	check("an hour later", t0.Add(time.Hour), live...)
	check("the gag ended", gagEnds.Add(time.Minute), live...)
	check("the notice after the gag overdue", gagEnds.Add(domain.DefaultNoticeWindow+time.Hour), live...)

	// A second worker on the index whose contacts give the customer an
	// address the notice has not reached: the plan owes it the notice,
	// and is live again.
	more := contacts("")
	more.Customers[customerID] = app.Endpoints{Emails: []string{custEmail, "dpo@cust.example"}}
	workers = append(workers, e.deliverer(more, smtpSrv.Addr(), "instance-2", idx))
	check("a worker with another address of the customer", t0.AddDate(1, 0, 0), append([]string{"req-delivered"}, live...)...)
	if due, _ := workers[1].SweepSelections(t0.AddDate(1, 0, 0)); !slices.Contains(due, "req-delivered") {
		t.Errorf("the notice is not due to the customer's other address: due %v", due)
	}
}
