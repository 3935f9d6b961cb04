package protoconv_test

import (
	"testing"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

type kind uint8

const (
	kindNone kind = iota
	kindDisclose
	kindRedirect
)

var kinds = protoconv.NewEnumMap(map[assessmentv1.DecisionKind]kind{
	assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE:             kindDisclose,
	assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER: kindRedirect,
})

func TestEnumMapConvertsBothWaysFromOneList(t *testing.T) {
	for p, d := range map[assessmentv1.DecisionKind]kind{
		assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE:             kindDisclose,
		assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER: kindRedirect,
	} {
		if got := kinds.Domain(p); got != d {
			t.Errorf("Domain(%v) = %v, want %v", p, got, d)
		}
		if got := kinds.Proto(d); got != p {
			t.Errorf("Proto(%v) = %v, want %v", d, got, p)
		}
		if got, ok := kinds.LookupDomain(p); !ok || got != d {
			t.Errorf("LookupDomain(%v) = %v, %v", p, got, ok)
		}
		if got, ok := kinds.LookupProto(d); !ok || got != p {
			t.Errorf("LookupProto(%v) = %v, %v", d, got, ok)
		}
	}
}

func TestEnumMapValueWithoutRowIsZero(t *testing.T) {
	for _, p := range []assessmentv1.DecisionKind{0, assessmentv1.DecisionKind_DECISION_KIND_REJECT, 999} {
		if got, ok := kinds.LookupDomain(p); ok || got != kindNone {
			t.Errorf("LookupDomain(%v) = %v, %v; want none, false", p, got, ok)
		}
		if got := kinds.Domain(p); got != kindNone {
			t.Errorf("Domain(%v) = %v, want none", p, got)
		}
	}
	for _, d := range []kind{kindNone, 7} {
		if got, ok := kinds.LookupProto(d); ok || got != 0 {
			t.Errorf("LookupProto(%v) = %v, %v; want unspecified, false", d, got, ok)
		}
		if got := kinds.Proto(d); got != 0 {
			t.Errorf("Proto(%v) = %v, want unspecified", d, got)
		}
	}
	var empty protoconv.EnumMap[assessmentv1.DecisionKind, kind]
	if got := empty.Domain(assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE); got != kindNone {
		t.Errorf("zero map: Domain = %v, want none", got)
	}
}

func TestEnumMapThatIsNotOneToOnePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("two proto values for one domain value did not panic")
		}
	}()
	protoconv.NewEnumMap(map[assessmentv1.DecisionKind]kind{
		assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE: kindDisclose,
		assessmentv1.DecisionKind_DECISION_KIND_REJECT:   kindDisclose,
	})
}
