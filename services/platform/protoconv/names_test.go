package protoconv_test

import (
	"testing"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

type decisionKind string

var decisionKinds = protoconv.Names[assessmentv1.DecisionKind, decisionKind]{Prefix: "DECISION_KIND_"}

// Names is EnumName and EnumValue with the prefix bound: the same
// spellings both ways, unknown numbers not read as missing.
func TestNamesConvertLikeEnumNameAndEnumValue(t *testing.T) {
	if got := decisionKinds.Domain(assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER); got != "redirect_to_customer" {
		t.Errorf("Domain = %q", got)
	}
	if got := decisionKinds.Proto("redirect_to_customer"); got != assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER {
		t.Errorf("Proto = %v", got)
	}
	if got := decisionKinds.Domain(0); got != "" {
		t.Errorf("unspecified read as %q, want empty", got)
	}
	if got := decisionKinds.Domain(999); got != "undefined_999" {
		t.Errorf("undefined number read as %q, want undefined_999", got)
	}
	if got := decisionKinds.Proto("no_such_kind"); got != 0 {
		t.Errorf("unknown spelling written as %v, want unspecified", got)
	}
}

func TestEachConvertsInOrderAndKeepsAnAbsentListAbsent(t *testing.T) {
	got := protoconv.Each([]decisionKind{"disclose", "reject"}, decisionKinds.Proto)
	want := []assessmentv1.DecisionKind{assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, assessmentv1.DecisionKind_DECISION_KIND_REJECT}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Each = %v, want %v", got, want)
	}
	if got := protoconv.Each([]decisionKind{}, decisionKinds.Proto); got != nil {
		t.Errorf("an empty list gave %#v, want nil", got)
	}
}
