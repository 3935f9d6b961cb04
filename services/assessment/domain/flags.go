package domain

import (
	"fmt"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// FlagCode identifies an automatic flag.
type FlagCode string

// Flag codes.
const (
	FlagBulkScope              FlagCode = "BULK_SCOPE"
	FlagCustomerIsController   FlagCode = "CUSTOMER_IS_CONTROLLER"
	FlagCountryNotAdequate     FlagCode = "COUNTRY_NOT_ADEQUATE"
	FlagNotificationProhibited FlagCode = "NOTIFICATION_PROHIBITED"
	FlagImminentRiskClaimed    FlagCode = "IMMINENT_RISK_CLAIMED"
	FlagEmergency              FlagCode = "EMERGENCY"
	FlagDeadline               FlagCode = "DEADLINE"
	FlagLateForwarding         FlagCode = "LATE_FORWARDING"
)

// Flag draws the reviewer's attention to a rule the request touches.
// Explanations are plain sentences without personal data.
type Flag struct {
	Code        FlagCode
	Clause      policy.Clause
	Explanation string
}

// ComputeFlags returns the flags f raises under cfg and the overlays that
// apply to it, in a fixed order.
func ComputeFlags(f RequestFacts, cfg Config) []Flag {
	return computeFlags(f, cfg.RulesFor(f))
}

func computeFlags(f RequestFacts, r Rules) []Flag {
	var out []Flag
	add := func(code FlagCode, clause policy.Clause, expl string) {
		out = append(out, Flag{Code: code, Clause: clause, Explanation: expl})
	}
	if reasons := BulkReasons(f.Scope(), r.Bulk); len(reasons) > 0 {
		add(FlagBulkScope, policy.Clause6_1, "Bulk scope: "+strings.Join(reasons, "; ")+
			". A disclosure must be narrowed below the thresholds.")
	}
	if f.anyController() {
		add(FlagCustomerIsController, policy.Clause4_1, "The data is processed on behalf of a business customer, who is its controller: "+
			"ask the authority to go to the customer (4.1.1), otherwise notify the customer before any disclosure (4.1.2).")
	}
	if !f.CountryAdequate {
		add(FlagCountryNotAdequate, policy.Clause4_2_1, "The authority's country is not known to provide an adequate level of protection: "+
			"hold the request and consult the competent data protection authorities, unless prohibited or on imminent risk.")
	}
	if f.Gag.Present {
		expl := "A non-disclosure order is claimed: customer and authority notices may be prohibited (4.1.2); " +
			"best efforts to get it waived must be recorded (4.2.2)."
		if !f.Gag.Expires.IsZero() {
			expl += " It expires " + f.Gag.Expires.UTC().Format(time.RFC3339) + "."
		}
		add(FlagNotificationProhibited, policy.Clause4_2_2, expl)
	}
	if f.ImminentRiskClaimed {
		add(FlagImminentRiskClaimed, policy.Clause2_1, "The authority claims an imminent risk of serious harm: "+
			"a disclosure on that basis needs all six factors and the affected people's rights weighed.")
	}
	if f.EmergencyClaimed {
		add(FlagEmergency, policy.Clause3_3, fmt.Sprintf("Emergency claimed: the review is due within %s and still needs two people to disclose.", r.EmergencyReview))
	}
	if !f.Deadline.IsZero() {
		add(FlagDeadline, policy.Clause3_3, "The authority set a deadline of "+f.Deadline.UTC().Format(time.RFC3339)+".")
	}
	if late, delay := lateForwarding(f); late {
		expl := "The request was not passed to the Privacy Team immediately upon receipt."
		if delay > 0 {
			expl = fmt.Sprintf("The request reached the Privacy Team %s after it was received, not immediately.", delay.Round(time.Minute))
		}
		add(FlagLateForwarding, policy.Clause3_1, expl)
	}
	return out
}

func lateForwarding(f RequestFacts) (bool, time.Duration) {
	var delay time.Duration
	if !f.ForwardedAt.IsZero() && f.ForwardedAt.After(f.ReceivedAt) {
		delay = f.ForwardedAt.Sub(f.ReceivedAt)
	}
	return f.LateForwarded, delay
}
