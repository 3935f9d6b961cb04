package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// t0 is a Monday morning.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	alice = "spiffe://ddr.local/staff/alice"
	bob   = "spiffe://ddr.local/staff/bob"
	carol = "spiffe://ddr.local/staff/carol"
	dave  = "spiffe://ddr.local/staff/dave"
	sys   = "spiffe://ddr.local/service/assessment"
)

// narrowFacts is a targeted, bounded request from an adequate country: it
// raises no flag.
func narrowFacts() domain.RequestFacts {
	return domain.RequestFacts{
		RequestID:        "req-1",
		ReceivedAt:       t0.Add(-time.Hour),
		AuthorityKind:    "police",
		AuthorityCountry: "IE",
		CountryAdequate:  true,
		LegalProcess:     "production_order",
		TargetCount:      2,
		TargetIDs:        []string{"t1", "t2"},
		DataCategories:   []string{"subscriber_info", "content"},
		TimeRange:        domain.TimeRange{From: t0.AddDate(0, -1, 0), To: t0},
	}
}

// do applies the events of a command that must succeed.
func do(t *testing.T, c *domain.Case, evs []domain.Event, err error) []domain.Event {
	t.Helper()
	if err != nil {
		t.Fatalf("command refused: %v", err)
	}
	for _, e := range evs {
		c.Apply(e)
	}
	return evs
}

// apply returns a function taking a command's results, so a call reads
// apply(t, c)(c.Claim(alice, t0)).
func apply(t *testing.T, c *domain.Case) func([]domain.Event, error) []domain.Event {
	return func(evs []domain.Event, err error) []domain.Event {
		t.Helper()
		return do(t, c, evs, err)
	}
}

func openCase(t *testing.T, f domain.RequestFacts, cfg domain.Config) *domain.Case {
	t.Helper()
	c := &domain.Case{}
	evs, err := c.Open(f, cfg, sys, t0)
	do(t, c, evs, err)
	return c
}

// reviewedCase is claimed by alice with all six factors recorded and a
// challenge considered; rights are not weighed.
func reviewedCase(t *testing.T, f domain.RequestFacts, cfg domain.Config) *domain.Case {
	t.Helper()
	c := openCase(t, f, cfg)
	evs, err := c.Claim(alice, t0)
	do(t, c, evs, err)
	recordFactors(t, c, domain.AllFactors()...)
	evs, err = c.ConsiderChallenge(false, "the order is valid on its face", alice, t0)
	do(t, c, evs, err)
	return c
}

func recordFactors(t *testing.T, c *domain.Case, fs ...domain.Factor) {
	t.Helper()
	for _, f := range fs {
		evs, err := c.RecordFactor(f, "assessed: "+string(f), alice, t0)
		do(t, c, evs, err)
	}
}

func weighRights(t *testing.T, c *domain.Case) {
	t.Helper()
	evs, err := c.WeighRights("the risk to life outweighs the intrusion on two accounts", alice, t0)
	do(t, c, evs, err)
}

// wantPolicy fails unless err is a policy refusal for clause and rule.
func wantPolicy(t *testing.T, err error, clause, rule string) {
	t.Helper()
	var pv *ddrerr.PolicyViolation
	if !errors.As(err, &pv) {
		t.Fatalf("got %v, want a policy violation of clause %s (%s)", err, clause, rule)
	}
	if pv.Clause != clause || pv.Rule != rule {
		t.Fatalf("got clause %s rule %s (%s), want clause %s rule %s", pv.Clause, pv.Rule, pv.Reason, clause, rule)
	}
	if !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("policy refusal %v does not match ErrFailedPrecondition", err)
	}
}

func wantInvalid(t *testing.T, err error) {
	t.Helper()
	var ve *ddrerr.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a validation error", err)
	}
}

func intp(n int) *int { return &n }

func disclose(basis domain.LegalBasis) domain.Decision {
	return domain.Decision{Kind: policy.DecisionDisclose, Basis: basis}
}
