package codec

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// roundTrip checks every value the proto enum E defines: proto -> domain
// -> proto gives it back, and no two values share a domain spelling.
func roundTrip[E protoconv.Enum, D comparable](t *testing.T, toDomain func(E) D, toProto func(D) E) {
	t.Helper()
	var zero E
	values := zero.Descriptor().Values()
	seen := map[D]E{}
	for i := range values.Len() {
		p := E(values.Get(i).Number())
		if p == 0 {
			continue
		}
		d := toDomain(p)
		if prev, dup := seen[d]; dup {
			t.Errorf("%v and %v both read as %v", prev, p, d)
		}
		seen[d] = p
		if back := toProto(d); back != p {
			t.Errorf("%v -> %v -> %v", p, d, back)
		}
	}
}

func TestEveryEnumValueRoundTrips(t *testing.T) {
	roundTrip(t, FactorToDomain, FactorToProto)
	roundTrip(t, CounselKinds.Domain, CounselKinds.Proto)
	roundTrip(t, DecisionKinds.Domain, DecisionKinds.Proto)
	roundTrip(t, LegalBases.Domain, LegalBases.Proto)
	roundTrip(t, ChallengeOutcomes.Domain, ChallengeOutcomes.Proto)
	roundTrip(t, func(c intakev1.DataCategory) string { return categoriesToDomain([]intakev1.DataCategory{c})[0] },
		func(c string) intakev1.DataCategory { return categoriesToProto([]string{c})[0] })
	roundTrip(t, func(c assessmentv1.FlagCode) domain.FlagCode {
		return flagsToDomain([]*assessmentv1.Flag{{Code: c}})[0].Code
	}, func(c domain.FlagCode) assessmentv1.FlagCode {
		return flagsToProto([]domain.Flag{{Code: c}})[0].GetCode()
	})
}

