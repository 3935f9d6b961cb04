package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

func TestClause2_1_DiscloseRefusedWithoutLegalBasis(t *testing.T) {
	for _, basis := range []domain.LegalBasis{"", "customer_consented", "public_interest"} {
		t.Run(string(basis), func(t *testing.T) {
			c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
			weighRights(t, c)
			_, err := c.Decide(disclose(basis), alice, t0)
			wantPolicy(t, err, "2.1", domain.RuleDiscloseWithoutBasis)
		})
	}
}

func TestClause2_1_ImminentRiskDisclosureNeedsAllFactorsAndRightsWeighed(t *testing.T) {
	tests := []struct {
		name    string
		factors []domain.Factor
		rights  bool
		allowed bool
	}{
		{"all factors, rights not weighed", domain.AllFactors(), false, false},
		{"rights weighed, validity missing", domain.AllFactors()[:5], true, false},
		{"rights weighed, no factors", nil, true, false},
		{"all factors and rights weighed", domain.AllFactors(), true, true},
	}
	// Changed by issue 15: the authority claims the risk here; an unclaimed
	// risk now also needs a justification (TestClause2_1_UnclaimedImminentRisk...).
	f := narrowFacts()
	f.ImminentRiskClaimed = true
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openCase(t, f, domain.DefaultConfig())
			apply(t, c)(c.Claim(alice, t0))
			recordFactors(t, c, tt.factors...)
			apply(t, c)(c.ConsiderChallenge(false, "no grounds", alice, t0))
			if tt.rights {
				weighRights(t, c)
			}
			evs, err := c.Decide(disclose(domain.BasisImminentRisk), alice, t0)
			if !tt.allowed {
				wantPolicy(t, err, "2.1", domain.RuleImminentRiskNotWeighed)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := evs[0].(domain.DecisionProposed); !ok || len(evs) != 1 {
				t.Fatalf("got %v, want one DecisionProposed", evs)
			}
		})
	}
}

func TestClause2_1_CompellingObligationDisclosureGoesToApproval(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0))
	if c.Status() != domain.StatusDecisionPendingApproval {
		t.Fatalf("status %s, want %s", c.Status(), domain.StatusDecisionPendingApproval)
	}
	if c.Decided() != nil {
		t.Fatal("a disclosure took effect without approval")
	}
}

func TestClause3_3_NoDecisionBeforeFactorsRecorded(t *testing.T) {
	f := narrowFacts()
	f.CustomerIsController, f.CustomerID = true, "cust-9"
	tests := []struct {
		name     string
		decision domain.Decision
		factors  []domain.Factor
	}{
		{"disclose, none recorded", disclose(domain.BasisCompellingLegalObligation), nil},
		{"disclose, five of six", disclose(domain.BasisCompellingLegalObligation), domain.AllFactors()[:5]},
		{"redirect, none recorded", domain.Decision{Kind: policy.DecisionRedirectToCustomer}, nil},
		{"challenge, urgency missing", domain.Decision{Kind: policy.DecisionChallenge, Grounds: "overbroad"},
			[]domain.Factor{domain.FactorNature, domain.FactorContext, domain.FactorPurposes, domain.FactorScope, domain.FactorValidity}},
		{"reject, only nature", domain.Decision{Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, []domain.Factor{domain.FactorNature}},
		{"more information, scope missing", domain.Decision{Kind: policy.DecisionRequestMoreInformation, Grounds: "which accounts?"}, []domain.Factor{domain.FactorNature}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openCase(t, f, domain.DefaultConfig())
			apply(t, c)(c.Claim(alice, t0))
			recordFactors(t, c, tt.factors...)
			apply(t, c)(c.ConsiderChallenge(false, "no grounds", alice, t0))
			_, err := c.Decide(tt.decision, alice, t0)
			wantPolicy(t, err, "3.3", domain.RuleFactorsNotRecorded)
		})
	}
}

