package domain

import (
	"fmt"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// Outcome is how a request counts in the transparency report. The string
// forms are the stable names used in every export.
type Outcome uint8

// Outcomes, in the order reports list them. OutcomePending is a request still
// open when the report was built: it is counted, so that totals match the
// requests received, and shows up under its final outcome in no later report
// (a request belongs to the period it was received in).
const (
	OutcomePending Outcome = iota
	OutcomeContentDisclosed
	OutcomeNonContentOnly
	OutcomeNoDataDisclosed
	OutcomeRejected
	OutcomeChallenged
	OutcomeRedirected
	OutcomeWithdrawn
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	OutcomePending:          "pending",
	OutcomeContentDisclosed: "content_disclosed",
	OutcomeNonContentOnly:   "non_content_only",
	OutcomeNoDataDisclosed:  "no_data_disclosed",
	OutcomeRejected:         "rejected",
	OutcomeChallenged:       "challenged",
	OutcomeRedirected:       "redirected",
	OutcomeWithdrawn:        "withdrawn",
}

var outcomeLabels = [numOutcomes]string{
	OutcomePending:          "Pending (still open)",
	OutcomeContentDisclosed: "Content disclosed",
	OutcomeNonContentOnly:   "Non-content data only",
	OutcomeNoDataDisclosed:  "No data disclosed",
	OutcomeRejected:         "Rejected",
	OutcomeChallenged:       "Challenged",
	OutcomeRedirected:       "Redirected to the customer",
	OutcomeWithdrawn:        "Withdrawn",
}

// Outcomes lists every outcome in report order.
func Outcomes() []Outcome {
	out := make([]Outcome, numOutcomes)
	for i := range out {
		out[i] = Outcome(i)
	}
	return out
}

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return o < numOutcomes }

// String returns the stable name, e.g. "content_disclosed".
func (o Outcome) String() string {
	if !o.Valid() {
		return fmt.Sprintf("outcome(%d)", uint8(o))
	}
	return outcomeNames[o]
}

// Label is the wording for readers of the published report.
func (o Outcome) Label() string {
	if !o.Valid() {
		return o.String()
	}
	return outcomeLabels[o]
}

// MarshalText encodes the stable name.
func (o Outcome) MarshalText() ([]byte, error) {
	if !o.Valid() {
		return nil, fmt.Errorf("invalid %s", o)
	}
	return []byte(o.String()), nil
}

// UnmarshalText decodes a stable name.
func (o *Outcome) UnmarshalText(b []byte) error {
	for i, n := range outcomeNames {
		if n == string(b) {
			*o = Outcome(i)
			return nil
		}
	}
	return fmt.Errorf("unknown outcome %q", b)
}

// Restriction is what law or a court order allows the report to say about a
// request (clause 5.1: "as may be limited by applicable law or court order").
type Restriction uint8

// Restrictions.
const (
	// RestrictionNone: the request is counted in every figure.
	RestrictionNone Restriction = iota
	// RestrictionExcludedByCourtOrder: a court order keeps the request out of
	// reporting; it is counted nowhere, not even in the digest.
	RestrictionExcludedByCourtOrder
	// RestrictionNationalSecurity: national security process, which may be
	// published only as a band and only after a delay.
	RestrictionNationalSecurity
	numRestrictions
)

var restrictionNames = [numRestrictions]string{"none", "excluded_by_court_order", "national_security"}

// Valid reports whether r is a known restriction.
func (r Restriction) Valid() bool { return r < numRestrictions }

// String returns the stable name.
func (r Restriction) String() string {
	if !r.Valid() {
		return fmt.Sprintf("restriction(%d)", uint8(r))
	}
	return restrictionNames[r]
}

// ReportFacts is what the transparency report needs to know about one
// request, folded from its record by the application. It holds no personal
// data: accounts are a number, never identifiers.
type ReportFacts struct {
	RequestID         string
	ChainHead         Digest    // head of the request's record chain when the facts were taken
	ReceivedAt        time.Time // when the group member received it; decides the period
	LegalProcess      string    // stable code of the legal process, "none" when there was none (clause 3.2)
	Country           string    // ISO 3166-1 alpha-2 of the requesting authority; "ZZ" when unknown
	Outcome           Outcome
	AccountsSpecified int
	Emergency         bool
	CustomerNotified  bool
	DPAConsulted      bool
	UnderGag          bool
	Restriction       Restriction
	// One demand counted once ([CountDemandsOnce]): CountedWith names the
	// request this one is counted in (it then counts in no figure);
	// SameDemand names the requests counted in this one. Both empty for a
	// request linked to none.
	CountedWith string
	SameDemand  []string
}

// Validate checks the facts one by one; index prefixes the field paths when
// the facts are part of a list (pass -1 for a single fact).
func (f *ReportFacts) Validate(index int) error {
	var c ddrerr.Collector
	f.validate(&c, index)
	return c.Err()
}

// validate adds f's violations to c and reports whether there were none.
func (f *ReportFacts) validate(c *ddrerr.Collector, index int) bool {
	ok := true
	field := func(name string) string {
		ok = false
		if index < 0 {
			return name
		}
		return fmt.Sprintf("facts[%d].%s", index, name)
	}
	if f.RequestID == "" || len(f.RequestID) > 128 {
		c.Add(field("request_id"), "is required, at most 128 bytes")
	}
	if f.ReceivedAt.IsZero() {
		c.Add(field("received_at"), "is required")
	}
	if !validCode(f.LegalProcess) {
		c.Add(field("legal_process"), `must be a lowercase code of letters, digits and "_" ("none" when there was none)`)
	}
	if len(f.Country) != 2 || !upper(f.Country[0]) || !upper(f.Country[1]) {
		c.Add(field("country"), `must be an ISO 3166-1 alpha-2 code ("ZZ" when unknown)`)
	}
	if !f.Outcome.Valid() {
		c.Add(field("outcome"), "is not a known outcome")
	}
	if f.AccountsSpecified < 0 {
		c.Add(field("accounts_specified"), "must not be negative")
	}
	if !f.Restriction.Valid() {
		c.Add(field("restriction"), "is not a known restriction")
	}
	if len(f.CountedWith) > 128 || f.CountedWith == f.RequestID {
		c.Add(field("counted_with"), "must be another request id, at most 128 bytes")
	}
	for _, id := range f.SameDemand {
		if id == "" || len(id) > 128 || id == f.RequestID {
			c.Add(field("same_demand"), "must list other request ids, at most 128 bytes each")
			break
		}
	}
	return ok
}

func upper(b byte) bool { return b >= 'A' && b <= 'Z' }

// validCode keeps dimension keys safe to print anywhere (CSV, HTML, JSON)
// and keeps free text, which could carry personal data, out of reports.
func validCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if (b < 'a' || b > 'z') && (b < '0' || b > '9') && b != '_' {
			return false
		}
	}
	return true
}
