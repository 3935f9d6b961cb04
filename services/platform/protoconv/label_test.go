package protoconv_test

import (
	"testing"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

func TestLabel(t *testing.T) {
	for e, want := range map[assessmentv1.DecisionKind]string{
		assessmentv1.DecisionKind_DECISION_KIND_UNSPECIFIED:          "",
		assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER: "redirect_to_customer",
		assessmentv1.DecisionKind(99):                                "99",
	} {
		if got := protoconv.Label(e); got != want {
			t.Errorf("Label(%v) = %q, want %q", e, got, want)
		}
	}
}
