package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

func proposedDisclosure(t *testing.T, f domain.RequestFacts, cfg domain.Config) *domain.Case {
	t.Helper()
	c := reviewedCase(t, f, cfg)
	apply(t, c)(c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0))
	return c
}

func TestFourEyes_ProposerCannotApproveOwnDisclosure(t *testing.T) {
	c := proposedDisclosure(t, narrowFacts(), domain.DefaultConfig())
	_, err := c.Approve(alice, t0)
	if !errors.Is(err, ddrerr.ErrPermissionDenied) {
		t.Fatalf("self-approval: %v, want ErrPermissionDenied", err)
	}
	if c.Status() != domain.StatusDecisionPendingApproval || c.Decided() != nil {
		t.Fatal("self-approval changed the case")
	}
}

func TestFourEyes_SecondPersonApprovalTakesEffect(t *testing.T) {
	c := proposedDisclosure(t, narrowFacts(), domain.DefaultConfig())
	evs := apply(t, c)(c.Approve(bob, t0.Add(time.Minute)))
	if len(evs) != 2 || evs[0].EventName() != "DecisionApproved" || evs[1].EventName() != "CaseDecided" {
		t.Fatalf("events %v, want DecisionApproved then CaseDecided", evs)
	}
	d := c.Decided()
	if c.Status() != domain.StatusDecided || d.DecidedBy != alice || len(d.ApprovedBy) != 1 || d.ApprovedBy[0] != bob {
		t.Fatalf("decided %+v status %s", d, c.Status())
	}
}

func TestFourEyes_EmergencyIsFastButStillNeedsTwoPeople(t *testing.T) {
	f := narrowFacts()
	f.EmergencyClaimed = true
	c := proposedDisclosure(t, f, domain.DefaultConfig())
	if due := c.ReviewDue(); !due.Equal(t0.Add(time.Hour)) {
		t.Errorf("emergency review due %v, want one hour after opening", due)
	}
	if c.Status() != domain.StatusDecisionPendingApproval {
		t.Fatalf("emergency disclosure status %s, want pending approval", c.Status())
	}
	if _, err := c.Approve(alice, t0); !errors.Is(err, ddrerr.ErrPermissionDenied) {
		t.Fatalf("emergency self-approval: %v", err)
	}
	verified(t, c)
	apply(t, c)(c.Approve(bob, t0))
	if c.Status() != domain.StatusDecided {
		t.Fatalf("status %s", c.Status())
	}
}

func TestFourEyes_ExtraApprovalNeedsAnotherPerson(t *testing.T) {
	cfg := domain.DefaultConfig()
	cfg.Overlays = []domain.Overlay{{Name: "two-approvers", Jurisdictions: []string{"IE"}, ExtraApprovals: 1}}
	c := proposedDisclosure(t, narrowFacts(), cfg)
	apply(t, c)(c.Approve(bob, t0))
	if _, err := c.Approve(bob, t0); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("second approval by the same person: %v", err)
	}
	if c.Status() != domain.StatusDecisionPendingApproval {
		t.Fatalf("status %s after one of two approvals", c.Status())
	}
	apply(t, c)(c.Approve(carol, t0))
	if got := c.Decided().ApprovedBy; len(got) != 2 {
		t.Fatalf("approved by %v", got)
	}
}

func TestFourEyes_RejectedProposalReturnsToReview(t *testing.T) {
	c := proposedDisclosure(t, narrowFacts(), domain.DefaultConfig())
	if _, err := c.RejectProposal("not my own", alice, t0); !errors.Is(err, ddrerr.ErrPermissionDenied) {
		t.Fatalf("proposer rejecting: %v", err)
	}
	_, err := c.RejectProposal("", bob, t0)
	wantInvalid(t, err)
	apply(t, c)(c.RejectProposal("narrow it to one account", bob, t0))
	if c.Status() != domain.StatusInReview || c.Proposal() != nil {
		t.Fatalf("status %s proposal %v", c.Status(), c.Proposal())
	}
	if _, err := c.Approve(bob, t0); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("approving a rejected proposal: %v", err)
	}
}

func TestReviewIsFrozenWhileApprovalPending(t *testing.T) {
	c := proposedDisclosure(t, narrowFacts(), domain.DefaultConfig())
	var te *domain.TransitionError
	if _, err := c.RecordFactor(domain.FactorScope, "changed my mind", alice, t0); !errors.As(err, &te) {
		t.Fatalf("editing the review under approval: %v", err)
	}
}

func TestNonDisclosingDecisionTakesEffectAtOnce(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	evs := apply(t, c)(c.Decide(domain.Decision{Kind: policy.DecisionChallenge, Grounds: "overbroad"}, alice, t0))
	if len(evs) != 1 || evs[0].EventName() != "CaseDecided" || c.Status() != domain.StatusDecided {
		t.Fatalf("events %v status %s", evs, c.Status())
	}
	if n := c.Decided().Notification; n.Scope != nil || n.Outcome != policy.DecisionChallenge {
		t.Fatalf("notification %+v, want no scope for a challenge", n)
	}
}