func TestClause3_3_MinimumReviewPerDecision(t *testing.T) {
	f := narrowFacts()
	f.CustomerIsController, f.CustomerID = true, "cust-9"
	tests := []struct {
		name     string
		decision domain.Decision
		factors  []domain.Factor
	}{
		{"more information needs nature and scope", domain.Decision{Kind: policy.DecisionRequestMoreInformation, Grounds: "which accounts?"},
			[]domain.Factor{domain.FactorNature, domain.FactorScope}},
		{"redirect needs all six", domain.Decision{Kind: policy.DecisionRedirectToCustomer}, domain.AllFactors()},
		{"challenge needs all six", domain.Decision{Kind: policy.DecisionChallenge, Grounds: "overbroad"}, domain.AllFactors()},
		{"reject needs all six", domain.Decision{Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, domain.AllFactors()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openCase(t, f, domain.DefaultConfig())
			apply(t, c)(c.Claim(alice, t0))
			recordFactors(t, c, tt.factors...)
			apply(t, c)(c.Decide(tt.decision, alice, t0))
			if tt.decision.Kind == policy.DecisionRequestMoreInformation {
				// Issue 16: asking for more information does not close the case.
				if c.Status() != domain.StatusInformationRequested || c.OpenQuestion() == nil {
					t.Fatalf("status %s, want information requested", c.Status())
				}
				return
			}
			if c.Status() != domain.StatusDecided || c.Decided().Decision.Kind != tt.decision.Kind {
				t.Fatalf("status %s, want decided %s", c.Status(), tt.decision.Kind)
			}
		})
	}
}

func TestClause3_3_DisclosureNeedsChallengeConsidered(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Claim(alice, t0))
	recordFactors(t, c, domain.AllFactors()...)
	_, err := c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0)
	wantPolicy(t, err, "3.3", domain.RuleChallengeNotConsidered)
}

func TestClause3_3_ReviewRecordKeepsFactorsCounselAndChallenge(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.RecordCounsel(domain.CounselInternalLegal, t0.Add(-time.Hour), "order is valid", bob, t0))
	apply(t, c)(c.RecordCounsel(domain.CounselOutside, t0.Add(-30*time.Minute), "no grounds to challenge", bob, t0))
	apply(t, c)(c.RecordFactor(domain.FactorNature, "first view", alice, t0))
	apply(t, c)(c.RecordFactor(domain.FactorNature, "revised view", bob, t0.Add(time.Minute)))
	apply(t, c)(c.ConsiderChallenge(true, "scope exceeds the order", bob, t0))

	r := c.Review()
	if got := r.Factors[domain.FactorNature]; got.Text != "revised view" || got.By != bob {
		t.Errorf("nature = %+v, want the later assessment by bob", got)
	}
	if !r.Consulted(domain.CounselInternalLegal) || !r.Consulted(domain.CounselOutside) || len(r.Counsel) != 2 {
		t.Errorf("counsel = %+v, want internal and outside", r.Counsel)
	}
	if r.Challenge == nil || !r.Challenge.Warranted || r.Challenge.Reasoning == "" {
		t.Errorf("challenge = %+v, want warranted with reasoning", r.Challenge)
	}
	if c.Status() != domain.StatusInReview {
		t.Errorf("status %s, want in_review once review started", c.Status())
	}
	_, err := c.RecordCounsel("a friend", t0, "x", bob, t0)
	wantInvalid(t, err)
	_, err = c.RecordFactor("vibes", "x", bob, t0)
	wantInvalid(t, err)
}

func TestClause6_1_BulkDisclosureRefusedUnlessNarrowed(t *testing.T) {
	many := func() domain.RequestFacts {
		f := narrowFacts()
		f.TargetIDs = nil
		for i := range 40 {
			f.TargetIDs = append(f.TargetIDs, "t"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		}
		f.TargetCount = 40
		return f
	}
	tests := []struct {
		name   string
		facts  func() domain.RequestFacts
		narrow *domain.Narrowing // nil: no narrowing can fix it
	}{
		{"more targets than the threshold", many, &domain.Narrowing{TargetIDs: []string{"taa", "tba"}}},
		{"whole tenant selector", func() domain.RequestFacts {
			f := narrowFacts()
			f.Selectors.WholeTenant = true
			return f
		}, &domain.Narrowing{TargetIDs: []string{"t1"}}},
		{"whole service selector", func() domain.RequestFacts {
			f := narrowFacts()
			f.Selectors.WholeService = true
			return f
		}, &domain.Narrowing{TargetIDs: []string{"t2"}}},
		{"unbounded time range", func() domain.RequestFacts {
			f := narrowFacts()
			f.TimeRange = domain.TimeRange{}
			return f
		}, &domain.Narrowing{TimeRange: domain.TimeRange{From: t0.AddDate(0, 0, -7), To: t0}}},
		{"time range too long", func() domain.RequestFacts {
			f := narrowFacts()
			f.TimeRange = domain.TimeRange{From: t0.AddDate(-3, 0, 0), To: t0}
			return f
		}, &domain.Narrowing{TimeRange: domain.TimeRange{From: t0.AddDate(0, -2, 0), To: t0}}},
		{"scope described without listed targets", func() domain.RequestFacts {
			f := narrowFacts()
			f.TargetIDs, f.TargetCount, f.ScopeDescribed = nil, 0, true
			return f
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := reviewedCase(t, tt.facts(), domain.DefaultConfig())
			if !c.HasFlag(domain.FlagBulkScope) {
				t.Fatalf("flags %v lack BULK_SCOPE", c.Flags())
			}
			_, err := c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0)
			wantPolicy(t, err, "6.1", domain.RuleBulkDisclosure)
			if tt.narrow == nil {
				return
			}
			d := disclose(domain.BasisCompellingLegalObligation)
			d.Narrowing = tt.narrow
			apply(t, c)(c.Decide(d, alice, t0))
			evs := apply(t, c)(c.Approve(bob, t0))
			got := evs[len(evs)-1].(domain.CaseDecided).Notification.Scope
			if reasons := domain.BulkReasons(*got, c.Rules().Bulk); len(reasons) > 0 {
				t.Fatalf("approved scope is bulk: %v", reasons)
			}
		})
	}
}

