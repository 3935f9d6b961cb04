package domain_test

import (
	"testing"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// erased is the case after intake recorded the erasure of its targets.
func erased(t *testing.T, c *domain.Case) *domain.Case {
	t.Helper()
	c.Apply(domain.TargetsErased{Meta: domain.Meta{At: t0}})
	return c
}

// rejected is a reviewed case naming a controller customer, rejected: the
// one end the table lets an amendment or a corrected fact reopen.
func rejected(t *testing.T) *domain.Case {
	t.Helper()
	c := reviewedCase(t, controllerFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, alice, t0))
	return c
}

// challenged is a reviewed case whose challenge decision is in effect with
// an outcome proposed; the request ended as challenged (reporting's
// disposition), which leaves the case challenging.
func challenged(t *testing.T) *domain.Case {
	t.Helper()
	c := reviewedCase(t, controllerFacts(), domain.DefaultConfig())
	apply(t, c)(c.ConsiderChallenge(true, "overbroad", alice, t0))
	apply(t, c)(c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionChallenge, Grounds: "overbroad"}, alice, t0))
	apply(t, c)(c.ProposeChallengeOutcome(domain.ChallengeUpheld, "court narrowed it", "case 12/2026", alice, t0))
	c.Apply(domain.DispositionRecorded{})
	return c
}

// Clause 4.1.2 (and 4.1.1): once the targets are erased, the customers in
// the case's facts are gone with them; a cause that would send the ended
// case back to review is refused with TARGETS_ERASED (the reactor
// dead-letters it), and nothing moves. Before the erasure the same cause
// reopens it, so the refusal is the erasure's.
func TestClause4_1_2_AnErasedCaseIsNotReopened(t *testing.T) {
	if evs, err := rejected(t).Reopen(domain.ReopenAmended, "amended-1", "", "", t0); err != nil || len(evs) != 1 {
		t.Fatalf("before the erasure an amendment reopens a rejection: %v, %v", evs, err)
	}
	c := erased(t, rejected(t))
	evs, err := c.Reopen(domain.ReopenAmended, "amended-1", "", "", t0)
	wantPolicy(t, err, "4.1.2", domain.RuleTargetsErased)
	if len(evs) != 0 || c.State() != lifecycle.Rejected {
		t.Fatalf("got %v, state %s; want nothing, rejected", evs, c.State())
	}
	// A cause the table gives no way back from the end reopens nothing,
	// erased or not: nothing to refuse.
	if evs, err := c.Reopen(domain.ReopenRedirectDeclined, "declined-1", "", "", t0); err != nil || len(evs) != 0 {
		t.Fatalf("a redirect answer on a rejection: %v, %v; want nothing", evs, err)
	}
}

// Clause 4.1.2: no fact of an erased case is corrected, proposed or
// confirmed: a correction re-derives flags and notification requirements
// from facts whose customers are gone, and reopens a rejection.
func TestClause4_1_2_AnErasedCaseTakesNoFactCorrection(t *testing.T) {
	c := rejected(t)
	weak := domain.FactCorrection{ID: "k1", CustomersSet: true, Customers: []domain.Customer{{ID: "cust-1", Role: domain.RoleNotController}}}
	apply(t, c)(c.ProposeFactCorrection(weak, "billing data, our own", "", alice, t0))
	erased(t, c)
	_, err := c.ConfirmFactCorrection("k1", approverP(bob), t0)
	wantPolicy(t, err, "4.1.2", domain.RuleTargetsErased)
	_, err = c.ProposeFactCorrection(domain.FactCorrection{ID: "k2", EmergencyClaimed: ptr(false)}, "no emergency was claimed", "", alice, t0)
	wantPolicy(t, err, "4.1.2", domain.RuleTargetsErased)
	if c.State() != lifecycle.Rejected || len(c.Reopenings()) != 0 {
		t.Fatalf("state %s with %d reopenings, want rejected with none", c.State(), len(c.Reopenings()))
	}
}

// Clause 4.1.2: a challenge's outcome, which sends a challenge decision
// back to review even after the request ended as challenged, is neither
// proposed nor confirmed once the targets are erased.
func TestClause4_1_2_AnErasedCaseTakesNoChallengeOutcome(t *testing.T) {
	legal := policy.Person{ID: bob, Roles: []policy.Role{policy.RoleLegal}}
	if evs, err := challenged(t).ConfirmChallengeOutcome(legal, t0); err != nil || len(evs) != 2 {
		t.Fatalf("before the erasure the confirmed outcome reopens the ended challenge: %v, %v", evs, err)
	}
	c := erased(t, challenged(t))
	_, err := c.ConfirmChallengeOutcome(legal, t0)
	wantPolicy(t, err, "4.1.2", domain.RuleTargetsErased)
	_, err = c.ProposeChallengeOutcome(domain.ChallengeDismissed, "court dismissed it", "case 13/2026", alice, t0)
	wantPolicy(t, err, "4.1.2", domain.RuleTargetsErased)
	if c.State() != lifecycle.Challenging || len(c.Reopenings()) != 0 {
		t.Fatalf("state %s with %d reopenings, want challenging with none", c.State(), len(c.Reopenings()))
	}
}
