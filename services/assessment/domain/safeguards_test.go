package domain_test

import (
	"testing"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

var (
	bobApprover = policy.Person{ID: bob, Roles: []policy.Role{policy.RoleApprover}}
	carolLegal  = policy.Person{ID: carol, Roles: []policy.Role{policy.RoleLegal}}
	daveLegal   = policy.Person{ID: dave, Roles: []policy.Role{policy.RoleLegal}}
)

func TestClause2_1_UnclaimedImminentRiskNeedsAJustificationAndALegalApprover(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig()) // the authority claimed no risk
	weighRights(t, c)
	_, err := c.Decide(disclose(domain.BasisImminentRisk), alice, t0)
	wantPolicy(t, err, "2.1", domain.RuleImminentRiskNotJustified)
	apply(t, c)(c.JustifyImminentRisk("hostage held, police on scene", alice, t0))
	apply(t, c)(c.Decide(disclose(domain.BasisImminentRisk), alice, t0))
	verified(t, c)
	_, err = c.ApproveAs(bobApprover, t0)
	wantPolicy(t, err, "2.1", domain.RuleLegalApproverRequired)
	evs := apply(t, c)(c.ApproveAs(carolLegal, t0))
	d, ok := evs[len(evs)-1].(domain.CaseDecided)
	if !ok || d.Notification.ImminentRiskJustification == "" {
		t.Fatalf("events %v: the justification must reach notification as the risk finding", evs)
	}
}

func TestClause2_1_CompellingObligationWithoutLegalProcessNeedsAStatuteAndALegalApprover(t *testing.T) {
	f := narrowFacts()
	f.LegalProcess = "none"
	c := reviewedCase(t, f, domain.DefaultConfig())
	_, err := c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0)
	wantPolicy(t, err, "2.1", domain.RuleStatuteNotCited)
	d := disclose(domain.BasisCompellingLegalObligation)
	d.Statute = "Telecommunications Act s. 100"
	apply(t, c)(c.Decide(d, alice, t0))
	_, err = c.Approve(bob, t0) // roles unknown: not legal
	wantPolicy(t, err, "2.1", domain.RuleLegalApproverRequired)
	apply(t, c)(c.ApproveAs(carolLegal, t0))
	if c.Status() != domain.StatusDecided {
		t.Fatalf("status %s", c.Status())
	}
}

func TestClause3_3_WarrantedChallengeRefusesDisclosureUntilItsOutcomeIsConfirmed(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Claim(alice, t0))
	recordFactors(t, c, domain.AllFactors()...)
	apply(t, c)(c.ConsiderChallenge(true, "the order is overbroad", alice, t0))
	_, err := c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0)
	wantPolicy(t, err, "3.3", domain.RuleChallengeUnresolved)
	// One person cannot un-warrant it.
	_, err = c.ConsiderChallenge(false, "changed my mind", alice, t0)
	wantPolicy(t, err, "3.3", domain.RuleChallengeStillWarranted)

	_, err = c.ProposeChallengeOutcome(domain.ChallengeDismissed, "court dismissed", "", alice, t0)
	wantInvalid(t, err)
	apply(t, c)(c.ProposeChallengeOutcome(domain.ChallengeDismissed, "court dismissed the motion", "case 12/2026", alice, t0))
	// Recorded once; a redelivery is a no-op.
	if evs := apply(t, c)(c.ProposeChallengeOutcome(domain.ChallengeDismissed, "court dismissed the motion", "case 12/2026", alice, t0)); len(evs) != 0 {
		t.Fatalf("redelivered proposal: %v", evs)
	}
	_, err = c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0)
	wantPolicy(t, err, "3.3", domain.RuleChallengeUnresolved)
	_, err = c.ConfirmChallengeOutcome(policy.Person{ID: alice, Roles: []policy.Role{policy.RoleLegal}}, t0)
	wantPolicy(t, err, "3.3", policy.RuleLiftSelfConfirm)
	_, err = c.ConfirmChallengeOutcome(bobApprover, t0)
	wantPolicy(t, err, "3.3", policy.RuleLiftConfirmerRole)
	apply(t, c)(c.ConfirmChallengeOutcome(carolLegal, t0))
	_, err = c.ConfirmChallengeOutcome(daveLegal, t0)
	wantPolicy(t, err, "3.3", policy.RuleLiftAlreadyConfirmed)
	apply(t, c)(c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0))
}

func TestClause3_3_UpheldChallengeAllowsOnlyARejectOrANarrowerDecision(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Claim(alice, t0))
	recordFactors(t, c, domain.AllFactors()...)
	apply(t, c)(c.ConsiderChallenge(true, "overbroad", alice, t0))
	apply(t, c)(c.Decide(domain.Decision{Kind: policy.DecisionChallenge, Grounds: "overbroad"}, alice, t0))
	apply(t, c)(c.ProposeChallengeOutcome(domain.ChallengeUpheld, "court narrowed the order to one account", "case 13/2026", alice, t0))
	apply(t, c)(c.ConfirmChallengeOutcome(carolLegal, t0))
	if c.Status() != domain.StatusInReview {
		t.Fatalf("after the challenge outcome the case is %s, want back in review", c.Status())
	}
	_, err := c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0)
	wantPolicy(t, err, "3.3", domain.RuleChallengeUpheld)
	narrower := disclose(domain.BasisCompellingLegalObligation)
	narrower.Narrowing = &domain.Narrowing{TargetIDs: []string{"t1"}}
	apply(t, c)(c.Decide(narrower, alice, t0))
}

func TestClause6_1_AScopeDescriptionCountsEvenWhenTargetsAreListed(t *testing.T) {
	f := narrowFacts() // two listed targets
	f.ScopeDescribed = true
	c := reviewedCase(t, f, domain.DefaultConfig())
	if !c.HasFlag(domain.FlagBulkScope) {
		t.Fatal("\"two accounts and everyone who contacted them\" raised no bulk flag")
	}
	_, err := c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0)
	wantPolicy(t, err, "6.1", domain.RuleBulkDisclosure)
	named := disclose(domain.BasisCompellingLegalObligation)
	named.Narrowing = &domain.Narrowing{TargetIDs: []string{"t1", "t2"}}
	apply(t, c)(c.Decide(named, alice, t0))
}

func TestClause3_3_WhoConfirmedTheChallengeOutcomeCannotProposeTheDisclosure(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Claim(alice, t0))
	recordFactors(t, c, domain.AllFactors()...)
	apply(t, c)(c.ConsiderChallenge(true, "overbroad", alice, t0))
	apply(t, c)(c.ProposeChallengeOutcome(domain.ChallengeDismissed, "dismissed", "case 14", carol, t0))
	apply(t, c)(c.ConfirmChallengeOutcome(policy.Person{ID: alice, Roles: []policy.Role{policy.RoleReviewer, policy.RoleLegal}}, t0))
	_, err := c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0)
	wantPolicy(t, err, "3.3", policy.RuleLiftBarredConfirmer)
}
