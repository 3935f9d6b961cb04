package domain_test

import (
	"errors"
	"testing"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

var aliceReviewer = policy.Person{ID: alice, Roles: []policy.Role{policy.RoleReviewer}}

func scopeAll() domain.ScopeState { return domain.InitialScope(domain.VerifyAll, "operator", t0) }

func TestClause2_1_OnePersonAloneCannotNarrowTheVerificationScope(t *testing.T) {
	st, now, err := scopeAll().ProposeScope(domain.VerifyEmergency, "the directory covers every authority we hear from", "p1", aliceReviewer, t0)
	if err != nil {
		t.Fatal(err)
	}
	if now || st.InForce.Scope != domain.VerifyAll || st.Pending == nil || st.Pending.To != domain.VerifyEmergency {
		t.Fatalf("a narrowing by one person: in force now %v, state %+v; want all in force and the narrowing pending", now, st)
	}
	// Even an approver or legal proposing alone only proposes.
	st2, now, err := scopeAll().ProposeScope(domain.VerifyUnverified, "why", "p2", carolLegal, t0)
	if err != nil || now || st2.InForce.Scope != domain.VerifyAll {
		t.Fatalf("legal alone: %v in force now %v, %+v", err, now, st2.InForce)
	}
	// A confirmer needs the approver or legal role.
	_, err = st.ConfirmScope("p1", policy.Person{ID: "spiffe://ddr.local/staff/eve", Roles: []policy.Role{policy.RoleReviewer}}, t0)
	wantPolicy(t, err, "2.1", policy.RuleLiftConfirmerRole)
	got, err := st.ConfirmScope("p1", bobApprover, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got.InForce.Scope != domain.VerifyEmergency || got.InForce.ChangedBy != alice || got.InForce.ConfirmedBy != bob || got.Pending != nil {
		t.Fatalf("confirmed: %+v; want emergency in force, changed by alice, confirmed by bob, nothing pending", got)
	}
	if _, err := got.ConfirmScope("p1", carolLegal, t0); !errors.Is(err, ddrerr.ErrNotFound) {
		t.Errorf("confirming again: %v, want not found (nothing pending)", err)
	}
}

func TestClause2_1_TheProposerCannotConfirmANarrowedVerificationScope(t *testing.T) {
	st, _, err := scopeAll().ProposeScope(domain.VerifyEmergency, "why", "p1", bobApprover, t0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.ConfirmScope("p1", bobApprover, t0)
	wantPolicy(t, err, "2.1", policy.RuleLiftSelfConfirm)
	if _, err := st.ConfirmScope("other", carolLegal, t0); !errors.Is(err, ddrerr.ErrNotFound) {
		t.Errorf("confirming an unknown proposal: %v, want not found", err)
	}
}

func TestClause2_1_WideningTheVerificationScopeIsImmediate(t *testing.T) {
	base := domain.InitialScope(domain.VerifyEmergency, "operator", t0)
	st, _, err := base.ProposeScope(domain.VerifyEmergency, "x", "p0", aliceReviewer, t0)
	wantInvalid(t, err) // unchanged
	pending, _, err := domain.InitialScope(domain.VerifyUnverified, "operator", t0).ProposeScope(domain.VerifyEmergency, "narrow", "p1", bobApprover, t0)
	if err != nil || pending.Pending == nil {
		t.Fatalf("%v %+v", err, pending)
	}
	st, now, err := pending.ProposeScope(domain.VerifyAll, "forgeries reported across the sector", "p2", aliceReviewer, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !now || st.InForce.Scope != domain.VerifyAll || st.InForce.ChangedBy != alice || st.InForce.ConfirmedBy != "" {
		t.Fatalf("widening: in force now %v, %+v; want all in force at once, by alice alone", now, st.InForce)
	}
	if st.Pending != nil {
		t.Errorf("a widening leaves the narrowing %+v pending; it was weighed against a scope no longer in force", st.Pending)
	}
	if _, _, err := st.ProposeScope("nothing", "x", "p3", aliceReviewer, t0); err == nil {
		t.Error("an unknown scope was accepted")
	}
}

func TestClause2_1_ANarrowerStartupFlagKeepsTheStoredScope(t *testing.T) {
	stored := scopeAll()
	got, changed, kept := stored.AtStartup(domain.VerifyEmergency, "operator", t0)
	if changed || !kept || got.InForce.Scope != domain.VerifyAll {
		t.Fatalf("narrower flag: changed %v kept %v scope %s; want all kept", changed, kept, got.InForce.Scope)
	}
	got, changed, kept = domain.InitialScope(domain.VerifyEmergency, "operator", t0).AtStartup(domain.VerifyUnverified, "operator", t0)
	if !changed || kept || got.InForce.Scope != domain.VerifyUnverified || got.InForce.Source != domain.ScopeSourceStartup {
		t.Fatalf("wider flag: changed %v kept %v %+v; want unverified, from the startup flag", changed, kept, got.InForce)
	}
	if _, changed, kept = stored.AtStartup(domain.VerifyAll, "operator", t0); changed || kept {
		t.Errorf("same flag: changed %v kept %v", changed, kept)
	}
}

func TestVerifyScopeRequires(t *testing.T) {
	for _, c := range []struct {
		s        domain.VerifyScope
		verified bool
		want     bool
	}{
		{domain.VerifyEmergency, false, false}, {domain.VerifyUnverified, false, true}, {domain.VerifyUnverified, true, false},
		{domain.VerifyAll, true, true},
	} {
		if got := c.s.Requires(c.verified); got != c.want {
			t.Errorf("%s verified=%v: %v, want %v", c.s, c.verified, got, c.want)
		}
	}
}