// Every value the domain names has a proto value: none is written as
// unspecified.
func TestEveryDomainValueHasAWireForm(t *testing.T) {
	for _, f := range domain.AllFactors() {
		if FactorToProto(f) == 0 {
			t.Errorf("factor %s has no proto value", f)
		}
	}
	for _, k := range []domain.CounselKind{domain.CounselInternalLegal, domain.CounselOutside} {
		if CounselKinds.Proto(k) == 0 {
			t.Errorf("counsel kind %s has no proto value", k)
		}
	}
	for _, k := range []policy.DecisionKind{policy.DecisionDisclose, policy.DecisionRedirectToCustomer, policy.DecisionChallenge, policy.DecisionReject, policy.DecisionRequestMoreInformation} {
		if d := decisionToProto(domain.Decision{Kind: k}, domain.RequestFacts{}); d.GetKind() == 0 {
			t.Errorf("decision kind %s has no proto value", k)
		}
	}
	for _, b := range []domain.LegalBasis{domain.BasisCompellingLegalObligation, domain.BasisImminentRisk} {
		if d := decisionToProto(domain.Decision{Kind: policy.DecisionDisclose, Basis: b}, domain.RequestFacts{}); d.GetLegalBasis() == 0 {
			t.Errorf("legal basis %s has no proto value", b)
		}
	}
	for _, c := range []domain.FlagCode{domain.FlagBulkScope, domain.FlagCustomerIsController, domain.FlagCountryNotAdequate,
		domain.FlagNotificationProhibited, domain.FlagImminentRiskClaimed, domain.FlagEmergency, domain.FlagDeadline, domain.FlagLateForwarding} {
		if flagsToProto([]domain.Flag{{Code: c}})[0].GetCode() == 0 {
			t.Errorf("flag %s has no proto value", c)
		}
	}
	for _, o := range []domain.ChallengeOutcome{domain.ChallengeUpheld, domain.ChallengeDismissed} {
		if ChallengeOutcomes.Proto(o) == 0 {
			t.Errorf("challenge outcome %s has no proto value", o)
		}
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func richFacts() domain.RequestFacts {
	return domain.RequestFacts{
		RequestID:            "req-1",
		ReceivedAt:           t0.Add(-50 * time.Hour),
		ForwardedAt:          t0.Add(-time.Hour),
		LateForwarded:        true,
		AuthorityKind:        "national_security",
		AuthorityCountry:     "US",
		CountryAdequate:      true,
		Jurisdictions:        []string{"DE"},
		LegalProcess:         "national_security",
		TargetCount:          3,
		TargetIDs:            []string{"t1", "t2", "t3"},
		ScopeDescribed:       true,
		Selectors:            domain.Selectors{WholeTenant: true, WholeService: true},
		DataCategories:       []string{"subscriber", "content"},
		TimeRange:            domain.TimeRange{From: t0.AddDate(0, -2, 0), To: t0},
		EmergencyClaimed:     true,
		ImminentRiskClaimed:  true,
		Gag:                  domain.Gag{Present: true, Reference: "NSL-1", Expires: t0.AddDate(1, 0, 0)},
		Deadline:             t0.Add(48 * time.Hour),
		CustomerIsController: true,
		CustomerID:           "cust-7",
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	opts := cmpopts.EquateEmpty()
	f := richFacts()
	if d := cmp.Diff(f, factsToDomain(f.RequestID, factsToProto(f, "EEA")), opts); d != "" {
		t.Errorf("facts (-domain +round trip):\n%s", d)
	}
	r := domain.Rules{
		Settings: domain.Settings{
			PolicyVersion:              "2026-1",
			Bulk:                       domain.BulkThresholds{MaxTargets: 10, MaxTimeRange: 90 * 24 * time.Hour},
			EmergencyReview:            time.Hour,
			StandardReviewBusinessDays: 5,
			RequiredApprovals:          2,
			CustomerNoticePeriod:       48 * time.Hour,
		},
		ExtraFactors:                   []domain.Factor{domain.FactorValidity},
		RightsWeighedForAllDisclosures: true,
		CounselBeforeDisclosure:        []domain.CounselKind{domain.CounselOutside, domain.CounselInternalLegal},
		Overlays:                       []string{"us-extra"},
	}
	if d := cmp.Diff(r, rulesToDomain(rulesToProto(r)), opts); d != "" {
		t.Errorf("rules (-domain +round trip):\n%s", d)
	}
	flags := []domain.Flag{
		{Code: domain.FlagBulkScope, Clause: policy.Clause("6.1"), Explanation: "whole tenant"},
		{Code: domain.FlagCountryNotAdequate, Clause: policy.Clause("4.2.1"), Explanation: "US"},
	}
	if d := cmp.Diff(flags, flagsToDomain(flagsToProto(flags)), opts); d != "" {
		t.Errorf("flags (-domain +round trip):\n%s", d)
	}
	for _, dec := range []domain.Decision{
		{ID: "d1", Kind: policy.DecisionDisclose, Basis: domain.BasisImminentRisk, Grounds: "threat",
			Narrowing: &domain.Narrowing{TargetIDs: []string{"t2"}, DataCategories: []string{"subscriber"}, TimeRange: domain.TimeRange{From: t0.AddDate(0, -1, 0), To: t0}}},
		{ID: "d2", Kind: policy.DecisionDisclose, Basis: domain.BasisCompellingLegalObligation, Statute: "18 U.S.C. 2702(c)(4)"},
		{ID: "d3", Kind: policy.DecisionRedirectToCustomer, Grounds: "the customer is the controller"},
		{ID: "d4", Kind: policy.DecisionReject, Grounds: "no legal basis"},
	} {
		if d := cmp.Diff(dec, decisionToDomain(decisionToProto(dec, f)), opts); d != "" {
			t.Errorf("decision %s (-domain +round trip):\n%s", dec.ID, d)
		}
	}
}
