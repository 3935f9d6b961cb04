package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// clearedFold is a request decided (decision d1) for disclosure of
// everything and cleared at foldT0+1h.
func clearedFold() *domain.RequestFold {
	f := receivedFold("subpoena")
	f.DecideAs("d1", policy.DecisionDisclose, domain.ApprovedScope{Accounts: 2, Categories: []domain.DataCategory{domain.CategorySubscriber, domain.CategoryContent}})
	f.ClearFor("d1", foldT0.Add(time.Hour), false, false)
	return f
}

func lifecycleDisclosure(at time.Time) domain.Disclosure {
	return domain.Disclosure{Categories: []domain.DataCategory{domain.CategorySubscriber}, Accounts: 1, Date: at, Means: domain.DeliverySecurePortal}
}

func TestClause2_1_DisclosureRefusedOnceTheAuthorityWithdrew_NoDemandStands(t *testing.T) {
	f := clearedFold()
	if _, err := domain.RecordDisclosure(f.DispositionState(), lifecycleDisclosure(foldT0.Add(2*time.Hour))); err != nil {
		t.Fatalf("the cleared request refuses a disclosure before any withdrawal: %v", err)
	}
	f.Withdraw()
	_, err := domain.RecordDisclosure(f.DispositionState(), lifecycleDisclosure(foldT0.Add(2*time.Hour)))
	wantPolicy(t, err, "2.1", domain.RuleRequestWithdrawn)
	// Withdrawn before any decision or clearance: the withdrawal is named,
	// not the missing clearance.
	g := receivedFold("subpoena")
	g.Withdraw()
	_, err = domain.RecordDisclosure(g.DispositionState(), lifecycleDisclosure(foldT0.Add(2*time.Hour)))
	wantPolicy(t, err, "2.1", domain.RuleRequestWithdrawn)
	// "Withdrawn" is still the outcome staff may record.
	if _, err := domain.RecordTerminal(f.DispositionState(), policy.OutcomeWithdrawn, foldT0.Add(3*time.Hour)); err != nil {
		t.Fatalf("withdrawn refused after the withdrawal: %v", err)
	}
}

func TestClause2_1_WithdrawalAfterADisclosureIsRecordedAndUndoesNothing(t *testing.T) {
	f := clearedFold()
	d, err := domain.RecordDisclosure(f.DispositionState(), domain.Disclosure{Categories: []domain.DataCategory{domain.CategoryContent}, Accounts: 1, Date: foldT0.Add(2 * time.Hour), Means: domain.DeliverySecurePortal})
	if err != nil {
		t.Fatal(err)
	}
	f.Dispose(d)
	f.Withdraw()
	f.StopSteps()
	f.Reopen("d1")
	f.AcknowledgeWithdrawal()
	if o := f.Outcome(); o != domain.OutcomeContentDisclosed {
		t.Errorf("outcome %s after a withdrawal that followed the disclosure, want content_disclosed", o)
	}
	if !f.Terminal() || f.Disposition() == nil || f.Disposition().Disclosure == nil {
		t.Errorf("the disclosure no longer stands: terminal %v, disposition %+v", f.Terminal(), f.Disposition())
	}
	if _, err := domain.RecordTerminal(f.DispositionState(), policy.OutcomeWithdrawn, foldT0.Add(3*time.Hour)); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Errorf("a second disposition over the disclosure: %v", err)
	}
}

func TestClause2_2_DisclosureRefusedAfterNotificationStoppedTheSteps(t *testing.T) {
	f := clearedFold()
	f.StopSteps()
	_, err := domain.RecordDisclosure(f.DispositionState(), lifecycleDisclosure(foldT0.Add(2*time.Hour)))
	wantPolicy(t, err, "2.2", domain.RuleStepsStopped)
	// A new clearance (of a new plan) lets it through again.
	f.ClearFor("d1", foldT0.Add(3*time.Hour), false, false)
	if _, err := domain.RecordDisclosure(f.DispositionState(), lifecycleDisclosure(foldT0.Add(4*time.Hour))); err != nil {
		t.Fatalf("after the new clearance: %v", err)
	}
}