func TestClause6_1_NarrowingCannotWidenTheRequest(t *testing.T) {
	tests := []struct {
		name string
		n    domain.Narrowing
	}{
		{"target not in the request", domain.Narrowing{TargetIDs: []string{"t1", "someone-else"}}},
		{"target listed twice", domain.Narrowing{TargetIDs: []string{"t1", "t1"}}},
		{"more targets than the request", domain.Narrowing{TargetIDs: []string{"t1", "t2", "t1"}}},
		{"more targets than any request may list", domain.Narrowing{TargetIDs: slices.Repeat([]string{"t1"}, domain.MaxNarrowingTargets+1)}},
		{"category not asked for", domain.Narrowing{DataCategories: []string{"location"}}},
		{"time range outside the request", domain.Narrowing{TimeRange: domain.TimeRange{From: t0.AddDate(-1, 0, 0), To: t0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
			d := disclose(domain.BasisCompellingLegalObligation)
			d.Narrowing = &tt.n
			_, err := c.Decide(d, alice, t0)
			wantInvalid(t, err)
		})
	}
}

func TestClause4_1_1_RedirectOnlyWhenCustomerIsController(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	_, err := c.Decide(domain.Decision{Kind: policy.DecisionRedirectToCustomer}, alice, t0)
	wantPolicy(t, err, "4.1.1", domain.RuleRedirectWithoutCustomer)
}

// germany is an overlay that tightens every rule it can.
func germany() domain.Overlay {
	return domain.Overlay{
		Name:                   "DE-BDSG",
		Jurisdictions:          []string{"DE"},
		CustomerNoticeHours:    intp(72),
		ExtraApprovals:         1,
		RequiredFactors:        []domain.Factor{domain.FactorValidity},
		RequiredCounsel:        []domain.CounselKind{domain.CounselOutside},
		RequireRightsWeighed:   true,
		MaxTargets:             intp(1),
		EmergencyReviewMinutes: intp(30),
	}
}

func TestClause1_2_OverlayAddsRequirements(t *testing.T) {
	cfg := domain.DefaultConfig()
	cfg.Overlays = []domain.Overlay{germany()}
	f := narrowFacts()
	f.AuthorityCountry = "de"
	f.CustomerIsController, f.CustomerID = true, "cust-9"

	c := reviewedCase(t, f, cfg)
	if !c.HasFlag(domain.FlagBulkScope) {
		t.Error("two targets should be bulk under the overlay's max_targets 1")
	}
	d := disclose(domain.BasisCompellingLegalObligation)
	d.Narrowing = &domain.Narrowing{TargetIDs: []string{"t1"}}

	_, err := c.Decide(d, alice, t0)
	wantPolicy(t, err, "1.2", domain.RuleOverlayRequirement) // rights not weighed
	weighRights(t, c)
	_, err = c.Decide(d, alice, t0)
	wantPolicy(t, err, "1.2", domain.RuleOverlayRequirement) // outside counsel not consulted
	apply(t, c)(c.RecordCounsel(domain.CounselOutside, t0, "disclosure lawful under German law", alice, t0))

	apply(t, c)(c.Decide(d, alice, t0))
	apply(t, c)(c.Approve(bob, t0))
	if c.Status() != domain.StatusDecisionPendingApproval {
		t.Fatalf("status %s after one approval, want still pending (overlay adds one)", c.Status())
	}
	apply(t, c)(c.Approve(carol, t0))
	got := c.Decided()
	if got == nil {
		t.Fatal("not decided after the second approval")
	}
	if n := got.Notification; n.CustomerNoticePeriod != 72*time.Hour || len(n.Overlays) != 1 || n.Overlays[0] != "DE-BDSG" {
		t.Errorf("notification = %+v, want 72h notice under DE-BDSG", n)
	}
}

func TestClause1_2_OverlayAppliesOnlyToItsJurisdictions(t *testing.T) {
	cfg := domain.DefaultConfig()
	cfg.Overlays = []domain.Overlay{germany()}
	base := cfg.RulesFor(narrowFacts())
	if len(base.Overlays) != 0 || base.RequiredApprovals != 1 {
		t.Fatalf("IE request got %+v, want base rules", base)
	}
	f := narrowFacts()
	f.Jurisdictions = []string{"DE"} // e.g. the customer is established there
	if r := cfg.RulesFor(f); r.RequiredApprovals != 2 || r.EmergencyReview != 30*time.Minute {
		t.Fatalf("rules %+v, want the DE overlay through an applicable jurisdiction", r)
	}
}

func TestClause1_2_OverlayMayOnlyTighten(t *testing.T) {
	base := domain.DefaultConfig()
	base.CustomerNoticePeriod = 48 * time.Hour
	loose := domain.Overlay{
		Name: "loose", Jurisdictions: []string{"XX"},
		CustomerNoticeHours: intp(1), ExtraApprovals: -1, MaxTargets: intp(1000),
		MaxTimeRangeDays: intp(10000), EmergencyReviewMinutes: intp(600), StandardReviewBusinessDays: intp(9),
	}
	base.Overlays = []domain.Overlay{loose}
	if err := base.Validate(); err == nil {
		t.Fatal("a config holding a loosening overlay validated")
	}
	// Even unvalidated, merging keeps every base requirement.
	f := narrowFacts()
	f.AuthorityCountry = "XX"
	r := base.RulesFor(f)
	want := domain.DefaultConfig()
	if r.RequiredApprovals < 1 || r.CustomerNoticePeriod != 48*time.Hour || r.Bulk != want.Bulk ||
		r.EmergencyReview != want.EmergencyReview || r.StandardReviewBusinessDays != want.StandardReviewBusinessDays {
		t.Fatalf("merged rules %+v are looser than the base", r)
	}
}

func TestClause1_2_LoadOverlayRejectsLoosening(t *testing.T) {
	base := domain.DefaultConfig()
	base.CustomerNoticePeriod = 48 * time.Hour
	tests := []struct {
		name, json, rule string
	}{
		{"higher target threshold", `{"name":"x","jurisdictions":["US"],"max_targets":50}`, "max_targets"},
		{"fewer approvals", `{"name":"x","jurisdictions":["US"],"extra_approvals":-1}`, "extra_approvals"},
		{"shorter customer notice", `{"name":"x","jurisdictions":["US"],"customer_notice_hours":24}`, "customer_notice_hours"},
		{"longer time range", `{"name":"x","jurisdictions":["US"],"max_time_range_days":3650}`, "max_time_range_days"},
		{"slower emergency review", `{"name":"x","jurisdictions":["US"],"emergency_review_minutes":240}`, "emergency_review_minutes"},
		{"slower standard review", `{"name":"x","jurisdictions":["US"],"standard_review_business_days":10}`, "standard_review_business_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := domain.LoadOverlay([]byte(tt.json), base)
			wantPolicy(t, err, "1.2", domain.RuleOverlayLoosens)
			if !strings.Contains(err.Error(), tt.rule) {
				t.Fatalf("error %q does not name the rule %s", err, tt.rule)
			}
		})
	}
	t.Run("unknown rule that would switch one off", func(t *testing.T) {
		_, err := domain.LoadOverlay([]byte(`{"name":"x","jurisdictions":["US"],"skip_four_eyes":true}`), base)
		wantInvalid(t, err)
		if !strings.Contains(err.Error(), "skip_four_eyes") {
			t.Fatalf("error %q does not name the field", err)
		}
	})
}

