package domain_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

var (
	legalA = policy.Person{ID: "legal-a", Roles: []policy.Role{policy.RoleLegal}}
	legalB = policy.Person{ID: "legal-b", Roles: []policy.Role{policy.RoleLegal}}
)

// restrict has legal-a propose r and legal-b confirm it.
func restrict(t *testing.T, f *domain.RequestFold, r domain.Restriction) {
	t.Helper()
	p, err := domain.ProposeRestriction(f, r, "court order 4/2026", "the order forbids counting it", legalA.ID, foldT0)
	if err != nil {
		t.Fatal(err)
	}
	f.ProposeRestriction(p)
	if err := domain.CheckConfirmRestriction(f, legalB); err != nil {
		t.Fatal(err)
	}
	f.ConfirmRestriction(legalB.ID, foldT0)
}

func TestClause5_1_ExcludingARequestFromTheReportTakesTwoPeopleAndALegalReference(t *testing.T) {
	f := receivedFold("subpoena")
	f.DecideScope(policy.DecisionDisclose, domain.ApprovedScope{Accounts: 2, Categories: []domain.DataCategory{domain.CategorySubscriber}, Proposer: "reviewer-p"})
	// The probe of issue 15: one legal user alone, no reference.
	f.Restrict(domain.RestrictionExcludedByCourtOrder)
	if r := f.Restriction(); r != domain.RestrictionNone {
		t.Fatalf("one person's exclusion took effect: %s", r)
	}
	if _, err := domain.ProposeRestriction(f, domain.RestrictionExcludedByCourtOrder, "", "b", legalA.ID, foldT0); err == nil {
		t.Fatal("an exclusion without a legal reference was accepted")
	}
	p, err := domain.ProposeRestriction(f, domain.RestrictionExcludedByCourtOrder, "court order 4/2026", "sealed case", legalA.ID, foldT0)
	if err != nil {
		t.Fatal(err)
	}
	f.ProposeRestriction(p)
	for _, c := range []struct {
		who  policy.Person
		rule string
	}{
		{legalA, policy.RuleLiftSelfConfirm},
		{policy.Person{ID: "reviewer-p", Roles: []policy.Role{policy.RoleLegal}}, policy.RuleLiftBarredConfirmer},
		{policy.Person{ID: "approver", Roles: []policy.Role{policy.RoleApprover}}, policy.RuleLiftConfirmerRole},
	} {
		wantPolicy(t, domain.CheckConfirmRestriction(f, c.who), "5.1", c.rule)
	}
	if r := f.Restriction(); r != domain.RestrictionNone {
		t.Fatalf("an unconfirmed exclusion took effect: %s", r)
	}
	if err := domain.CheckConfirmRestriction(f, legalB); err != nil {
		t.Fatal(err)
	}
	f.ConfirmRestriction(legalB.ID, foldT0)
	if r := f.Restriction(); r != domain.RestrictionExcludedByCourtOrder {
		t.Fatalf("confirmed exclusion: %s", r)
	}
	wantPolicy(t, domain.CheckConfirmRestriction(f, legalB), "5.1", domain.RuleNothingToRestrict)
}

func TestClause2_1_TheRecordAgreesWithTheDecisionRowByRow(t *testing.T) {
	terminals := []policy.Outcome{policy.OutcomeRejected, policy.OutcomeChallenged, policy.OutcomeRedirected, policy.OutcomeWithdrawn, policy.OutcomeNoDataFound}
	rows := map[policy.DecisionKind]struct {
		disclose bool
		allowed  []policy.Outcome
	}{
		domain.DecisionNone:                   {false, []policy.Outcome{policy.OutcomeWithdrawn}},
		policy.DecisionDisclose:               {true, []policy.Outcome{policy.OutcomeNoDataFound, policy.OutcomeWithdrawn}},
		policy.DecisionRedirectToCustomer:     {false, []policy.Outcome{policy.OutcomeRedirected, policy.OutcomeWithdrawn}},
		policy.DecisionChallenge:              {false, []policy.Outcome{policy.OutcomeChallenged, policy.OutcomeWithdrawn}},
		policy.DecisionReject:                 {false, []policy.Outcome{policy.OutcomeRejected, policy.OutcomeWithdrawn}},
		policy.DecisionRequestMoreInformation: {false, []policy.Outcome{policy.OutcomeWithdrawn}},
	}
	if len(domain.OutcomeTable()) != len(rows) {
		t.Fatalf("table has %d rows, want %d", len(domain.OutcomeTable()), len(rows))
	}
	for k, row := range rows {
		s := clearedState()
		s.Decision, s.Redirected = k, true
		_, err := domain.RecordDisclosure(s, disclosure())
		if row.disclose != (err == nil) {
			t.Errorf("decision %q: disclosure accepted=%v, want %v (%v)", k, err == nil, row.disclose, err)
		}
		if !row.disclose {
			wantPolicy(t, err, "2.1", domain.RuleOutcomeNotAllowed)
		}
		// Withdrawn, so that every terminal's fact is there (since issue
		// 16 a withdrawal refuses any disclosure: checked apart).
		s.Withdrawn = true
		for _, o := range terminals {
			_, err := domain.RecordTerminal(s, o, cleared)
			if want := slices.Contains(row.allowed, o); want != (err == nil) {
				t.Errorf("decision %q, outcome %s: accepted=%v, want %v (%v)", k, o, err == nil, want, err)
			}
		}
	}
	// "redirected" needs the authority's agreement, "withdrawn" its withdrawal.
	s := clearedState()
	s.Decision = policy.DecisionRedirectToCustomer
	_, err := domain.RecordTerminal(s, policy.OutcomeRedirected, cleared)
	wantPolicy(t, err, "2.1", domain.RuleOutcomeWithoutFact)
	_, err = domain.RecordTerminal(s, policy.OutcomeWithdrawn, cleared)
	wantPolicy(t, err, "2.1", domain.RuleOutcomeWithoutFact)
}

