package domain

import (
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// mayLeadToDisclosure: only these decisions can end in data leaving the
// company, so only they get notice steps. A redirect counts because if the
// authority will not go to the customer, 4.1.2 and 4.2.1 apply before a
// later disclose decision can take effect.
func mayLeadToDisclosure(d policy.DecisionKind) bool {
	return d == policy.DecisionDisclose || d == policy.DecisionRedirectToCustomer
}

// Customer is the business customer whose data is sought.
type Customer struct {
	// Controller: the company processes the data on the customer's behalf
	// (the customer is the controller), which is what brings in 2.2's
	// "and ... the Customer" and all of 4.1.
	Controller bool
	ID         string
	// Establishment is the country of the customer's establishment
	// (ISO 3166-1 alpha-2): the data protection authority competent for it
	// is one of the authorities notified under 2.2.
	Establishment string
}

// Prohibition is a legal bar on telling anyone about the request (a gag).
// Notification treats it as barring notice to the customer and to the DPAs
// alike: its exact reach is rarely clear, and guessing too narrowly would
// break the law; 4.2.2's efforts exist to narrow it lawfully instead.
type Prohibition struct {
	Present   bool
	Reference string    // the order or statute, no personal data
	ExpiresAt time.Time // zero: no end date
}

// ImminentRisk is the assessment's finding of an imminent risk of serious
// harm. Basis is required when Present: the policy lets notices be skipped
// for it, and a skip without a recorded reason could not be checked later.
type ImminentRisk struct {
	Present bool
	Basis   string
	// Claimed: the authority itself claimed an imminent risk of serious
	// harm. Justification: a reviewer's recorded justification of the risk
	// when the authority claimed none (assessment requires it, with a legal
	// approver, before such a decision). Either one is the recorded finding
	// an imminent-risk exemption rests on; the decision's basis alone is not.
	Claimed       bool
	Justification string
}

// Finding reports whether an imminent-risk finding is recorded: the
// authority's claim or a reviewer's justification, whatever the basis of the
// decision (a court order in a kidnapping case can carry one).
func (r ImminentRisk) Finding() bool {
	return r.Claimed || strings.TrimSpace(r.Justification) != ""
}

// Requirements is what notification needs from a decision.
type Requirements struct {
	RequestID string
	// DecisionID is the assessment decision the plan follows; a new decision
	// on the same request derives the plan again.
	DecisionID string
	Decision   policy.DecisionKind
	Customer   Customer
	// Customers lists further controller customers whose data the request
	// seeks, each with its establishment (2.2 names "the competent data
	// protection authorities": one per establishment, plus the lead).
	Customers []Customer
	// DecisionProposer is who proposed the decision: they can never confirm
	// a safeguard lifted for it.
	DecisionProposer string
	Prohibition      Prohibition
	ImminentRisk     ImminentRisk
	AuthorityCountry string
	ReceivedAt       time.Time
	// CustomerNoticePeriod is the least time between the customer notice and
	// any disclosure, set by a stricter local law (1.2). Zero: none.
	CustomerNoticePeriod time.Duration
}

// Validate checks the requirements are complete enough to plan from.
func (r Requirements) Validate() error {
	var v ddrerr.Collector
	if strings.TrimSpace(r.RequestID) == "" {
		v.Add("request_id", "required")
	}
	if !r.Decision.Valid() {
		v.Add("decision", "must be disclose, redirect_to_customer, challenge, reject or request_more_information")
	}
	if r.Customer.Controller && strings.TrimSpace(r.Customer.ID) == "" {
		v.Add("customer.id", "required when the customer is the controller: the notice needs an addressee")
	}
	if r.Decision == policy.DecisionRedirectToCustomer && !r.anyController() {
		v.Add("decision", "redirect_to_customer needs a customer that is the controller (4.1.1)")
	}
	if r.Prohibition.Present && strings.TrimSpace(r.Prohibition.Reference) == "" {
		v.Add("prohibition.reference", "required when a prohibition is present: it is the recorded basis for skipping notices")
	}
	if !r.Prohibition.Present && !r.Prohibition.ExpiresAt.IsZero() {
		v.Add("prohibition.expires_at", "set without a prohibition")
	}
	if r.ImminentRisk.Present && strings.TrimSpace(r.ImminentRisk.Basis) == "" {
		v.Add("imminent_risk.basis", "required when imminent risk is present: it is the recorded basis for skipping notices")
	}
	if r.ReceivedAt.IsZero() {
		v.Add("received_at", "required: adequacy is judged as of this date")
	}
	if r.Prohibition.Present && !r.Prohibition.ExpiresAt.IsZero() && !r.ReceivedAt.IsZero() && !r.Prohibition.ExpiresAt.After(r.ReceivedAt) {
		v.Add("prohibition.expires_at", "must be after received_at")
	}
	if r.CustomerNoticePeriod < 0 {
		v.Add("customer_notice_period", "must not be negative")
	}
	return v.Err()
}
