package domain_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

var allCategories = []domain.DataCategory{domain.CategorySubscriber, domain.CategoryAccessLogs, domain.CategoryMetadata, domain.CategoryContent, domain.CategoryAttachments}

func randCategories(r *rand.Rand) []domain.DataCategory {
	var out []domain.DataCategory
	for _, c := range allCategories {
		if r.IntN(3) == 0 {
			out = append(out, c)
		}
	}
	return out
}

// TestProperty_TheRecordNeverExceedsOrContradictsTheDecision drives a
// request's fold through random decisions, clearances, withdrawals and
// disposition attempts; an oracle written from the policy checks every
// accepted disposition.
func TestProperty_TheRecordNeverExceedsOrContradictsTheDecision(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 15))
	accepted := 0
	for run := range 4000 {
		f := receivedFold("subpoena")
		var decision policy.DecisionKind
		var approved domain.ApprovedScope
		cleared, withdrawn, redirected := false, false, false
		now := foldT0
		for range 12 {
			now = now.Add(time.Duration(r.IntN(48)) * time.Hour)
			switch r.IntN(7) {
			case 0:
				decision = append(policy.DecisionKinds(), domain.DecisionNone)[r.IntN(6)]
				approved = domain.ApprovedScope{Accounts: r.IntN(4), Categories: randCategories(r)}
				f.DecideScope(decision, approved)
			case 1:
				f.ClearAdequate(now, true)
				cleared = true
			case 2:
				f.RevokeClearance()
				cleared = false
			case 3:
				f.Withdraw()
				withdrawn = true
			case 4:
				f.Redirect()
				redirected = true
			case 5:
				d := domain.Disclosure{Categories: randCategories(r), Accounts: r.IntN(6), Date: now, Means: domain.DeliverySecurePortal}
				if len(d.Categories) == 0 {
					d.Categories = []domain.DataCategory{domain.CategoryContent}
				}
				disp, err := domain.RecordDisclosure(f.DispositionState(), d)
				if err != nil {
					continue
				}
				accepted++
				var bad []string
				if decision != policy.DecisionDisclose {
					bad = append(bad, "disclosure without a disclose decision")
				}
				if !cleared {
					bad = append(bad, "disclosure before clearance")
				}
				if withdrawn {
					bad = append(bad, "disclosure after the withdrawal")
				}
				if d.Accounts > approved.Accounts {
					bad = append(bad, fmt.Sprintf("%d accounts > approved %d", d.Accounts, approved.Accounts))
				}
				for _, c := range d.Categories {
					if !slices.Contains(approved.Categories, c) {
						bad = append(bad, "category "+string(c)+" not approved")
					}
				}
				if len(bad) > 0 {
					t.Fatalf("run %d: accepted %+v: %v", run, disp, bad)
				}
				f.Dispose(disp)
			case 6:
				o := terminalOutcomes[r.IntN(len(terminalOutcomes))]
				disp, err := domain.RecordTerminal(f.DispositionState(), o, now)
				if err != nil {
					continue
				}
				accepted++
				want := map[policy.Outcome]bool{
					policy.OutcomeRejected:    decision == policy.DecisionReject,
					policy.OutcomeChallenged:  decision == policy.DecisionChallenge,
					policy.OutcomeRedirected:  decision == policy.DecisionRedirectToCustomer && redirected,
					policy.OutcomeWithdrawn:   withdrawn,
					policy.OutcomeNoDataFound: decision == policy.DecisionDisclose,
				}
				if !want[o] {
					t.Fatalf("run %d: %s recorded after decision %q (withdrawn %v, redirected %v)", run, o, decision, withdrawn, redirected)
				}
				f.Dispose(disp)
			}
		}
	}
	if accepted < 500 {
		t.Fatalf("generator too weak: %d dispositions accepted", accepted)
	}
	t.Logf("%d dispositions accepted", accepted)
}

// terminalOutcomes are the ends RecordTerminal may record.
var terminalOutcomes = []policy.Outcome{policy.OutcomeRejected, policy.OutcomeChallenged, policy.OutcomeRedirected, policy.OutcomeWithdrawn, policy.OutcomeNoDataFound}
