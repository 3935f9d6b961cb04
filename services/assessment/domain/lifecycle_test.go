package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

func controllerFacts() domain.RequestFacts {
	f := narrowFacts()
	return f.WithCustomers([]domain.Customer{{ID: "cust-1", Role: domain.RoleController, Establishment: "DE"}})
}

// redirected is a reviewed case whose redirect decision (D1) is in effect.
func redirected(t *testing.T) *domain.Case {
	t.Helper()
	c := reviewedCase(t, controllerFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionRedirectToCustomer}, alice, t0))
	if c.State() != lifecycle.AwaitingRedirect {
		t.Fatalf("state %s, want awaiting redirect", c.State())
	}
	return c
}

func TestClause4_1_1_RedirectDeclinedReopensForANewDecision(t *testing.T) {
	c := redirected(t)
	evs := apply(t, c)(c.Reopen(domain.ReopenRedirectDeclined, "ev-declined", "", "", t0))
	if len(evs) != 1 {
		t.Fatalf("got %d events, want one CaseReopened", len(evs))
	}
	r := evs[0].(domain.CaseReopened)
	if r.SupersededDecisionID != "D1" || r.Reason == "" || r.CauseEventID != "ev-declined" {
		t.Fatalf("reopened %+v", r)
	}
	if c.State() != lifecycle.InReview || c.Status() != domain.StatusInReview || c.Decided() != nil {
		t.Fatalf("state %s status %s, want in review without a decision in effect", c.State(), c.Status())
	}
	if len(c.EarlierDecisions()) != 1 || c.EarlierDecisions()[0].Decision.ID != "D1" {
		t.Fatal("the superseded decision left the record")
	}
	// Redelivered: nothing more.
	if evs, err := c.Reopen(domain.ReopenRedirectDeclined, "ev-declined", "", "", t0); err != nil || len(evs) != 0 {
		t.Fatalf("redelivery: %v %v", evs, err)
	}
	// A new disclosure goes through four eyes again.
	weighRights(t, c)
	apply(t, c)(c.Decide(domain.Decision{ID: "D2", Kind: policy.DecisionDisclose, Basis: domain.BasisCompellingLegalObligation}, alice, t0))
	if c.Status() != domain.StatusDecisionPendingApproval {
		t.Fatalf("status %s, want the new disclosure pending approval", c.Status())
	}
	if _, err := c.Approve(alice, t0); !errors.Is(err, ddrerr.ErrPermissionDenied) {
		t.Fatalf("self-approval: %v", err)
	}
	evs = apply(t, c)(c.Approve(bob, t0))
	if d := c.Decided(); d == nil || d.Decision.ID != "D2" || len(evs) != 2 {
		t.Fatalf("D2 did not take effect: %+v", d)
	}
}

func TestClause4_1_1_RedirectAnswerWithoutARedirectInEffectReopensNothing(t *testing.T) {
	c := reviewedCase(t, controllerFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, alice, t0))
	if evs, _ := c.Reopen(domain.ReopenRedirectDeclined, "ev", "", "", t0); len(evs) != 0 {
		t.Fatal("a redirect answer reopened a rejection")
	}
}

func TestClause4_2_1_DPAObjectionReopensOnlyTheDecisionItConcerns(t *testing.T) {
	c := reviewedCase(t, controllerFacts(), domain.DefaultConfig())
	weighRights(t, c)
	apply(t, c)(c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionDisclose, Basis: domain.BasisCompellingLegalObligation}, alice, t0))
	apply(t, c)(c.Approve(bob, t0))
	if evs, _ := c.Reopen(domain.ReopenDPAObjected, "ev-old", "D0", "", t0); len(evs) != 0 {
		t.Fatal("an objection to another decision reopened the case")
	}
	evs := apply(t, c)(c.Reopen(domain.ReopenDPAObjected, "ev-obj", "D1", "", t0))
	if len(evs) != 1 || c.State() != lifecycle.InReview {
		t.Fatalf("state %s after the objection", c.State())
	}
}

