package domain_test

import (
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

var foldT0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func receivedFold(process string) *domain.RequestFold {
	var f domain.RequestFold
	f.Receive(domain.Received{At: foldT0, LegalProcess: process, Country: "DE", AccountsSpecified: 2})
	return &f
}

func TestClause5_1_OutcomeFollowsTheRecord(t *testing.T) {
	disclosure := domain.Disposition{Disclosure: &domain.Disclosure{Categories: []domain.DataCategory{domain.CategoryContent}, Accounts: 1, Date: foldT0, Means: domain.DeliverySecurePortal}}
	for _, tc := range []struct {
		name     string
		steps    func(f *domain.RequestFold)
		want     domain.Outcome
		terminal bool
	}{
		{"received only", func(*domain.RequestFold) {}, domain.OutcomePending, false},
		{"more information asked", func(f *domain.RequestFold) { f.Decide(policy.DecisionRequestMoreInformation, 0) }, domain.OutcomePending, false},
		{"decided to disclose", func(f *domain.RequestFold) { f.Decide(policy.DecisionDisclose, 2) }, domain.OutcomePending, false},
		{"cleared without a disposition is not claimed as disclosed", func(f *domain.RequestFold) { f.Decide(policy.DecisionDisclose, 2); f.Clear(foldT0) }, domain.OutcomePending, true},
		{"cleared and disclosed", func(f *domain.RequestFold) {
			f.Decide(policy.DecisionDisclose, 2)
			f.Clear(foldT0)
			f.Dispose(disclosure)
		}, domain.OutcomeContentDisclosed, true},
		{"rejected", func(f *domain.RequestFold) { f.Decide(policy.DecisionReject, 0) }, domain.OutcomeRejected, true},
		{"challenged after asking for more", func(f *domain.RequestFold) {
			f.Decide(policy.DecisionRequestMoreInformation, 0)
			f.Decide(policy.DecisionChallenge, 0)
		}, domain.OutcomeChallenged, true},
		{"redirect decided, not yet agreed", func(f *domain.RequestFold) { f.Decide(policy.DecisionRedirectToCustomer, 0) }, domain.OutcomePending, false},
		{"redirected", func(f *domain.RequestFold) { f.Decide(policy.DecisionRedirectToCustomer, 0); f.Redirect() }, domain.OutcomeRedirected, true},
		{"withdrawn after rejection", func(f *domain.RequestFold) { f.Decide(policy.DecisionReject, 0); f.Withdraw() }, domain.OutcomeWithdrawn, true},
		{"disposition outranks the rest", func(f *domain.RequestFold) {
			f.Withdraw()
			f.Dispose(domain.Disposition{Terminal: policy.OutcomeNoDataFound, At: foldT0})
		}, domain.OutcomeNoDataDisclosed, true},
	} {
		f := receivedFold("subpoena")
		tc.steps(f)
		if got := f.Outcome(); got != tc.want {
			t.Errorf("%s: outcome %s, want %s", tc.name, got, tc.want)
		}
		if got := f.Terminal(); got != tc.terminal {
			t.Errorf("%s: terminal %v, want %v", tc.name, got, tc.terminal)
		}
	}
}

// Changed by issue 15: staff restrictions take two people; the legacy
// one-person Restrict only lifts a restriction or proposes one.
func TestClause5_1_RestrictionFromLegalProcessAndStaff(t *testing.T) {
	f := receivedFold("national_security")
	if r := f.Restriction(); r != domain.RestrictionNationalSecurity {
		t.Errorf("national security process: %s", r)
	}
	f.Restrict(domain.RestrictionNone)
	if r := f.Restriction(); r != domain.RestrictionNationalSecurity {
		t.Errorf("staff cannot lift what the legal process says: %s", r)
	}
	restrict(t, f, domain.RestrictionExcludedByCourtOrder)
	if r := f.Restriction(); r != domain.RestrictionExcludedByCourtOrder {
		t.Errorf("court order exclusion: %s", r)
	}
	g := receivedFold("subpoena")
	restrict(t, g, domain.RestrictionNationalSecurity)
	if r := g.Restriction(); r != domain.RestrictionNationalSecurity {
		t.Errorf("staff may say national security: %s", r)
	}
	g.Restrict(domain.RestrictionNone)
	if r := g.Restriction(); r != domain.RestrictionNone {
		t.Errorf("and lift it again: %s", r)
	}
}

func TestDisposition_StateFoldedFromTheRecord(t *testing.T) {
	f := receivedFold("subpoena")
	f.Decide(policy.DecisionDisclose, 2)
	f.Clear(foldT0.Add(time.Hour))
	f.Clear(foldT0.Add(2 * time.Hour)) // a repeat does not move the clearing
	s := f.DispositionState()
	if !s.Cleared || !s.ClearedAt.Equal(foldT0.Add(time.Hour)) || s.ApprovedAccounts != 2 || s.Disposed || !s.ReceivedAt.Equal(foldT0) {
		t.Fatalf("state %+v", s)
	}
	var none domain.RequestFold
	if _, ok := none.Facts("r", domain.Digest{}); ok || none.HasReceipt() {
		t.Error("facts of a record without a receipt")
	}
	facts, ok := f.Facts("r", domain.Digest{1})
	if !ok || facts.Validate(-1) != nil || facts.ChainHead != (domain.Digest{1}) || facts.AccountsSpecified != 2 {
		t.Errorf("facts %+v", facts)
	}
}