func TestClause1_2_LoadOverlayAcceptsStricterRules(t *testing.T) {
	o, err := domain.LoadOverlay([]byte(`{
		"name": "DE-BDSG", "jurisdictions": ["DE"],
		"customer_notice_hours": 72, "extra_approvals": 1,
		"required_factors": ["validity_under_applicable_law"],
		"required_counsel": ["outside_counsel"], "require_rights_weighed": true,
		"max_targets": 3, "max_time_range_days": 30,
		"emergency_review_minutes": 30, "standard_review_business_days": 1
	}`), domain.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if o.ExtraApprovals != 1 || *o.MaxTargets != 3 || o.RequiredCounsel[0] != domain.CounselOutside {
		t.Fatalf("decoded %+v", o)
	}
}

func TestClause1_2_OverlayExtraFactorsApplyToEveryDecision(t *testing.T) {
	cfg := domain.DefaultConfig()
	cfg.Overlays = []domain.Overlay{{Name: "strict", Jurisdictions: []string{"IE"}, RequiredFactors: []domain.Factor{domain.FactorValidity}}}
	c := openCase(t, narrowFacts(), cfg)
	apply(t, c)(c.Claim(alice, t0))
	recordFactors(t, c, domain.FactorNature, domain.FactorScope)
	_, err := c.Decide(domain.Decision{Kind: policy.DecisionRequestMoreInformation, Grounds: "which period?"}, alice, t0)
	wantPolicy(t, err, "3.3", domain.RuleFactorsNotRecorded)
	recordFactors(t, c, domain.FactorValidity)
	apply(t, c)(c.Decide(domain.Decision{Kind: policy.DecisionRequestMoreInformation, Grounds: "which period?"}, alice, t0))
}

func TestDecisionRecordsPolicyVersion(t *testing.T) {
	cfg := domain.DefaultConfig()
	cfg.PolicyVersion = "GDRP-2025.2"
	c := reviewedCase(t, narrowFacts(), cfg)
	evs := apply(t, c)(c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0))
	if v := evs[0].(domain.DecisionProposed).PolicyVersion; v != "GDRP-2025.2" {
		t.Errorf("proposal version %q", v)
	}
	apply(t, c)(c.Approve(bob, t0))
	if v := c.Decided().PolicyVersion; v != "GDRP-2025.2" {
		t.Errorf("decision version %q", v)
	}

	c = reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(domain.Decision{Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, alice, t0))
	if v := c.Decided().PolicyVersion; v != domain.DefaultPolicyVersion {
		t.Errorf("reject version %q, want %q", v, domain.DefaultPolicyVersion)
	}
}