func TestClause3_3_MoreInformationWaitsForTheMembersAmendment(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	if _, err := c.RequestInformation(" ", alice, t0); err == nil {
		t.Fatal("an empty question was accepted")
	}
	apply(t, c)(c.RequestInformation("Which accounts exactly?", alice, t0))
	if c.State() != lifecycle.InformationRequested || c.OpenQuestion().Text != "Which accounts exactly?" {
		t.Fatalf("state %s", c.State())
	}
	if _, err := c.Decide(domain.Decision{Kind: policy.DecisionReject, Grounds: "x"}, alice, t0); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("decide while waiting for the member: %v", err)
	}
	evs := apply(t, c)(c.Reopen(domain.ReopenAmended, "ev-amend", "", "", t0))
	if len(evs) != 1 || evs[0].(domain.CaseReopened).Trigger != domain.ReopenInformationSupplied {
		t.Fatalf("amendment gave %+v, want INFORMATION_SUPPLIED", evs)
	}
	if c.State() != lifecycle.InReview || c.OpenQuestion() != nil {
		t.Fatalf("state %s", c.State())
	}
}

func TestClause3_3_DecideRequestMoreInformationAsksInsteadOfClosing(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	evs := apply(t, c)(c.Decide(domain.Decision{Kind: policy.DecisionRequestMoreInformation, Grounds: "Which period?"}, alice, t0))
	if _, ok := evs[0].(domain.InformationRequested); !ok || c.Decided() != nil {
		t.Fatalf("got %T, want InformationRequested and no decision", evs[0])
	}
}

func TestOldRequestMoreInformationDecisionFoldsAsAQuestion(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	c.Apply(domain.CaseDecided{Meta: domain.Meta{By: alice, At: t0}, Decision: domain.Decision{ID: "old", Kind: policy.DecisionRequestMoreInformation, Grounds: "Which period?"}})
	if c.Status() != domain.StatusInformationRequested || c.OpenQuestion() == nil || c.Decided() != nil {
		t.Fatalf("status %s: an old request for information must fold as an open question", c.Status())
	}
	if evs, _ := c.Reopen(domain.ReopenAmended, "a", "", "", t0); len(evs) != 1 {
		t.Fatal("the member's amendment did not reopen it")
	}
}

func TestAmendmentAfterDisclosureReopensNothing(t *testing.T) {
	c := reviewedCase(t, controllerFacts(), domain.DefaultConfig())
	weighRights(t, c)
	apply(t, c)(c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionDisclose, Basis: domain.BasisCompellingLegalObligation}, alice, t0))
	apply(t, c)(c.Approve(bob, t0))
	c.Apply(domain.DispositionRecorded{Disclosed: true})
	if evs, _ := c.Reopen(domain.ReopenAmended, "a", "", "", t0); len(evs) != 0 {
		t.Fatal("an amendment after the disclosure reopened the case")
	}
	c.Apply(domain.RequestWithdrawn{Meta: domain.Meta{At: t0}})
	evs := apply(t, c)(c.AcknowledgeWithdrawal(carol, t0))
	if !evs[0].(domain.WithdrawalAcknowledged).AfterDisclosure || c.State() != lifecycle.Disclosed {
		t.Fatalf("state %s: a withdrawal after disclosure is recorded and undoes nothing", c.State())
	}
}

func TestWithdrawalRefusesNewDecisionsAndIsAcknowledgedOnce(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	if _, err := c.AcknowledgeWithdrawal(carol, t0); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("acknowledging nothing: %v", err)
	}
	weighRights(t, c)
	apply(t, c)(c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionDisclose, Basis: domain.BasisCompellingLegalObligation}, alice, t0))
	c.Apply(domain.RequestWithdrawn{Meta: domain.Meta{At: t0}})
	if c.Proposal() != nil || c.State() != lifecycle.WithdrawalPending {
		t.Fatalf("state %s: the pending proposal must lapse", c.State())
	}
	if _, err := c.Decide(domain.Decision{Kind: policy.DecisionReject, Grounds: "x"}, alice, t0); err == nil || !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("decide after withdrawal: %v", err)
	}
	apply(t, c)(c.AcknowledgeWithdrawal(carol, t0))
	if c.State() != lifecycle.Withdrawn || c.WithdrawalAcknowledgement().AfterDisclosure {
		t.Fatalf("state %s, want withdrawn", c.State())
	}
	if evs, err := c.AcknowledgeWithdrawal(dave, t0); err != nil || len(evs) != 0 {
		t.Fatalf("second acknowledgement: %v %v", evs, err)
	}
}

