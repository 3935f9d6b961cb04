package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

var (
	received = time.Date(2025, 2, 3, 10, 0, 0, 0, time.UTC)
	cleared  = received.Add(72 * time.Hour)
)

func clearedState() domain.DispositionState {
	// Changed by issue 15: the state names the decision and the approved
	// categories; a disclosure without them is now refused.
	return domain.DispositionState{ReceivedAt: received, Cleared: true, ClearedAt: cleared, ApprovedAccounts: 3,
		Decision: policy.DecisionDisclose, ApprovedCategories: []domain.DataCategory{
			domain.CategorySubscriber, domain.CategoryAccessLogs, domain.CategoryMetadata, domain.CategoryContent, domain.CategoryAttachments}}
}

func disclosure() domain.Disclosure {
	return domain.Disclosure{
		Categories: []domain.DataCategory{domain.CategorySubscriber, domain.CategoryAccessLogs},
		Accounts:   2,
		Date:       cleared.Add(time.Hour),
		Means:      domain.DeliverySecurePortal,
	}
}

func wantPolicy(t *testing.T, err error, clause, rule string) {
	t.Helper()
	var pv *ddrerr.PolicyViolation
	if !errors.As(err, &pv) || pv.Clause != clause || pv.Rule != rule {
		t.Fatalf("want policy %s %s, got %v", clause, rule, err)
	}
	if !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("policy refusal does not match ErrFailedPrecondition: %v", err)
	}
}

func TestClause2_2_DisclosureRefusedBeforeRequestCleared(t *testing.T) {
	s := clearedState()
	s.Cleared, s.ClearedAt = false, time.Time{}
	_, err := domain.RecordDisclosure(s, disclosure())
	wantPolicy(t, err, "2.2", "DISCLOSURE_BEFORE_CLEARED")
}

func TestClause2_2_DisclosureDatedBeforeClearingRefused(t *testing.T) {
	d := disclosure()
	d.Date = cleared.Add(-time.Minute)
	_, err := domain.RecordDisclosure(clearedState(), d)
	wantPolicy(t, err, "2.2", "DISCLOSED_BEFORE_CLEARED")
}

func TestClause2_1_DisclosureBeyondDecidedScopeRefused(t *testing.T) {
	d := disclosure()
	d.Accounts = 4
	_, err := domain.RecordDisclosure(clearedState(), d)
	wantPolicy(t, err, "2.1", "DISCLOSURE_EXCEEDS_DECIDED_SCOPE")
}

func TestDisposition_DisclosureAcceptedAfterClearing(t *testing.T) {
	d := disclosure()
	got, err := domain.RecordDisclosure(clearedState(), d)
	if err != nil {
		t.Fatal(err)
	}
	d.Categories[0] = domain.CategoryContent // the caller's slice must not alias the record
	if got.Disclosure == nil || got.Disclosure.Accounts != 2 || got.Disclosure.Categories[0] != domain.CategorySubscriber {
		t.Fatalf("disclosure not kept as given: %+v", got.Disclosure)
	}
	if got.ReportOutcome() != domain.OutcomeNonContentOnly {
		t.Fatalf("outcome %s", got.ReportOutcome())
	}
}

func TestDisposition_DisclosureFieldsValidated(t *testing.T) {
	d := domain.Disclosure{
		Categories: []domain.DataCategory{"everything", domain.CategoryContent, domain.CategoryContent},
		Accounts:   0,
		Date:       received.Add(-time.Hour),
		Means:      "fax",
	}
	_, err := domain.RecordDisclosure(clearedState(), d)
	var ve *ddrerr.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want validation error, got %v", err)
	}
	fields := map[string]bool{}
	for _, v := range ve.Violations {
		fields[v.Field] = true
	}
	for _, f := range []string{"disclosure.categories[0]", "disclosure.categories[2]", "disclosure.accounts", "disclosure.date", "disclosure.means"} {
		if !fields[f] {
			t.Errorf("no violation for %s in %v", f, ve.Violations)
		}
	}
	if fields["disclosure.categories[1]"] {
		t.Errorf("first use of a category flagged: %v", ve.Violations)
	}
}

func TestDisposition_OnlyOneDisposition(t *testing.T) {
	s := clearedState()
	s.Disposed = true
	if _, err := domain.RecordDisclosure(s, disclosure()); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("second disclosure: %v", err)
	}
	if _, err := domain.RecordTerminal(s, policy.OutcomeWithdrawn, cleared); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("second terminal: %v", err)
	}
}

// Changed by issue 15: a terminal outcome used to be accepted whatever the
// decision; now each needs the decision (and fact) that allows it.
func TestDisposition_TerminalOutcomesNeedNoClearing(t *testing.T) {
	open := domain.DispositionState{ReceivedAt: received}
	cases := map[policy.Outcome]domain.Outcome{
		policy.OutcomeRejected:    domain.OutcomeRejected,
		policy.OutcomeChallenged:  domain.OutcomeChallenged,
		policy.OutcomeRedirected:  domain.OutcomeRedirected,
		policy.OutcomeWithdrawn:   domain.OutcomeWithdrawn,
		policy.OutcomeNoDataFound: domain.OutcomeNoDataDisclosed,
	}
	decisionFor := map[policy.Outcome]policy.DecisionKind{
		policy.OutcomeRejected: policy.DecisionReject, policy.OutcomeChallenged: policy.DecisionChallenge,
		policy.OutcomeRedirected: policy.DecisionRedirectToCustomer, policy.OutcomeWithdrawn: domain.DecisionNone,
		policy.OutcomeNoDataFound: policy.DecisionDisclose,
	}
	open.Redirected, open.Withdrawn = true, true
	for term, want := range cases {
		open.Decision = decisionFor[term]
		d, err := domain.RecordTerminal(open, term, received.Add(time.Hour))
		if err != nil {
			t.Fatalf("%s: %v", term, err)
		}
		if got := domain.OutcomeOf(&d); got != want {
			t.Errorf("%s counts as %s, want %s", term, got, want)
		}
	}
	// A disclosure is recorded by RecordDisclosure only, never as a terminal.
	for _, o := range []policy.Outcome{"", "undefined_9", policy.OutcomeDisclosed} {
		if _, err := domain.RecordTerminal(open, o, received); err == nil {
			t.Fatalf("terminal outcome %q accepted", o)
		}
	}
	if _, err := domain.RecordTerminal(open, policy.OutcomeRejected, received.Add(-time.Second)); err == nil {
		t.Fatal("terminal outcome dated before receipt accepted")
	}
}

func TestDisposition_ContentCategoryCountsAsContent(t *testing.T) {
	d := disclosure()
	d.Categories = append(d.Categories, domain.CategoryAttachments)
	got, err := domain.RecordDisclosure(clearedState(), d)
	if err != nil {
		t.Fatal(err)
	}
	if got.ReportOutcome() != domain.OutcomeContentDisclosed {
		t.Fatalf("outcome %s", got.ReportOutcome())
	}
	if domain.OutcomeOf(nil) != domain.OutcomePending {
		t.Fatal("no disposition is not pending")
	}
}
