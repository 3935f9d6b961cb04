package policy_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

var at = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func lift() policy.Lift {
	return policy.Lift{
		ID: "exemption/NOTIFY_CUSTOMER", Clause: policy.Clause4_1_2, What: "the customer notice exemption",
		Basis: "gag order", Evidence: "NDO-1", RecordedBy: "rev", RecordedAt: at,
		ConfirmRoles: []policy.Role{policy.RoleLegal}, Barred: []string{"proposer"},
	}
}

func TestClause2_2_LiftNeedsASecondPersonWithTheRoleNotTheProposer(t *testing.T) {
	l := lift()
	for _, c := range []struct {
		name string
		by   policy.Person
		rule string
	}{
		{"recorder alone", policy.Person{ID: "rev", Roles: []policy.Role{policy.RoleLegal}}, policy.RuleLiftSelfConfirm},
		{"nobody", policy.Person{ID: " ", Roles: []policy.Role{policy.RoleLegal}}, policy.RuleLiftSelfConfirm},
		{"disclosure proposer", policy.Person{ID: "proposer", Roles: []policy.Role{policy.RoleLegal}}, policy.RuleLiftBarredConfirmer},
		{"without the role", policy.Person{ID: "app", Roles: []policy.Role{policy.RoleApprover}}, policy.RuleLiftConfirmerRole},
	} {
		if _, r := l.Confirm(c.by, at); r == nil || r.Rule != c.rule || r.Clause != policy.Clause4_1_2 {
			t.Errorf("%s: refusal %v, want rule %s", c.name, r, c.rule)
		}
	}
	if l.Confirmed() {
		t.Fatal("refused confirmations confirmed the lift")
	}
	got, r := l.Confirm(policy.Person{ID: "legal", Roles: []policy.Role{policy.RoleLegal}}, at)
	if r != nil || !got.Confirmed() || got.ConfirmedBy != "legal" {
		t.Fatalf("second person with the role: %v, %+v", r, got)
	}
	if _, r := got.Confirm(policy.Person{ID: "legal2", Roles: []policy.Role{policy.RoleLegal}}, at); r == nil || r.Rule != policy.RuleLiftAlreadyConfirmed {
		t.Errorf("second confirmation: %v", r)
	}
}

func TestLiftMissingNamesEveryAbsentField(t *testing.T) {
	if m := (policy.Lift{}).Missing(); len(m) != 6 {
		t.Errorf("Missing() = %v, want 6 fields", m)
	}
	if m := lift().Missing(); len(m) != 0 {
		t.Errorf("complete lift: Missing() = %v", m)
	}
}

func TestMostSpecificFirst(t *testing.T) {
	got := policy.MostSpecificFirst([]policy.Clause{policy.Clause2_2, policy.Clause4_2_2, policy.Clause4_1_2, policy.Clause4_2_1, policy.Clause2_2, policy.Clause1_2})
	want := []policy.Clause{policy.Clause4_1_2, policy.Clause4_2_1, policy.Clause4_2_2, policy.Clause1_2, policy.Clause2_2}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