func TestCaseLinkRefusesItselfAndIsIdempotent(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	if _, err := c.Link("req-1", "same", alice, t0); err == nil {
		t.Fatal("linked to itself")
	}
	if _, err := c.Link("req-2", "", alice, t0); err == nil {
		t.Fatal("linked without a reason")
	}
	apply(t, c)(c.Link("req-2", "same warrant number", alice, t0))
	if evs, _ := c.Link("req-2", "again", bob, t0); len(evs) != 0 || len(c.Links()) != 1 {
		t.Fatal("a second link to the same request was recorded")
	}
}

func TestClause3_3_ChallengeOutcomeConfirmedReopensTheChallengeDecision(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.ConsiderChallenge(true, "overbroad", alice, t0))
	apply(t, c)(c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionChallenge, Grounds: "overbroad"}, alice, t0))
	apply(t, c)(c.ProposeChallengeOutcome(domain.ChallengeUpheld, "court narrowed it", "case 12/2026", alice, t0))
	evs := apply(t, c)(c.ConfirmChallengeOutcome(policy.Person{ID: bob, Roles: []policy.Role{policy.RoleLegal}}, t0))
	if len(evs) != 2 || evs[1].(domain.CaseReopened).Trigger != domain.ReopenChallengeOutcome || c.Decided() != nil {
		t.Fatalf("got %+v", evs)
	}
}

func approverP(id string) policy.Person {
	return policy.Person{ID: id, Roles: []policy.Role{policy.RoleApprover}}
}

func TestClause4_1_ACustomerThatStopsBeingControllerTakesASecondPerson(t *testing.T) {
	c := reviewedCase(t, controllerFacts(), domain.DefaultConfig())
	k := domain.FactCorrection{ID: "k1", CustomersSet: true, Customers: []domain.Customer{{ID: "cust-1", Role: domain.RoleNotController}}}
	evs := apply(t, c)(c.ProposeFactCorrection(k, "billing data, our own", "", alice, t0))
	p, ok := evs[0].(domain.FactCorrectionProposed)
	if !ok || len(p.Weakens) == 0 || !c.HasFlag(domain.FlagCustomerIsController) {
		t.Fatalf("a weakening correction took effect at once: %+v", evs)
	}
	// One person cannot make it take effect: not the proposer, not
	// without the approver or legal role.
	if _, err := c.ConfirmFactCorrection("k1", approverP(alice), t0); err == nil {
		t.Fatal("the proposer confirmed their own weakening correction")
	}
	if _, err := c.ConfirmFactCorrection("k1", policy.Person{ID: carol, Roles: []policy.Role{policy.RoleReviewer}}, t0); err == nil {
		t.Fatal("a reviewer confirmed a weakening correction")
	}
	apply(t, c)(c.ConfirmFactCorrection("k1", approverP(bob), t0))
	if c.HasFlag(domain.FlagCustomerIsController) || c.Facts().CustomerIsController {
		t.Fatal("the confirmed correction did not take effect")
	}
}

func TestClause4_2_1_CountryBecomingAdequateIsAWeakening(t *testing.T) {
	f := narrowFacts()
	f.AuthorityCountry, f.CountryAdequate = "XX", false
	w := domain.Weakenings(f, domain.FactCorrection{AuthorityCountry: ptr("IE"), CountryAdequate: true}.Apply(f))
	if len(w) != 1 || w[0].Clause != policy.Clause4_2_1 {
		t.Fatalf("weakenings %+v", w)
	}
}

