package domain

import (
	"slices"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// LegalBasis is why a disclosure is allowed at all (2.1).
type LegalBasis string

// The only two bases 2.1 admits.
const (
	BasisCompellingLegalObligation LegalBasis = "compelling_legal_obligation"
	BasisImminentRisk              LegalBasis = "imminent_risk_of_serious_harm"
)

// Valid reports whether b is one of the two bases.
func (b LegalBasis) Valid() bool {
	return b == BasisCompellingLegalObligation || b == BasisImminentRisk
}

// Decision is what the reviewer decides.
type Decision struct {
	// ID names the decision so an approver can say which one they approve;
	// the rules do not look at it.
	ID   string
	Kind policy.DecisionKind
	// Basis is required for Disclose and must be empty otherwise.
	Basis LegalBasis
	// Narrowing restricts a disclosure; nil discloses all that was asked.
	Narrowing *Narrowing
	// Grounds explains the decision; required for challenge, reject and a
	// request for more information (what is missing).
	Grounds string
	// Statute is the statute creating the compelling legal obligation when
	// the request came with no legal process (2.1, 3.2).
	Statute string
}

// ChallengeOutcome is how a challenge judged warranted ended (3.3).
type ChallengeOutcome string

// Challenge outcomes.
const (
	// ChallengeUpheld: the challenge succeeded, wholly or in part; only a
	// reject or a narrower disclosure may follow.
	ChallengeUpheld ChallengeOutcome = "upheld"
	// ChallengeDismissed: the request stands as made.
	ChallengeDismissed ChallengeOutcome = "dismissed"
)

// Prohibition is a non-disclosure order as notification must honour it.
type Prohibition struct {
	Reference string
	Expires   time.Time
}

// NotificationRequirements is what the notification service needs to plan
// the steps of section 4 for a decision.
type NotificationRequirements struct {
	Outcome policy.DecisionKind
	// CustomerIsController and CustomerID drive 4.1.
	CustomerIsController bool
	CustomerID           string
	// CustomerEstablishment: the customer's DPA is competent too (2.2).
	CustomerEstablishment string
	// Prohibition is nil unless a non-disclosure order is claimed.
	Prohibition *Prohibition
	// ImminentRisk: the disclosure rests on an imminent risk of serious harm,
	// which may exempt prior notice (4.1.2, 4.2.1).
	ImminentRisk        bool
	ImminentRiskClaimed bool
	// ImminentRiskJustification is the reviewer's recorded justification of
	// a risk the authority did not claim; notification accepts it as the
	// finding an imminent-risk exemption rests on.
	ImminentRiskJustification string
	AuthorityCountry          string
	CountryAdequate           bool
	// Scope is the scope to disclose; nil unless Outcome is Disclose.
	Scope *Scope
	// CustomerNoticePeriod is how long before disclosure the customer must
	// have been told, after overlays (1.2).
	CustomerNoticePeriod time.Duration
	Overlays             []string
	// Customers: every customer, each with its role (issue 16); a redirect
	// request and a notice are owed per controller customer.
	Customers []Customer
}

// RequirementsFor is what notification needs for decision d on a request
// with facts f under rules r; a replay rebuilds CaseDecided's with it.
func RequirementsFor(f RequestFacts, r Rules, d Decision) NotificationRequirements {
	return notificationRequirements(f, r, d)
}

func notificationRequirements(f RequestFacts, r Rules, d Decision) NotificationRequirements {
	n := NotificationRequirements{
		Outcome:              d.Kind,
		CustomerIsController: f.CustomerIsController,
		CustomerID:           f.CustomerID,
		ImminentRisk:         d.Kind == policy.DecisionDisclose && d.Basis == BasisImminentRisk,

		CustomerEstablishment: f.CustomerEstablishment,
		ImminentRiskClaimed:   f.ImminentRiskClaimed,
		AuthorityCountry:      f.AuthorityCountry,
		CountryAdequate:       f.CountryAdequate,
		CustomerNoticePeriod:  r.CustomerNoticePeriod,
		Overlays:              slices.Clone(r.Overlays),
		Customers:             f.AllCustomers(),
	}
	if f.Gag.Present {
		n.Prohibition = &Prohibition{Reference: f.Gag.Reference, Expires: f.Gag.Expires}
	}
	if d.Kind == policy.DecisionDisclose {
		s := DisclosedScope(f, d.Narrowing)
		n.Scope = &s
	}
	return n
}
