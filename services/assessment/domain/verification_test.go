package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// verification records a call back through a directory contact.
func verification(o domain.VerificationOutcome) domain.VerificationInput {
	return domain.VerificationInput{AuthorityID: "ie-garda", ChannelID: "phone:35316660000", Channel: "phone", Outcome: o, IncidentID: "inc-1"}
}

// verified records carol's confirmed verification of the requester.
func verified(t *testing.T, c *domain.Case) {
	t.Helper()
	evs, err := c.RecordVerification(verification(domain.VerificationConfirmed), carol, t0)
	do(t, c, evs, err)
}

// unverifiedEmergency is an emergency case opened with the directory's
// finding that the sender is not on the authority's known domain.
func unverifiedEmergency(t *testing.T) *domain.Case {
	t.Helper()
	f := narrowFacts()
	f.EmergencyClaimed, f.ImminentRiskClaimed = true, true
	c := openCase(t, f, domain.DefaultConfig())
	c.Apply(domain.RequesterChecked{AuthorityID: "ie-garda", Reason: "the sender's email domain is not a known email domain of ie-garda"})
	return c
}

// proposeImminent takes c through review to a pending imminent-risk
// disclosure proposed by alice.
func proposeImminent(t *testing.T, c *domain.Case) {
	t.Helper()
	apply(t, c)(c.Claim(alice, t0))
	recordFactors(t, c, domain.AllFactors()...)
	apply(t, c)(c.ConsiderChallenge(false, "valid on its face", alice, t0))
	weighRights(t, c)
	apply(t, c)(c.Decide(disclose(domain.BasisImminentRisk), alice, t0))
}

// 2.1 / issue 18: an emergency disclosure can be proposed at once (speed
// matters), but it takes effect only once a person verified the request
// through the directory and recorded it as confirmed. "Could not reach the
// authority" keeps it blocked.
func TestClause2_1_EmergencyDisclosureWaitsForAConfirmedVerification(t *testing.T) {
	c := unverifiedEmergency(t)
	proposeImminent(t, c)
	_, err := c.Approve(bob, t0)
	wantPolicy(t, err, "2.1", domain.RuleRequesterNotVerified)
	var pv *ddrerr.PolicyViolation
	if errors.As(err, &pv) && !containsAll(pv.Reason, "authority directory", "email domain is not a known") {
		t.Errorf("explanation %q does not say why", pv.Reason)
	}

	apply(t, c)(c.RecordVerification(verification(domain.VerificationUnreachable), carol, t0))
	_, err = c.Approve(bob, t0)
	wantPolicy(t, err, "2.1", domain.RuleRequesterNotVerified)
	if errors.As(err, &pv) && !containsAll(pv.Reason, "could not be reached") {
		t.Errorf("explanation %q does not say the authority was unreachable", pv.Reason)
	}

	verified(t, c)
	apply(t, c)(c.Approve(bob, t0))
	if c.Status() != domain.StatusDecided {
		t.Fatalf("status %s after a confirmed verification, want decided", c.Status())
	}
}

// 2.1: the gate holds for a verified sender too (a compromised account
// sends from the right domain), and for any imminent-risk basis.
func TestClause2_1_ImminentRiskDisclosureNeedsVerificationEvenFromAKnownSender(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	c.Apply(domain.RequesterChecked{AuthorityID: "ie-garda", Verified: true})
	apply(t, c)(c.Claim(alice, t0))
	recordFactors(t, c, domain.AllFactors()...)
	apply(t, c)(c.ConsiderChallenge(false, "valid on its face", alice, t0))
	weighRights(t, c)
	apply(t, c)(c.JustifyImminentRisk("credible threat", alice, t0))
	apply(t, c)(c.Decide(disclose(domain.BasisImminentRisk), alice, t0))
	_, err := c.ApproveAs(daveLegal, t0)
	wantPolicy(t, err, "2.1", domain.RuleRequesterNotVerified)
	verified(t, c)
	apply(t, c)(c.ApproveAs(daveLegal, t0))
}

// A non-emergency disclosure on a legal obligation needs no call back,
// unless the check said so (configuration or a flagged authority).
func TestClause2_1_VerificationForEveryDisclosureWhenTheCheckRequiresIt(t *testing.T) {
	for _, required := range []bool{false, true} {
		c := openCase(t, narrowFacts(), domain.DefaultConfig())
		c.Apply(domain.RequesterChecked{AuthorityID: "ie-garda", Verified: true, VerificationRequired: required})
		apply(t, c)(c.Claim(alice, t0))
		recordFactors(t, c, domain.AllFactors()...)
		apply(t, c)(c.ConsiderChallenge(false, "valid on its face", alice, t0))
		apply(t, c)(c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0))
		_, err := c.Approve(bob, t0)
		if !required && err != nil {
			t.Fatalf("not required: %v", err)
		}
		if required {
			wantPolicy(t, err, "2.1", domain.RuleRequesterNotVerified)
		}
	}
}