func TestNotificationRequirementsCarryWhatNotificationNeeds(t *testing.T) {
	f := narrowFacts()
	f.CustomerIsController, f.CustomerID = true, "cust-9"
	f.Gag = domain.Gag{Present: true, Reference: "NDO-17", Expires: t0.AddDate(0, 6, 0)}
	f.ImminentRiskClaimed = true
	f.CountryAdequate = false
	f.AuthorityCountry = "ZZ"
	c := reviewedCase(t, f, domain.DefaultConfig())
	weighRights(t, c)
	d := disclose(domain.BasisImminentRisk)
	d.Narrowing = &domain.Narrowing{TargetIDs: []string{"t2"}, DataCategories: []string{"subscriber_info"}}
	apply(t, c)(c.Decide(d, alice, t0))
	verified(t, c)
	apply(t, c)(c.Approve(bob, t0))

	n := c.Decided().Notification
	switch {
	case !n.CustomerIsController || n.CustomerID != "cust-9":
		t.Errorf("customer: %+v", n)
	case n.Prohibition == nil || n.Prohibition.Reference != "NDO-17" || !n.Prohibition.Expires.Equal(f.Gag.Expires):
		t.Errorf("prohibition: %+v", n.Prohibition)
	case !n.ImminentRisk || !n.ImminentRiskClaimed:
		t.Errorf("imminent risk: %+v", n)
	case n.CountryAdequate || n.AuthorityCountry != "ZZ":
		t.Errorf("adequacy: %+v", n)
	case n.Scope == nil || len(n.Scope.TargetIDs) != 1 || n.Scope.TargetIDs[0] != "t2" ||
		len(n.Scope.DataCategories) != 1 || n.Scope.DataCategories[0] != "subscriber_info":
		t.Errorf("scope: %+v", n.Scope)
	}
}

func TestOpenIsIdempotent(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	evs, err := c.Open(narrowFacts(), domain.DefaultConfig(), sys, t0.Add(time.Minute))
	if err != nil || len(evs) != 0 {
		t.Fatalf("reopen returned %v, %v; want nothing", evs, err)
	}
	other := narrowFacts()
	other.RequestID = "req-2"
	if _, err := c.Open(other, domain.DefaultConfig(), sys, t0); !errors.Is(err, ddrerr.ErrConflict) {
		t.Fatalf("opening another request on the case: %v, want ErrConflict", err)
	}
}

func TestOpenRejectsInvalidFacts(t *testing.T) {
	f := narrowFacts()
	f.ReceivedAt = time.Time{}
	_, err := (&domain.Case{}).Open(f, domain.DefaultConfig(), sys, t0)
	wantInvalid(t, err)
}