func TestClause2_2_ClearanceVoidOnceTheCaseReopenedUntilTheNewDecisionIsCleared(t *testing.T) {
	f := clearedFold()
	f.Reopen("d1")
	_, err := domain.RecordDisclosure(f.DispositionState(), lifecycleDisclosure(foldT0.Add(2*time.Hour)))
	wantPolicy(t, err, "2.2", domain.RuleClearanceVoid)
	if f.DecisionID() != "" || f.Outcome() != domain.OutcomePending || f.Terminal() {
		t.Errorf("reopened: decision %q, outcome %s, terminal %v; want none, pending, open", f.DecisionID(), f.Outcome(), f.Terminal())
	}
	// The old plan's clearance arriving late clears nothing.
	f.ClearFor("d1", foldT0.Add(2*time.Hour), false, false)
	wantPolicy(t, mustRefuse(f, foldT0.Add(3*time.Hour)), "2.2", domain.RuleClearanceVoid)
	// The new decision, four eyes again, then its own clearance.
	f.DecideAs("d2", policy.DecisionDisclose, domain.ApprovedScope{Accounts: 1, Categories: []domain.DataCategory{domain.CategorySubscriber}})
	wantPolicy(t, mustRefuse(f, foldT0.Add(3*time.Hour)), "2.2", domain.RuleClearanceVoid)
	f.ClearFor("d2", foldT0.Add(4*time.Hour), false, false)
	if _, err := domain.RecordDisclosure(f.DispositionState(), lifecycleDisclosure(foldT0.Add(5*time.Hour))); err != nil {
		t.Fatalf("after the new decision was cleared: %v", err)
	}
	// A reopening before any clearance leaves the old rule to speak.
	g := receivedFold("subpoena")
	g.DecideAs("d1", policy.DecisionDisclose, domain.ApprovedScope{Accounts: 1, Categories: []domain.DataCategory{domain.CategorySubscriber}})
	g.Reopen("d1")
	wantPolicy(t, mustRefuse(g, foldT0.Add(time.Hour)), "2.2", "DISCLOSURE_BEFORE_CLEARED")
}

func mustRefuse(f *domain.RequestFold, at time.Time) error {
	_, err := domain.RecordDisclosure(f.DispositionState(), lifecycleDisclosure(at))
	if err == nil {
		return errors.New("disclosure accepted")
	}
	return err
}

// Amending a rejected request reopens it (platform/lifecycle): the report
// no longer counts it as rejected, and its record is open again.
func TestClause3_3_AReopenedRejectionIsInReviewAgain(t *testing.T) {
	f := receivedFold("subpoena")
	f.DecideAs("d1", policy.DecisionReject, domain.ApprovedScope{})
	if f.Outcome() != domain.OutcomeRejected || !f.Terminal() {
		t.Fatal("rejected")
	}
	f.Reopen("")
	if f.Outcome() != domain.OutcomePending || f.Terminal() || !f.Superseded("d1") {
		t.Errorf("reopened rejection: outcome %s, terminal %v, d1 superseded %v", f.Outcome(), f.Terminal(), f.Superseded("d1"))
	}
}

func TestIssue16_TheRecordClosesAsWithdrawnOnTheAcknowledgementNotTheWithdrawal(t *testing.T) {
	f := receivedFold("subpoena")
	f.DecideAs("d1", policy.DecisionDisclose, domain.ApprovedScope{Accounts: 1})
	f.Withdraw()
	f.StopSteps()
	if f.Terminal() {
		t.Fatal("closed on the withdrawal alone")
	}
	if o := f.Outcome(); o != domain.OutcomeWithdrawn {
		t.Errorf("outcome %s; the authority's withdrawal is the outcome whether acknowledged or not", o)
	}
	f.AcknowledgeWithdrawal()
	if !f.Terminal() || !f.WithdrawalAcknowledged() {
		t.Fatal("not closed on the acknowledgement")
	}
	if _, err := domain.RecordTerminal(f.DispositionState(), policy.OutcomeWithdrawn, foldT0.Add(time.Hour)); err != nil {
		t.Fatalf("withdrawn as the disposition: %v", err)
	}

	// A cleared request withdrawn: cleared no longer, open until acknowledged.
	c := clearedFold()
	c.Withdraw()
	c.SealSeen() // the withdrawal seals a record terminal for its clearance
	c.StopSteps()
	if c.Terminal() {
		t.Error("a cleared request, withdrawn and its steps stopped, is closed before the acknowledgement")
	}
}

// Records an earlier binary sealed on the withdrawal alone (the golden
// corpus) stay closed.
func TestIssue16_ARecordSealedOnAnOldWithdrawalStaysClosed(t *testing.T) {
	f := receivedFold("subpoena")
	f.Withdraw()
	f.SealSeen()
	if !f.Terminal() || f.Outcome() != domain.OutcomeWithdrawn {
		t.Errorf("old withdrawn record: terminal %v, outcome %s", f.Terminal(), f.Outcome())
	}
}

