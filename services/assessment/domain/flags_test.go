package domain_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

func TestComputeFlags(t *testing.T) {
	tests := []struct {
		name   string
		change func(*domain.RequestFacts)
		want   []domain.FlagCode
		clause policy.Clause
	}{
		{"narrow request from an adequate country raises nothing", func(*domain.RequestFacts) {}, nil, ""},
		{"Clause6_1 too many targets", func(f *domain.RequestFacts) { f.TargetCount = 11 },
			[]domain.FlagCode{domain.FlagBulkScope}, "6.1"},
		{"Clause6_1 listed ids beyond the threshold", func(f *domain.RequestFacts) {
			f.TargetIDs = slices.Repeat([]string{"x"}, 11)
		}, []domain.FlagCode{domain.FlagBulkScope}, "6.1"},
		{"Clause6_1 scope described without targets", func(f *domain.RequestFacts) {
			f.TargetIDs, f.TargetCount, f.ScopeDescribed = nil, 0, true
		}, []domain.FlagCode{domain.FlagBulkScope}, "6.1"},
		{"Clause6_1 whole tenant", func(f *domain.RequestFacts) { f.Selectors.WholeTenant = true },
			[]domain.FlagCode{domain.FlagBulkScope}, "6.1"},
		{"Clause6_1 whole service", func(f *domain.RequestFacts) { f.Selectors.WholeService = true },
			[]domain.FlagCode{domain.FlagBulkScope}, "6.1"},
		{"Clause6_1 open-ended time range", func(f *domain.RequestFacts) { f.TimeRange.To = time.Time{} },
			[]domain.FlagCode{domain.FlagBulkScope}, "6.1"},
		{"Clause6_1 time range over 180 days", func(f *domain.RequestFacts) { f.TimeRange.From = t0.AddDate(0, -7, 0) },
			[]domain.FlagCode{domain.FlagBulkScope}, "6.1"},
		{"Clause6_1 exactly at the thresholds is not bulk", func(f *domain.RequestFacts) {
			f.TargetCount = 10
			f.TimeRange.From = t0.Add(-180 * 24 * time.Hour)
		}, nil, ""},
		{"Clause4_1 customer is controller", func(f *domain.RequestFacts) { f.CustomerIsController, f.CustomerID = true, "c1" },
			[]domain.FlagCode{domain.FlagCustomerIsController}, "4.1"},
		{"Clause4_2_1 country not adequate", func(f *domain.RequestFacts) { f.AuthorityCountry = "ZZ"; f.CountryAdequate = false },
			[]domain.FlagCode{domain.FlagCountryNotAdequate}, "4.2.1"},
		{"Clause4_2_1 unknown country counts as not adequate", func(f *domain.RequestFacts) {
			f.AuthorityCountry = ""
			f.CountryAdequate = false
		}, []domain.FlagCode{domain.FlagCountryNotAdequate}, "4.2.1"},
		{"Clause4_2_2 gag order", func(f *domain.RequestFacts) { f.Gag = domain.Gag{Present: true, Reference: "NDO-1"} },
			[]domain.FlagCode{domain.FlagNotificationProhibited}, "4.2.2"},
		{"Clause2_1 imminent risk claimed", func(f *domain.RequestFacts) { f.ImminentRiskClaimed = true },
			[]domain.FlagCode{domain.FlagImminentRiskClaimed}, "2.1"},
		{"emergency", func(f *domain.RequestFacts) { f.EmergencyClaimed = true },
			[]domain.FlagCode{domain.FlagEmergency}, "3.3"},
		{"authority deadline", func(f *domain.RequestFacts) { f.Deadline = t0.AddDate(0, 0, 5) },
			[]domain.FlagCode{domain.FlagDeadline}, "3.3"},
		{"Clause3_1 late forwarding", func(f *domain.RequestFacts) { f.LateForwarded, f.ForwardedAt = true, t0 },
			[]domain.FlagCode{domain.FlagLateForwarding}, "3.1"},
		{"everything at once keeps a fixed order", func(f *domain.RequestFacts) {
			f.Selectors.WholeTenant = true
			f.CustomerIsController = true
			f.CountryAdequate = false
			f.Gag.Present = true
			f.ImminentRiskClaimed = true
			f.EmergencyClaimed = true
			f.Deadline = t0
			f.LateForwarded = true
		}, []domain.FlagCode{
			domain.FlagBulkScope, domain.FlagCustomerIsController, domain.FlagCountryNotAdequate,
			domain.FlagNotificationProhibited, domain.FlagImminentRiskClaimed, domain.FlagEmergency,
			domain.FlagDeadline, domain.FlagLateForwarding,
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := narrowFacts()
			tt.change(&f)
			flags := domain.ComputeFlags(f, domain.DefaultConfig())
			var got []domain.FlagCode
			for _, fl := range flags {
				got = append(got, fl.Code)
				if fl.Explanation == "" || fl.Clause == "" {
					t.Errorf("flag %s lacks a clause or explanation", fl.Code)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("flags %v, want %v", got, tt.want)
			}
			if tt.clause != "" && flags[0].Clause != tt.clause {
				t.Fatalf("clause %s, want %s", flags[0].Clause, tt.clause)
			}
		})
	}
}

func TestFlagExplanationsNeverNameTargets(t *testing.T) {
	f := narrowFacts()
	f.TargetIDs = []string{"alice@example.com", "acct-4711"}
	f.Selectors.WholeService = true
	f.Gag.Present = true
	for _, fl := range domain.ComputeFlags(f, domain.DefaultConfig()) {
		for _, id := range f.TargetIDs {
			if strings.Contains(fl.Explanation, id) {
				t.Fatalf("flag %s explanation contains a target id", fl.Code)
			}
		}
	}
}

func TestClause6_1_OverlayLowersBulkThreshold(t *testing.T) {
	cfg := domain.DefaultConfig()
	cfg.Overlays = []domain.Overlay{{Name: "strict", Jurisdictions: []string{"IE"}, MaxTargets: intp(1)}}
	flags := domain.ComputeFlags(narrowFacts(), cfg)
	if len(flags) != 1 || flags[0].Code != domain.FlagBulkScope {
		t.Fatalf("flags %v, want BULK_SCOPE under the overlay", flags)
	}
}