// 2.1: "forged" lapses the pending disclosure, leaves only a reject, flags
// the authority and opens a security incident; nothing was disclosed, so
// there is no breach.
func TestClause2_1_ForgedRequestLeadsToRejectAndAnIncident(t *testing.T) {
	c := unverifiedEmergency(t)
	proposeImminent(t, c)
	evs := apply(t, c)(c.RecordVerification(verification(domain.VerificationForged), carol, t0))
	var lapsed, flagged, incident bool
	for _, e := range evs {
		switch e := e.(type) {
		case domain.DecisionRejected:
			lapsed = true
		case domain.AuthorityFlagged:
			flagged = e.AuthorityID == "ie-garda" && e.IncidentID == "inc-1"
		case domain.SecurityIncidentOpened:
			incident = e.IncidentID == "inc-1" && !e.DataDisclosed
		case domain.BreachOpened:
			t.Errorf("breach opened though nothing was disclosed")
		}
	}
	if !lapsed || !flagged || !incident {
		t.Fatalf("events %+v: want the proposal lapsed, the authority flagged and an incident", evs)
	}
	if c.Status() != domain.StatusInReview || c.Proposal() != nil {
		t.Fatalf("status %s proposal %+v: the pending disclosure must lapse", c.Status(), c.Proposal())
	}
	for _, d := range []domain.Decision{disclose(domain.BasisImminentRisk), {Kind: policy.DecisionChallenge, Grounds: "g"}, {Kind: policy.DecisionRedirectToCustomer}} {
		_, err := c.Decide(d, alice, t0)
		wantPolicy(t, err, "2.1", domain.RuleRequesterForged)
	}
	if _, err := c.RecordVerification(verification(domain.VerificationConfirmed), carol, t0); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Errorf("a confirmation after a forgery: %v", err)
	}
	apply(t, c)(c.Decide(domain.Decision{Kind: policy.DecisionReject, Grounds: "the authority confirmed the request is forged"}, alice, t0))
	if d := c.Decided(); d == nil || d.Decision.Kind != policy.DecisionReject {
		t.Fatalf("decided %+v, want reject", d)
	}
}

// A forgery found after data left is a personal-data breach with its
// clocks: each controller customer told without undue delay, the
// supervisory authority within 72 hours, set as deadline.Set values.
func TestClause2_2_ForgeryAfterADisclosureOpensABreachWithItsDeadlines(t *testing.T) {
	f := narrowFacts()
	f.EmergencyClaimed, f.ImminentRiskClaimed = true, true
	f.CustomerIsController, f.CustomerID = true, "cust-9"
	c := openCase(t, f, domain.DefaultConfig())
	proposeImminent(t, c)
	verified(t, c)
	apply(t, c)(c.Approve(bob, t0))
	c.Apply(domain.DispositionRecorded{Disclosed: true})
	aware := t0.Add(5 * time.Hour)
	evs := apply(t, c)(c.RecordVerification(verification(domain.VerificationForged), carol, aware))
	var breach *domain.BreachOpened
	for _, e := range evs {
		if b, ok := e.(domain.BreachOpened); ok {
			breach = &b
		}
		if s, ok := e.(domain.SecurityIncidentOpened); ok && !s.DataDisclosed {
			t.Error("incident does not say data was disclosed")
		}
	}
	if breach == nil {
		t.Fatalf("events %+v: no breach", evs)
	}
	var l deadline.Ledger
	for _, d := range breach.Deadlines {
		l.Apply(deadline.Set{Deadline: d, At: aware})
	}
	want := map[string]time.Time{"breach/controller/1": aware.Add(24 * time.Hour), "breach/supervisory-authority": aware.Add(72 * time.Hour)}
	for id, due := range want {
		v, ok := l.Get(id)
		if !ok || !v.Due.At.Equal(due) || v.Kind != deadline.By || v.Clause == "" || v.Rule.Source == "" || v.Status != deadline.Pending {
			t.Errorf("deadline %s = %+v (found %v), want pending by %v with clause and source", id, v, ok, due)
		}
	}
	if got := len(c.Verification().Breach); got != 2 {
		t.Errorf("the case folds %d breach deadlines, want 2", got)
	}
	// The case's own clocks track them like every other deadline (listed,
	// overdue once, the queue's nearest), and a later withdrawal of the
	// request cancels none of them.
	c.Apply(domain.RequestWithdrawn{Meta: domain.Meta{At: aware.Add(time.Hour)}})
	for id, due := range want {
		var found bool
		for _, v := range c.Deadlines() {
			if v.ID == id {
				found = true
				if !v.Due.At.Equal(due) || v.Status != deadline.Pending {
					t.Errorf("the case's clock %s = %+v, want pending by %v", id, v, due)
				}
			}
		}
		if !found {
			t.Errorf("the case's clocks lack the breach deadline %s", id)
		}
	}
	if n, ok := c.NearestDeadline(); !ok || n.ID != "breach/controller/1" {
		t.Errorf("nearest deadline %+v, want the controller's breach notice", n)
	}
}

func TestRecordVerificationValidates(t *testing.T) {
	c := unverifiedEmergency(t)
	_, err := c.RecordVerification(domain.VerificationInput{AuthorityID: "ie-garda", Outcome: "maybe"}, carol, t0)
	wantInvalid(t, err)
	_, err = c.RecordVerification(domain.VerificationInput{ChannelID: "phone:1", Outcome: domain.VerificationConfirmed}, carol, t0)
	wantPolicy(t, err, "2.1", domain.RuleRequesterNotVerified)
	if _, err := (&domain.Case{}).RecordVerification(verification(domain.VerificationConfirmed), carol, t0); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Errorf("no case: %v", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