func TestClause5_1_MostSignificantOutcomeOrder(t *testing.T) {
	order := []domain.Outcome{
		domain.OutcomeContentDisclosed, domain.OutcomeNonContentOnly, domain.OutcomePending, domain.OutcomeNoDataDisclosed,
		domain.OutcomeRedirected, domain.OutcomeChallenged, domain.OutcomeRejected, domain.OutcomeWithdrawn,
	}
	if len(order) != len(domain.Outcomes()) {
		t.Fatalf("the order ranks %d outcomes of %d", len(order), len(domain.Outcomes()))
	}
	for i, hi := range order {
		for _, lo := range order[i+1:] {
			if got := domain.MostSignificant(lo, hi); got != hi {
				t.Errorf("MostSignificant(%s, %s) = %s", lo, hi, got)
			}
			if got := domain.MostSignificant(hi, lo); got != hi {
				t.Errorf("MostSignificant(%s, %s) = %s", hi, lo, got)
			}
		}
	}
}

func TestClause5_1_LinkedRequestsAreOneDemandCountedOnceByItsMostSignificantOutcome(t *testing.T) {
	at := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	mk := func(id string, d time.Duration, o domain.Outcome, accounts int) domain.ReportFacts {
		return domain.ReportFacts{RequestID: id, ReceivedAt: at.Add(d), LegalProcess: "subpoena", Country: "DE", Outcome: o, AccountsSpecified: accounts}
	}
	facts := []domain.ReportFacts{
		mk("req-b", time.Hour, domain.OutcomeNonContentOnly, 3), // the same demand, received second by another member
		mk("req-a", 0, domain.OutcomeRejected, 2),
		mk("req-c", 0, domain.OutcomeWithdrawn, 1), // not linked
		mk("req-d", 2*time.Hour, domain.OutcomeWithdrawn, 1),
	}
	before := build(t, facts, h1, cfg250, late)
	if before.Totals.Requests != 4 {
		t.Fatalf("unlinked: %d requests", before.Totals.Requests)
	}
	// Linked on one side only (b to a) and transitively (d to b).
	counted := domain.CountDemandsOnce(facts, map[string][]string{"req-b": {"req-a"}, "req-d": {"req-b"}})
	r := build(t, counted, h1, cfg250, late)
	if r.Totals.Requests != 2 || r.Digest.Leaves != 2 {
		t.Errorf("requests %d, leaves %d; want the demand once and req-c", r.Totals.Requests, r.Digest.Leaves)
	}
	if r.Totals.AccountsSpecified != 3+1 {
		t.Errorf("accounts %d, want the demand's 3 and req-c's 1", r.Totals.AccountsSpecified)
	}
	by := asMap(r.ByOutcome)
	if by["non_content_only"] != 1 || by["rejected"] != 0 || by["withdrawn"] != 1 {
		t.Errorf("by outcome %v: want the demand under non_content_only, req-c withdrawn", by)
	}
	// The representative is the earliest received; it names the others.
	a := counted[slices.IndexFunc(counted, func(f domain.ReportFacts) bool { return f.RequestID == "req-a" })]
	if a.CountedWith != "" || !slices.Equal(a.SameDemand, []string{"req-b", "req-d"}) || a.Outcome != domain.OutcomeNonContentOnly {
		t.Errorf("representative %+v", a)
	}
	for _, f := range counted {
		if (f.RequestID == "req-b" || f.RequestID == "req-d") && f.CountedWith != "req-a" {
			t.Errorf("%s counted with %q, want req-a", f.RequestID, f.CountedWith)
		}
	}
	// The report still verifies and proves: the demand through req-a; the
	// others are not counted on their own.
	if err := domain.VerifyReport(r, counted); err != nil {
		t.Fatalf("verify: %v", err)
	}
	p, err := domain.ProveInclusion(counted, r, "req-a")
	if err != nil {
		t.Fatal(err)
	}
	if err := domain.VerifyInclusion(r, a, p); err != nil {
		t.Errorf("inclusion of the demand: %v", err)
	}
	if _, err := domain.ProveInclusion(counted, r, "req-b"); !errors.Is(err, ddrerr.ErrNotFound) {
		t.Errorf("req-b counted on its own: %v", err)
	}
	// Counting the linked one on its own does not reproduce the report.
	if err := domain.VerifyReport(r, facts); err == nil {
		t.Error("the unlinked facts reproduce the linked report")
	}
}