func TestClause2_1_DisclosureCannotExceedTheApprovedAccountsOrCategories(t *testing.T) {
	// The probe of issue 15: 5,000 accounts on a 2-account request, and
	// content where only subscriber data was approved.
	f := receivedFold("subpoena")
	f.DecideScope(policy.DecisionDisclose, domain.ApprovedScope{Accounts: 2, Categories: []domain.DataCategory{domain.CategorySubscriber}})
	f.Clear(foldT0.Add(time.Hour))
	s := f.DispositionState()
	d := domain.Disclosure{Categories: []domain.DataCategory{domain.CategorySubscriber}, Accounts: 5000, Date: foldT0.Add(2 * time.Hour), Means: domain.DeliverySecurePortal}
	_, err := domain.RecordDisclosure(s, d)
	wantPolicy(t, err, "2.1", domain.RuleExceedsScope)
	d.Accounts, d.Categories = 2, []domain.DataCategory{domain.CategorySubscriber, domain.CategoryContent}
	_, err = domain.RecordDisclosure(s, d)
	wantPolicy(t, err, "2.1", domain.RuleExceedsScope)
	d.Categories = []domain.DataCategory{domain.CategorySubscriber}
	if _, err := domain.RecordDisclosure(s, d); err != nil {
		t.Fatal(err)
	}
	// No recorded scope is no scope, never "unlimited".
	g := receivedFold("subpoena")
	g.Decide(policy.DecisionDisclose, 0)
	g.Clear(foldT0.Add(time.Hour))
	_, err = domain.RecordDisclosure(g.DispositionState(), d)
	wantPolicy(t, err, "2.1", domain.RuleScopeNotRecorded)
}

func TestClause4_2_1_AdequacyLostBeforeTheRecordedDisclosureDateRefusesIt(t *testing.T) {
	reg, err := policy.ParseAdequacy([]byte(`{"note":"t","entries":[{"country":"GB","name":"UK","basis":"adequacy_decision","scope":"general","from":"2021-06-28","until":"2026-04-01","source":"t"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := clearedState()
	s.Country, s.AdequateWhenCleared, s.Registry = "GB", true, reg
	d := disclosure()
	d.Date = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	_, err = domain.RecordDisclosure(s, d)
	wantPolicy(t, err, "4.2.1", domain.RuleAdequacyLost)
	d.Date = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	if _, err := domain.RecordDisclosure(s, d); err != nil {
		t.Fatal(err)
	}
	// A revoked clearance refuses any disclosure.
	f := receivedFold("subpoena")
	f.DecideScope(policy.DecisionDisclose, domain.ApprovedScope{Accounts: 2, Categories: []domain.DataCategory{domain.CategorySubscriber}})
	f.ClearAdequate(foldT0, true)
	f.RevokeClearance()
	_, err = domain.RecordDisclosure(f.DispositionState(), domain.Disclosure{Categories: []domain.DataCategory{domain.CategorySubscriber}, Accounts: 1, Date: foldT0.Add(time.Hour), Means: domain.DeliverySecurePortal})
	wantPolicy(t, err, "2.2", "DISCLOSURE_BEFORE_CLEARED")
}
