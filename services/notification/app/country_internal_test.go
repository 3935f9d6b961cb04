package app

import (
	"testing"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Plans derived before the policy vocabulary recorded an unknown country as
// "UNKNOWN"; the stream keeps them forever, so they must read as the one
// spelling, policy.CountryUnknown, like new ones.
func TestClause4_2_1_PlanDerivedWithEverySpellingOfUnknownReadsAsUnknown(t *testing.T) {
	for _, spelling := range []string{"UNKNOWN", "ZZ", ""} {
		ev := eventstore.Event{RequestID: "req-1", Payload: &notificationv1.PlanDerived{
			RequestId: "req-1",
			Inputs:    &notificationv1.PlanInputs{Adequacy: &notificationv1.Adequacy{Country: spelling, Reason: "country unknown"}},
		}}
		got, ok, err := decodeEvent(ev)
		if err != nil || !ok {
			t.Fatalf("%q: decodeEvent = %v, %v", spelling, ok, err)
		}
		if c := got.(domain.PlanDerived).Adequacy.Country; c != policy.CountryUnknown {
			t.Errorf("%q reads as %q, want %q", spelling, c, policy.CountryUnknown)
		}
	}
}