// A link keeps a court order's exclusion: the demand counts nowhere.
func TestClause5_1_ADemandPartlyExcludedByCourtOrderCountsNowhere(t *testing.T) {
	at := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	facts := []domain.ReportFacts{
		{RequestID: "req-a", ReceivedAt: at, LegalProcess: "subpoena", Country: "DE", Outcome: domain.OutcomeRejected},
		{RequestID: "req-b", ReceivedAt: at.Add(time.Hour), LegalProcess: "subpoena", Country: "DE", Outcome: domain.OutcomeRejected, Restriction: domain.RestrictionExcludedByCourtOrder},
	}
	r := build(t, domain.CountDemandsOnce(facts, map[string][]string{"req-a": {"req-b"}}), h1, cfg250, late)
	if r.Totals.Requests != 0 {
		t.Errorf("%d requests counted", r.Totals.Requests)
	}
}

func TestIssue16_TheTimelineKeepsEarlierDecisionsBesideTheNewOne(t *testing.T) {
	var tl domain.Timeline
	tl.Add(domain.Fact{Seq: 3, Kind: domain.FactDecided, DecisionID: "d1", Detail: "redirect_to_customer"})
	tl.Add(domain.Fact{Seq: 5, Kind: domain.FactReopened, DecisionID: "d1", Trigger: "redirect_declined"})
	tl.Add(domain.Fact{Seq: 7, Kind: domain.FactDecided, DecisionID: "d2", Detail: "disclose"})
	tl.Add(domain.Fact{Seq: 9, Kind: domain.FactDisposition, Detail: "content_disclosed"})
	tl.Add(domain.Fact{Seq: 11, Kind: domain.FactWithdrawn})
	tl.Add(domain.Fact{Seq: 12, Kind: domain.FactReopened, DecisionID: "d2"})
	got := tl.Facts()
	if len(got) != 6 {
		t.Fatalf("%d facts", len(got))
	}
	if !got[0].Superseded || got[2].Superseded {
		t.Errorf("d1 superseded %v, d2 superseded %v; want d1 only", got[0].Superseded, got[2].Superseded)
	}
	if !got[4].AfterDisclosure {
		t.Error("the withdrawal after the disclosure is not marked so")
	}
}

// Two customers: one's authority agrees to the redirect, the other's
// declines and the case goes back to review for it (issue 16, 4.1.1).
// The request is counted once, by its most significant outcome.
func TestClause4_1_1_ARequestWithSeveralCustomersCountsOnceByItsMostSignificantOutcome(t *testing.T) {
	split := func() *domain.RequestFold {
		f := receivedFold("subpoena")
		f.DecideAs("d1", policy.DecisionRedirectToCustomer, domain.ApprovedScope{})
		f.Redirect() // customer A's authority agreed
		f.Reopen("d1")
		return f
	}
	f := split()
	if o := f.Outcome(); o != domain.OutcomePending || f.Terminal() {
		t.Errorf("back in review for customer B: outcome %s, terminal %v; want pending, open", o, f.Terminal())
	}
	f.DecideAs("d2", policy.DecisionReject, domain.ApprovedScope{})
	if o := f.Outcome(); o != domain.OutcomeRedirected {
		t.Errorf("A redirected, B rejected: %s, want redirected", o)
	}
	g := split()
	g.DecideAs("d2", policy.DecisionDisclose, domain.ApprovedScope{Accounts: 1, Categories: []domain.DataCategory{domain.CategoryContent}})
	if o := g.Outcome(); o != domain.OutcomePending {
		t.Errorf("A redirected, B to be disclosed: %s, want pending", o)
	}
	g.ClearFor("d2", foldT0.Add(time.Hour), false, false)
	d, err := domain.RecordDisclosure(g.DispositionState(), domain.Disclosure{Categories: []domain.DataCategory{domain.CategoryContent}, Accounts: 1, Date: foldT0.Add(2 * time.Hour), Means: domain.DeliverySecurePortal})
	if err != nil {
		t.Fatal(err)
	}
	g.Dispose(d)
	if o := g.Outcome(); o != domain.OutcomeContentDisclosed {
		t.Errorf("A redirected, B disclosed: %s, want content_disclosed", o)
	}
	// "redirected" is no disposition of the new decision.
	h := split()
	h.DecideAs("d2", policy.DecisionReject, domain.ApprovedScope{})
	if _, err := domain.RecordTerminal(h.DispositionState(), policy.OutcomeRedirected, foldT0.Add(time.Hour)); err == nil {
		t.Error("redirected recorded against a rejection")
	}
}
