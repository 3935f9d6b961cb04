package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

func TestWithdrawnRequestAcceptsNoDecision(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	c.Apply(domain.RequestWithdrawn{Meta: domain.Meta{At: t0}})
	if c.Status() != domain.StatusWithdrawn {
		t.Fatalf("status %s, want withdrawn", c.Status())
	}
	_, err := c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0)
	if !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("decide on a withdrawn case: got %v, want a failed precondition", err)
	}
	if c.Overdue(t0.AddDate(0, 1, 0)) {
		t.Fatal("a withdrawn case is not overdue")
	}
}

func TestWithdrawalVoidsPendingDisclosure(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0))
	c.Apply(domain.RequestWithdrawn{Meta: domain.Meta{At: t0}})
	if c.Proposal() != nil {
		t.Fatal("the pending disclosure survived the withdrawal")
	}
	if _, err := c.Approve(bob, t0); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("approve after withdrawal: got %v, want a failed precondition", err)
	}
}

func TestWithdrawalAfterDecisionKeepsTheDecision(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(domain.Decision{Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, alice, t0))
	at := t0.Add(time.Hour)
	c.Apply(domain.RequestWithdrawn{Meta: domain.Meta{At: at}})
	if c.Status() != domain.StatusDecided || c.Decided() == nil {
		t.Fatalf("status %s, want the decision to stand", c.Status())
	}
	if !c.WithdrawnAt().Equal(at) {
		t.Fatalf("withdrawn at %v, want %v", c.WithdrawnAt(), at)
	}
}
