package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Overlay holds the stricter requirements of one jurisdiction's law (1.2).
// Every field can only add to the base: a longer notice, more approvals,
// more factors, lower bulk thresholds, shorter review deadlines. There is
// deliberately no field that could switch a requirement off.
type Overlay struct {
	Name string `json:"name"`
	// Jurisdictions are the country codes the overlay applies to; it applies
	// when the authority's country or any applicable jurisdiction matches.
	Jurisdictions []string `json:"jurisdictions"`

	CustomerNoticeHours  *int          `json:"customer_notice_hours,omitempty"`
	ExtraApprovals       int           `json:"extra_approvals,omitempty"`
	RequiredFactors      []Factor      `json:"required_factors,omitempty"`
	RequireRightsWeighed bool          `json:"require_rights_weighed,omitempty"`
	RequiredCounsel      []CounselKind `json:"required_counsel,omitempty"`
	MaxTargets           *int          `json:"max_targets,omitempty"`
	MaxTimeRangeDays     *int          `json:"max_time_range_days,omitempty"`

	EmergencyReviewMinutes     *int `json:"emergency_review_minutes,omitempty"`
	StandardReviewBusinessDays *int `json:"standard_review_business_days,omitempty"`
}

// maxOverlayNumber bounds numeric overlay fields so converting them to
// durations cannot overflow (a million hours is over a century).
const maxOverlayNumber = 1_000_000

// maxOverlayDays bounds the fields counted in days: a million days is
// past time.Duration's range (about 106,751 days), where the conversion
// wrapped negative and a looser bulk range passed the loosening check
// (found by FuzzLoadOverlay: 107,000 days). Ten thousand days is over
// 27 years, longer than any bulk range a jurisdiction sets.
const maxOverlayDays = 10_000

// RuleOverlayLoosens is the Rule of the refusal of an overlay that would
// weaken the base policy.
const RuleOverlayLoosens = "OVERLAY_LOOSENS_RULE"

// LoadOverlay decodes a JSON overlay and validates it against base. Unknown
// fields are refused rather than ignored: a rule this version does not know
// may be an attempt to switch one off, and silently dropping it would hide
// that. An overlay that loosens a rule gets a *ddrerr.PolicyViolation for
// clause 1.2 whose reason names every loosened rule.
func LoadOverlay(data []byte, base Config) (Overlay, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var o Overlay
	if err := dec.Decode(&o); err != nil {
		return Overlay{}, ddrerr.Invalid(ddrerr.FieldViolation{Field: "overlay", Description: decodeProblem(err)})
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Overlay{}, ddrerr.Invalid(ddrerr.FieldViolation{Field: "overlay", Description: "trailing data after the overlay object"})
	}
	if err := o.Validate(base); err != nil {
		return Overlay{}, err
	}
	return o, nil
}

func decodeProblem(err error) string {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown rule " + f + ": an overlay may only add the requirements this version knows, never switch one off"
	}
	return "not a valid overlay: " + msg
}

// Validate checks o is well formed and only tightens base.
func (o Overlay) Validate(base Config) error {
	var v ddrerr.Collector
	if strings.TrimSpace(o.Name) == "" {
		v.Add("name", "required")
	}
	if len(o.Jurisdictions) == 0 {
		v.Add("jurisdictions", "required: at least one country code")
	}
	for _, f := range o.RequiredFactors {
		if !f.Valid() {
			v.Add("required_factors", fmt.Sprintf("unknown factor %q", string(f)))
		}
	}
	for _, k := range o.RequiredCounsel {
		if !k.Valid() {
			v.Add("required_counsel", fmt.Sprintf("unknown counsel kind %q", string(k)))
		}
	}
	for _, n := range []struct {
		field string
		value *int
	}{
		{"customer_notice_hours", o.CustomerNoticeHours},
		{"max_targets", o.MaxTargets},
		{"emergency_review_minutes", o.EmergencyReviewMinutes},
		{"standard_review_business_days", o.StandardReviewBusinessDays},
	} {
		if n.value != nil && *n.value > maxOverlayNumber {
			v.Add(n.field, "out of range")
		}
	}
	if d := o.MaxTimeRangeDays; d != nil && *d > maxOverlayDays {
		v.Add("max_time_range_days", "out of range")
	}
	if o.ExtraApprovals > 100 {
		v.Add("extra_approvals", "out of range")
	}
	if err := v.Err(); err != nil {
		return err
	}

	var loosened []string
	loosen := func(rule, why string) { loosened = append(loosened, rule+" "+why) }
	if h := o.CustomerNoticeHours; h != nil && (*h < 0 || time.Duration(*h)*time.Hour < base.CustomerNoticePeriod) {
		loosen("customer_notice_hours", fmt.Sprintf("(%d) is shorter than the base notice period %s", *h, base.CustomerNoticePeriod))
	}
	if o.ExtraApprovals < 0 {
		loosen("extra_approvals", fmt.Sprintf("(%d) would remove an approval", o.ExtraApprovals))
	}
	if m := o.MaxTargets; m != nil && (*m < 1 || *m > base.Bulk.MaxTargets) {
		loosen("max_targets", fmt.Sprintf("(%d) must be between 1 and the base %d", *m, base.Bulk.MaxTargets))
	}
	if d := o.MaxTimeRangeDays; d != nil && (*d < 1 || time.Duration(*d)*24*time.Hour > base.Bulk.MaxTimeRange) {
		loosen("max_time_range_days", fmt.Sprintf("(%d) must be at least 1 and no longer than the base %s", *d, base.Bulk.MaxTimeRange))
	}
	if m := o.EmergencyReviewMinutes; m != nil && (*m < 1 || time.Duration(*m)*time.Minute > base.EmergencyReview) {
		loosen("emergency_review_minutes", fmt.Sprintf("(%d) must be at least 1 and no longer than the base %s", *m, base.EmergencyReview))
	}
	if d := o.StandardReviewBusinessDays; d != nil && (*d < 1 || *d > base.StandardReviewBusinessDays) {
		loosen("standard_review_business_days", fmt.Sprintf("(%d) must be between 1 and the base %d", *d, base.StandardReviewBusinessDays))
	}
	if len(loosened) > 0 {
		return ddrerr.Policy(policy.Clause1_2, RuleOverlayLoosens, fmt.Sprintf(
			"overlay %q would loosen the policy: %s; a jurisdiction overlay may only add requirements",
			o.Name, strings.Join(loosened, "; ")))
	}
	return nil
}

// AppliesTo reports whether the overlay's law applies to the request.
func (o Overlay) AppliesTo(f RequestFacts) bool {
	for _, j := range o.Jurisdictions {
		if sameJurisdiction(j, f.AuthorityCountry) {
			return true
		}
		for _, fj := range f.Jurisdictions {
			if sameJurisdiction(j, fj) {
				return true
			}
		}
	}
	return false
}
