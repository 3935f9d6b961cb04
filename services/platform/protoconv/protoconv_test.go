package protoconv_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

func TestEnumNameAndValueRoundTripEveryDefinedValue(t *testing.T) {
	const prefix = "DECISION_KIND_"
	values := assessmentv1.DecisionKind(0).Descriptor().Values()
	for i := 0; i < values.Len(); i++ {
		e := assessmentv1.DecisionKind(values.Get(i).Number())
		name := protoconv.EnumName(e, prefix)
		if e == 0 {
			if name != "" {
				t.Errorf("unspecified spelled %q, want empty", name)
			}
			continue
		}
		if got := protoconv.EnumValue[assessmentv1.DecisionKind](name, prefix); got != e {
			t.Errorf("%v -> %q -> %v", e, name, got)
		}
	}
	if got := protoconv.EnumName(assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER, prefix); got != "redirect_to_customer" {
		t.Errorf("got %q", got)
	}
}

func TestEnumNameOfAnUndefinedNumberIsNotMissing(t *testing.T) {
	if got := protoconv.EnumName(assessmentv1.DecisionKind(999), "DECISION_KIND_"); got != "undefined_999" {
		t.Errorf("got %q, want undefined_999", got)
	}
	if got := protoconv.EnumValue[assessmentv1.DecisionKind]("no_such_kind", "DECISION_KIND_"); got != 0 {
		t.Errorf("unknown spelling gave %v, want unspecified", got)
	}
}

func TestTimesRoundTripAndZeroIsUnset(t *testing.T) {
	if protoconv.Timestamp(time.Time{}) != nil {
		t.Error("zero time should be unset")
	}
	if !protoconv.Time(nil).IsZero() {
		t.Error("unset should be the zero time")
	}
	at := time.Date(2026, 11, 28, 9, 0, 0, 5, time.FixedZone("CET", 3600))
	got := protoconv.Time(protoconv.Timestamp(at))
	if !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("got %v, want %v in UTC", got, at)
	}
}

// A lift survives the wire unchanged, confirmed or not: the two-person
// rule is judged again from the record, so the roles, the barred people
// and the confirmation must all come back.
func TestLiftRoundTrips(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, l := range []policy.Lift{
		{ID: "exemption/NOTIFY_CUSTOMER", Clause: "4.1.2", What: "customer notice", Basis: "gag order", Evidence: "GAG-1",
			RecordedBy: "spiffe://d/staff/carol", RecordedAt: at, ConfirmRoles: []policy.Role{policy.RoleLegal}, Barred: []string{"spiffe://d/staff/alice"}},
		{ID: "consultation/DE", Clause: "4.2.1", Basis: "reply", Evidence: "R-7", RecordedBy: "a", RecordedAt: at,
			ConfirmRoles: []policy.Role{policy.RoleApprover, policy.RoleLegal}, ConfirmedBy: "b", ConfirmedAt: at.Add(time.Hour)},
	} {
		if diff := cmp.Diff(l, protoconv.LiftFrom(protoconv.Lift(l))); diff != "" {
			t.Errorf("lift %s (-want +got):\n%s", l.ID, diff)
		}
	}
}