func TestDecisionShapeIsValidated(t *testing.T) {
	tests := []struct {
		name string
		d    domain.Decision
	}{
		{"unknown kind", domain.Decision{Kind: "shrug"}},
		{"challenge without grounds", domain.Decision{Kind: policy.DecisionChallenge}},
		{"reject without grounds", domain.Decision{Kind: policy.DecisionReject, Grounds: "  "}},
		{"more information without saying what", domain.Decision{Kind: policy.DecisionRequestMoreInformation}},
		{"basis on a rejection", domain.Decision{Kind: policy.DecisionReject, Grounds: "x", Basis: domain.BasisImminentRisk}},
		{"narrowing on a challenge", domain.Decision{Kind: policy.DecisionChallenge, Grounds: "x", Narrowing: &domain.Narrowing{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
			_, err := c.Decide(tt.d, alice, t0)
			wantInvalid(t, err)
		})
	}
}

func TestOnlyTheAssigneeDecides(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	if _, err := c.Decide(domain.Decision{Kind: policy.DecisionReject, Grounds: "x"}, bob, t0); !errors.Is(err, ddrerr.ErrPermissionDenied) {
		t.Fatalf("decision by a non-assignee: %v", err)
	}
	unassigned := openCase(t, narrowFacts(), domain.DefaultConfig())
	recordFactors(t, unassigned, domain.AllFactors()...)
	if _, err := unassigned.Decide(domain.Decision{Kind: policy.DecisionReject, Grounds: "x"}, alice, t0); !errors.Is(err, ddrerr.ErrPermissionDenied) {
		t.Fatalf("decision on an unassigned case: %v", err)
	}
}

func TestClaimAndAssign(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	if c.Status() != domain.StatusOpen {
		t.Fatalf("new case status %s", c.Status())
	}
	apply(t, c)(c.Claim(alice, t0))
	if c.Assignee() != alice || c.Status() != domain.StatusInReview {
		t.Fatalf("after claim: %s %s", c.Assignee(), c.Status())
	}
	if evs, err := c.Claim(alice, t0); err != nil || len(evs) != 0 {
		t.Fatalf("claiming one's own case again: %v %v", evs, err)
	}
	if _, err := c.Claim(bob, t0); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("claiming a colleague's case: %v", err)
	}
	apply(t, c)(c.Assign(bob, carol, t0))
	if c.Assignee() != bob {
		t.Fatalf("assignee %s after explicit assignment", c.Assignee())
	}
	_, err := c.Assign("", carol, t0)
	wantInvalid(t, err)
}

func TestDecidedCaseRefusesEveryCommand(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(domain.Decision{Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, alice, t0))
	cmds := map[string]func() ([]domain.Event, error){
		"decide": func() ([]domain.Event, error) {
			return c.Decide(domain.Decision{Kind: policy.DecisionChallenge, Grounds: "x"}, alice, t0)
		},
		"approve":   func() ([]domain.Event, error) { return c.Approve(bob, t0) },
		"reject":    func() ([]domain.Event, error) { return c.RejectProposal("x", bob, t0) },
		"factor":    func() ([]domain.Event, error) { return c.RecordFactor(domain.FactorNature, "x", alice, t0) },
		"rights":    func() ([]domain.Event, error) { return c.WeighRights("x", alice, t0) },
		"counsel":   func() ([]domain.Event, error) { return c.RecordCounsel(domain.CounselOutside, t0, "x", alice, t0) },
		"claim":     func() ([]domain.Event, error) { return c.Claim(bob, t0) },
		"assign":    func() ([]domain.Event, error) { return c.Assign(bob, alice, t0) },
		"challenge": func() ([]domain.Event, error) { return c.ConsiderChallenge(true, "x", alice, t0) },
	}
	for name, cmd := range cmds {
		t.Run(name, func(t *testing.T) {
			var te *domain.TransitionError
			if _, err := cmd(); !errors.As(err, &te) || !errors.Is(err, ddrerr.ErrFailedPrecondition) {
				t.Fatalf("%s on a decided case: %v, want a TransitionError", name, err)
			}
		})
	}
}

// Two reviewers decide from the same state; the store appends the first,
// the second reloads and is refused (the app retries on conflict).
func TestConflictingDecisionsOnlyOneWins(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	first, err1 := c.Decide(domain.Decision{Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, alice, t0)
	second, err2 := c.Decide(domain.Decision{Kind: policy.DecisionChallenge, Grounds: "overbroad"}, alice, t0)
	if err1 != nil || err2 != nil || len(first) == 0 || len(second) == 0 {
		t.Fatalf("both should be valid on the shared state: %v %v", err1, err2)
	}
	do(t, c, first, nil)
	if _, err := c.Decide(domain.Decision{Kind: policy.DecisionChallenge, Grounds: "overbroad"}, alice, t0); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("second decision after reload: %v", err)
	}
	if got := c.Decided().Decision.Kind; got != policy.DecisionReject {
		t.Fatalf("decision %s, want the first", got)
	}
}

func TestFoldReplaysToTheSameState(t *testing.T) {
	var log []domain.Event
	c := &domain.Case{}
	record := func(evs []domain.Event, err error) {
		t.Helper()
		log = append(log, do(t, c, evs, err)...)
	}
	record(c.Open(narrowFacts(), domain.DefaultConfig(), sys, t0))
	record(c.Claim(alice, t0))
	for _, f := range domain.AllFactors() {
		record(c.RecordFactor(f, "ok", alice, t0))
	}
	record(c.ConsiderChallenge(false, "valid order", alice, t0))
	record(c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0))
	record(c.Approve(bob, t0))

	r := domain.Fold(log...)
	if r.Status() != c.Status() || r.Version() != len(log) || r.Decided().DecidedBy != alice || len(r.Review().Factors) != 6 {
		t.Fatalf("replayed %s v%d, want %s v%d", r.Status(), r.Version(), c.Status(), len(log))
	}
}