func TestClause4_1_2_ProhibitionAddedOrExtendedIsAWeakening(t *testing.T) {
	f := narrowFacts()
	add := domain.FactCorrection{Prohibition: &domain.Gag{Present: true, Reference: "order 1", Expires: t0.AddDate(0, 1, 0)}}
	if len(domain.Weakenings(f, add.Apply(f))) != 1 {
		t.Fatal("adding a prohibition is a weakening")
	}
	g := add.Apply(f)
	ext := domain.FactCorrection{Prohibition: &domain.Gag{Present: true, Reference: "order 1", Expires: t0.AddDate(0, 2, 0)}}
	if len(domain.Weakenings(g, ext.Apply(g))) != 1 {
		t.Fatal("extending a prohibition is a weakening")
	}
	lift := domain.FactCorrection{Prohibition: &domain.Gag{}}
	if len(domain.Weakenings(g, lift.Apply(g))) != 0 {
		t.Fatal("removing a prohibition only strengthens")
	}
}

func TestClause2_1_EmergencyOrImminentRiskClaimAddedIsAWeakening(t *testing.T) {
	f := narrowFacts()
	k := domain.FactCorrection{EmergencyClaimed: ptr(true), ImminentRiskClaimed: ptr(true)}
	if len(domain.Weakenings(f, k.Apply(f))) != 2 {
		t.Fatal("adding the claims weakens two steps")
	}
}

func TestStrengtheningCorrectionTakesEffectAtOnceAndReopensADecision(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, alice, t0))
	k := domain.FactCorrection{ID: "k2", CustomersSet: true, Customers: []domain.Customer{{ID: "cust-2"}, {ID: "cust-3", Role: domain.RoleNotController}}}
	evs := apply(t, c)(c.ProposeFactCorrection(k, "the request names two customers", "", alice, t0))
	if len(evs) != 2 {
		t.Fatalf("got %d events, want FactsCorrected and CaseReopened", len(evs))
	}
	fc := evs[0].(domain.FactsCorrected)
	if len(fc.Notification.Customers) != 2 || !fc.Notification.CustomerIsController {
		t.Fatalf("requirements %+v", fc.Notification)
	}
	if evs[1].(domain.CaseReopened).Trigger != domain.ReopenFactCorrected || c.State() != lifecycle.InReview {
		t.Fatalf("state %s", c.State())
	}
	if !c.HasFlag(domain.FlagCustomerIsController) {
		t.Fatal("flags were not computed again")
	}
	if evs, _ := c.ProposeFactCorrection(k, "again", "", alice, t0.Add(time.Minute)); len(evs) != 0 {
		t.Fatal("a correction id was applied twice")
	}
}

func TestClause4_1_FlagConsidersEveryCustomer(t *testing.T) {
	f := narrowFacts().WithCustomers([]domain.Customer{{ID: "a", Role: domain.RoleNotController}, {ID: "b"}})
	c := openCase(t, f, domain.DefaultConfig())
	if !c.HasFlag(domain.FlagCustomerIsController) {
		t.Fatal("the second customer, of unknown role, reads as controller")
	}
}

func ptr[T any](v T) *T { return &v }

// A question, a link's reason and a correction's reason must say something
// and are capped: blank or one character over, each is refused on its own
// field; at the cap it is taken.
func TestFreeTextIsRequiredAndCapped(t *testing.T) {
	k := domain.FactCorrection{ID: "k1", EmergencyClaimed: ptr(false)}
	for _, tc := range []struct {
		field string
		most  int
		try   func(c *domain.Case, text string) ([]domain.Event, error)
	}{
		{"question", domain.MaxQuestion, func(c *domain.Case, s string) ([]domain.Event, error) { return c.RequestInformation(s, alice, t0) }},
		{"reason", domain.MaxLinkReason, func(c *domain.Case, s string) ([]domain.Event, error) { return c.Link("req-2", s, alice, t0) }},
		{"reason", domain.MaxCorrectionReason, func(c *domain.Case, s string) ([]domain.Event, error) {
			return c.ProposeFactCorrection(k, s, "", alice, t0)
		}},
	} {
		c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
		for _, bad := range []string{" ", strings.Repeat("é", tc.most+1)} {
			_, err := tc.try(c, bad)
			var ve *ddrerr.ValidationError
			if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Field != tc.field {
				t.Errorf("%s of %d characters: got %v, want one violation of %s", tc.field, len([]rune(bad)), err, tc.field)
			}
		}
		if evs, err := tc.try(c, strings.Repeat("é", tc.most)); err != nil || len(evs) == 0 {
			t.Errorf("%s at the cap: %v %v", tc.field, evs, err)
		}
	}
}
