package domain

import (
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// RequestFacts is what the assessment rules need to know about an intake
// request. Targets appear only as opaque ids: the rules count and select
// them but never need who they are.
type RequestFacts struct {
	RequestID string
	// ReceivedAt is when the group member received the request (3.1).
	ReceivedAt time.Time
	// ForwardedAt is when intake recorded it; zero when unknown.
	ForwardedAt time.Time
	// LateForwarded is intake's verdict on the delay between ReceivedAt and
	// ForwardedAt (3.1).
	LateForwarded bool

	AuthorityKind string
	// AuthorityCountry is an ISO 3166-1 alpha-2 code.
	AuthorityCountry string
	// CountryAdequate is computed elsewhere from the adequacy list; the zero
	// value (false) is also right for an unknown country (4.2.1).
	CountryAdequate bool
	// Jurisdictions lists further jurisdictions whose law applies (for
	// example the customer's establishment); overlays for them apply too.
	Jurisdictions []string
	// LegalProcess may be "none": a request needs no court order (3.2).
	LegalProcess string
	// EnforcingAuthorityNotified: for a European Production Order, the
	// issuing authority notified the enforcing authority (Regulation
	// 2023/1543 Art. 8), so transmission waits (issue 18's clocks).
	EnforcingAuthorityNotified bool

	// TargetCount is how many targets the request names; TargetIDs holds an
	// opaque id per listed target. The larger of the two counts.
	TargetCount int
	TargetIDs   []string
	// ScopeDescribed: the request describes whose data it wants in words.
	ScopeDescribed bool
	Selectors      Selectors
	DataCategories []string
	TimeRange      TimeRange

	EmergencyClaimed    bool
	ImminentRiskClaimed bool
	Gag                 Gag
	// Deadline is the authority's deadline; zero when none.
	Deadline time.Time

	// CustomerIsController: the data is processed on behalf of a business
	// customer, who is its controller (4.1).
	CustomerIsController bool
	CustomerID           string
	// CustomerEstablishment is the ISO country of the customer's
	// establishment, when intake was told (2.2: its DPA is competent).
	CustomerEstablishment string
	// Customers lists every customer the request concerns (issue 16);
	// empty on facts recorded before a request could name several, when
	// the legacy fields above describe the one customer (AllCustomers).
	Customers []Customer
}

// Selectors are the indiscriminate ways a request can name its targets.
type Selectors struct {
	WholeTenant  bool
	WholeService bool
}

// TimeRange bounds the data sought. A zero From or To leaves that end open.
type TimeRange struct {
	From time.Time
	To   time.Time
}

// Bounded reports whether both ends are set.
func (r TimeRange) Bounded() bool { return !r.From.IsZero() && !r.To.IsZero() }

// Duration is the length of a bounded range, 0 otherwise.
func (r TimeRange) Duration() time.Duration {
	if !r.Bounded() {
		return 0
	}
	return r.To.Sub(r.From)
}

// contains reports whether inner lies within r; an open end of r admits
// anything on that side.
func (r TimeRange) contains(inner TimeRange) bool {
	if !r.From.IsZero() && (inner.From.IsZero() || inner.From.Before(r.From)) {
		return false
	}
	if !r.To.IsZero() && (inner.To.IsZero() || inner.To.After(r.To)) {
		return false
	}
	return true
}

// Gag is a claimed non-disclosure order.
type Gag struct {
	Present   bool
	Reference string
	// Expires is zero when the order has no stated end.
	Expires time.Time
}

// Targets is the number of targets the request names.
func (f RequestFacts) Targets() int { return max(f.TargetCount, len(f.TargetIDs)) }

// Urgent reports whether the case goes to the front of the queue and gets
// the short review deadline.
func (f RequestFacts) Urgent() bool { return f.EmergencyClaimed || f.ImminentRiskClaimed }

// Validate checks the facts are usable. Messages never repeat values.
func (f RequestFacts) Validate() error {
	var c ddrerr.Collector
	if f.RequestID == "" {
		c.Add("request_id", "required")
	}
	if f.ReceivedAt.IsZero() {
		c.Add("received_at", "required: the date the request was received (3.1)")
	}
	if f.TargetCount < 0 {
		c.Add("target_count", "must not be negative")
	}
	for _, id := range f.TargetIDs {
		if id == "" {
			c.Add("target_ids", "ids must not be empty")
			break
		}
	}
	if f.TimeRange.Bounded() && f.TimeRange.To.Before(f.TimeRange.From) {
		c.Add("time_range", "end is before start")
	}
	return c.Err()
}
