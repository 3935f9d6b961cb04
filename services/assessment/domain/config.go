package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// DefaultPolicyVersion names the policy text these rules implement.
const DefaultPolicyVersion = "GDRP-2024.1"

// BulkThresholds tune when a scope counts as bulk (6.1). Selectors for a
// whole tenant or service and a scope described without listed targets are
// always bulk: they are indiscriminate by definition, so no setting turns
// them off.
type BulkThresholds struct {
	// MaxTargets is the most targets a non-bulk scope may have.
	MaxTargets int
	// MaxTimeRange is the longest non-bulk time range; an open-ended range
	// is always bulk.
	MaxTimeRange time.Duration
}

// Settings are the requirements the base configuration sets and a case's
// [Rules] keep, each at least as strict as the base.
type Settings struct {
	PolicyVersion string
	Bulk          BulkThresholds
	// EmergencyReview is the review deadline of an urgent case.
	EmergencyReview time.Duration
	// StandardReviewBusinessDays is the review deadline of other cases.
	StandardReviewBusinessDays int
	// RequiredApprovals is how many people other than the proposer must
	// approve a disclosure; at least 1 (four eyes).
	RequiredApprovals int
	// CustomerNoticePeriod is how long before a disclosure the customer must
	// have been notified (4.1.2); 0 means "before".
	CustomerNoticePeriod time.Duration
}

// Config is the base policy configuration. Overlays can only tighten it.
type Config struct {
	Settings
	Overlays []Overlay
}

// DefaultConfig returns the defaults of issue 4.
func DefaultConfig() Config {
	return Config{Settings: Settings{
		PolicyVersion:              DefaultPolicyVersion,
		Bulk:                       BulkThresholds{MaxTargets: 10, MaxTimeRange: 180 * 24 * time.Hour},
		EmergencyReview:            time.Hour,
		StandardReviewBusinessDays: 2,
		RequiredApprovals:          1,
	}}
}

// Validate rejects a configuration that would switch a rule off, and any
// overlay in it that loosens the base.
func (c Config) Validate() error {
	var v ddrerr.Collector
	if c.PolicyVersion == "" {
		v.Add("policy_version", "required: every decision records it")
	}
	if c.Bulk.MaxTargets < 1 {
		v.Add("bulk.max_targets", "must be at least 1")
	}
	if c.Bulk.MaxTimeRange <= 0 {
		v.Add("bulk.max_time_range", "must be positive")
	}
	if c.EmergencyReview <= 0 {
		v.Add("emergency_review", "must be positive")
	}
	if c.StandardReviewBusinessDays < 1 {
		v.Add("standard_review_business_days", "must be at least 1")
	}
	if c.RequiredApprovals < 1 {
		v.Add("required_approvals", "must be at least 1: a disclosure needs a second person")
	}
	if c.CustomerNoticePeriod < 0 {
		v.Add("customer_notice_period", "must not be negative")
	}
	if err := v.Err(); err != nil {
		return err
	}
	for _, o := range c.Overlays {
		if err := o.Validate(c); err != nil {
			return err
		}
	}
	return nil
}

// Rules are the requirements in force for one case: the base configuration
// tightened by every overlay that applies to it. A case keeps the rules it
// was opened under in its CaseOpened event.
type Rules struct {
	Settings
	// ExtraFactors must be recorded before any decision, on top of the base
	// minimum for its kind.
	ExtraFactors []Factor
	// RightsWeighedForAllDisclosures extends the 2.1 rights weighing from
	// imminent-risk disclosures to every disclosure.
	RightsWeighedForAllDisclosures bool
	// CounselBeforeDisclosure lists counsel that must have been consulted
	// before a disclosure.
	CounselBeforeDisclosure []CounselKind
	// Overlays names the overlays applied, in configuration order.
	Overlays []string
}

// RulesFor merges the overlays that apply to f into the base. Every merge
// keeps the stricter value, so an overlay can never loosen a rule even if it
// slipped past [Overlay.Validate].
func (c Config) RulesFor(f RequestFacts) Rules {
	r := Rules{Settings: c.Settings}
	r.RequiredApprovals = max(c.RequiredApprovals, 1)
	r.CustomerNoticePeriod = max(c.CustomerNoticePeriod, 0)
	for _, o := range c.Overlays {
		if !o.AppliesTo(f) {
			continue
		}
		r.Overlays = append(r.Overlays, o.Name)
		if o.CustomerNoticeHours != nil {
			r.CustomerNoticePeriod = max(r.CustomerNoticePeriod, time.Duration(min(*o.CustomerNoticeHours, maxOverlayNumber))*time.Hour)
		}
		r.RequiredApprovals += min(max(o.ExtraApprovals, 0), 100)
		for _, fa := range o.RequiredFactors {
			if fa.Valid() && !slices.Contains(r.ExtraFactors, fa) {
				r.ExtraFactors = append(r.ExtraFactors, fa)
			}
		}
		r.RightsWeighedForAllDisclosures = r.RightsWeighedForAllDisclosures || o.RequireRightsWeighed
		for _, k := range o.RequiredCounsel {
			if k.Valid() && !slices.Contains(r.CounselBeforeDisclosure, k) {
				r.CounselBeforeDisclosure = append(r.CounselBeforeDisclosure, k)
			}
		}
		if o.MaxTargets != nil && *o.MaxTargets >= 1 {
			r.Bulk.MaxTargets = min(r.Bulk.MaxTargets, *o.MaxTargets)
		}
		if o.MaxTimeRangeDays != nil && *o.MaxTimeRangeDays >= 1 {
			r.Bulk.MaxTimeRange = min(r.Bulk.MaxTimeRange, time.Duration(min(*o.MaxTimeRangeDays, maxOverlayDays))*24*time.Hour)
		}
		if o.EmergencyReviewMinutes != nil && *o.EmergencyReviewMinutes >= 1 {
			r.EmergencyReview = min(r.EmergencyReview, time.Duration(min(*o.EmergencyReviewMinutes, maxOverlayNumber))*time.Minute)
		}
		if o.StandardReviewBusinessDays != nil && *o.StandardReviewBusinessDays >= 1 {
			r.StandardReviewBusinessDays = min(r.StandardReviewBusinessDays, *o.StandardReviewBusinessDays)
		}
	}
	return r
}

// RequiredFactors is the minimum review (3.3) before a decision of kind k.
//
// Every decision that ends the assessment (disclose, redirect, challenge,
// reject) needs all six factors: 3.3 asks for each request to be reviewed
// on all of them before choosing whether to challenge or whom to notify.
// Asking the authority for more information needs only nature and scope:
// that decision exists because the other factors cannot be judged yet, but
// the team must at least know what is asked and how wide it is.
// Overlays may add factors to every kind.
func (r Rules) RequiredFactors(k policy.DecisionKind) []Factor {
	var out []Factor
	if k == policy.DecisionRequestMoreInformation {
		out = []Factor{FactorNature, FactorScope}
	} else {
		out = AllFactors()
	}
	for _, f := range r.ExtraFactors {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func sameJurisdiction(a, b string) bool {
	return a != "" && strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
