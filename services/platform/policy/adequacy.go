package policy

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Why the registry is data: adequacy decisions are adopted, renewed and
// struck down on dates of their own, and a request must be judged by the law
// on the day it was received (4.2.1), not the day the code was built. A
// deployment can load a newer file at start ([LoadAdequacy]) without a new
// build.
//
//go:embed adequacy.json
var defaultAdequacyJSON []byte

// Basis says why a country's entry exists.
type Basis string

const (
	// BasisEEA: an EU or EEA member; sending data there is no transfer to a
	// third country, so 4.2.1 does not arise.
	BasisEEA Basis = "eea"
	// BasisBridge: a treaty treats the country as not a third country for a
	// limited period (the UK in the first half of 2021).
	BasisBridge Basis = "bridge"
	// BasisAdequacyDecision: a European Commission decision under GDPR art. 45.
	BasisAdequacyDecision Basis = "adequacy_decision"
)

// Scope says which recipients in the country an entry covers. GDPR art. 45(3)
// lets a decision cover "one or more specified sectors", and several do.
type Scope string

const (
	// ScopeGeneral: every recipient, public bodies included.
	ScopeGeneral Scope = "general"
	// ScopeCommercial: organisations under a commercial-sector law only
	// (Canada: PIPEDA); public bodies are outside it.
	ScopeCommercial Scope = "commercial"
	// ScopePrivateSector: private-sector business operators only (Japan: APPI
	// business operators); public bodies are outside it.
	ScopePrivateSector Scope = "private_sector"
	// ScopeCertified: only organisations on a certification list (US: Data
	// Privacy Framework); nobody else in the country is covered.
	ScopeCertified Scope = "certified"
)

// Recipient is the kind of body that would receive the data.
type Recipient string

const (
	// RecipientGovernmentAuthority is every Requesting Authority (1.1).
	RecipientGovernmentAuthority Recipient = "government_authority"
	// RecipientCommercialOrganisation is a private company not on any list.
	RecipientCommercialOrganisation Recipient = "commercial_organisation"
	// RecipientCertifiedOrganisation is a company on the country's
	// certification list (e.g. DPF).
	RecipientCertifiedOrganisation Recipient = "certified_organisation"
)

// Covers reports whether an entry of scope s protects data sent to r.
func (s Scope) Covers(r Recipient) bool {
	switch s {
	case ScopeGeneral:
		return true
	case ScopeCommercial, ScopePrivateSector:
		return r == RecipientCommercialOrganisation || r == RecipientCertifiedOrganisation
	case ScopeCertified:
		return r == RecipientCertifiedOrganisation
	}
	return false
}

// AdequacyEntry is one period during which a country had a basis for free
// transfer.
type AdequacyEntry struct {
	Country Country   // ISO 3166-1 alpha-2, upper case
	Name    string    // for people
	Basis   Basis     //
	Scope   Scope     //
	From    time.Time // inclusive, UTC midnight
	Until   time.Time // exclusive; zero: still in force
	Source  string    // the legal act, and any scope note
}

func (e AdequacyEntry) inForce(at time.Time) bool { return InForce(e.From, e.Until, at) }

// InForce reports whether an entry of a policy data file, in force from
// from (inclusive) until until (exclusive; zero: still in force), applies
// at at.
func InForce(from, until, at time.Time) bool {
	return !at.Before(from) && (until.IsZero() || at.Before(until))
}

// Adequacy is the answer for one country on one date, kept in the plan so
// that the record shows what the decision rested on even after the registry
// changes.
type Adequacy struct {
	Country   Country
	At        time.Time
	Recipient Recipient
	Adequate  bool
	Reason    string
}

// AdequacyRegistry answers "is this country adequate on this date".
type AdequacyRegistry struct {
	entries map[Country][]AdequacyEntry
}

// JudgeAuthority is the one judgement of clause 4.2.1 in the suite: whether
// a Requesting Authority in country, on the date at, receives data with an
// adequate level of protection. Assessment (its flag) and notification (its
// hold) both call it, with the request's received date, so the two cannot
// disagree for the same registry. A Requesting Authority is always a
// government body (1.1), so decisions whose scope stops at commercial or
// certified organisations (Canada, Japan, the United States) do not make
// its country adequate. An unknown or unlisted country is not adequate.
func (r *AdequacyRegistry) JudgeAuthority(country string, at time.Time) Adequacy {
	return r.Evaluate(country, at, RecipientGovernmentAuthority)
}

// IsAdequate is [AdequacyRegistry.JudgeAuthority] as a pair: adequate, and
// why (for the record).
func (r *AdequacyRegistry) IsAdequate(country string, at time.Time) (bool, string) {
	a := r.JudgeAuthority(country, at)
	return a.Adequate, a.Reason
}

// Evaluate is [AdequacyRegistry.JudgeAuthority] for any kind of recipient.
func (r *AdequacyRegistry) Evaluate(country string, at time.Time, recipient Recipient) Adequacy {
	c := ParseCountry(country)
	a := Adequacy{Country: c, At: at, Recipient: recipient}
	if c == CountryUnknown {
		a.Reason = "country unknown: treated as not adequate"
		return a
	}
	var inForce []AdequacyEntry
	for _, e := range r.entries[c] {
		if e.inForce(at) {
			inForce = append(inForce, e)
		}
	}
	if len(inForce) == 0 {
		if len(r.entries[c]) == 0 {
			a.Reason = string(c) + ": no adequacy decision and not in the EEA"
		} else {
			a.Reason = string(c) + ": no adequacy basis in force on " + at.UTC().Format(time.DateOnly)
		}
		return a
	}
	for _, e := range inForce {
		if e.Scope.Covers(recipient) {
			a.Adequate = true
			a.Reason = fmt.Sprintf("%s (%s, %s): %s", c, e.Basis, e.Scope, e.Source)
			return a
		}
	}
	e := inForce[0]
	a.Reason = fmt.Sprintf("%s: %s in force but scope %s does not cover a %s: %s", c, e.Basis, e.Scope, recipient, e.Source)
	return a
}

// Entries returns the registry's entries for country, oldest first.
func (r *AdequacyRegistry) Entries(country string) []AdequacyEntry {
	return slices.Clone(r.entries[ParseCountry(country)])
}

// DefaultAdequacy parses the registry embedded in the binary. Its tests
// make sure it parses, so an error here is a broken build.
func DefaultAdequacy() (*AdequacyRegistry, error) {
	return ParseAdequacy(defaultAdequacyJSON)
}

// LoadAdequacy reads a registry file in the format of adequacy.json (the
// embedded default is the example). An empty path gives the embedded
// default. A file that cannot be read or does not pass [ParseAdequacy]'s
// checks is an error naming the file and every problem found, so a process
// given a bad file stops at start instead of judging with it.
func LoadAdequacy(path string) (*AdequacyRegistry, error) {
	return LoadDataFile("adequacy registry", path, defaultAdequacyJSON, ParseAdequacy)
}

type adequacyFile struct {
	Note    string `json:"note"` // for people
	Entries []struct {
		Country string `json:"country"`
		Name    string `json:"name"`
		Basis   Basis  `json:"basis"`
		Scope   Scope  `json:"scope"`
		From    string `json:"from"`
		Until   string `json:"until"`
		Source  string `json:"source"`
	} `json:"entries"`
}

// InvalidAdequacyError lists every problem of a registry file, each as the
// field it concerns ("entries[3].source") and what is wrong.
type InvalidAdequacyError struct {
	Problems []AdequacyProblem
}

// AdequacyProblem is one problem of a registry file.
type AdequacyProblem struct {
	Field, Description string
}

func (e *InvalidAdequacyError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Description
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// ParseAdequacy reads a registry in the format of adequacy.json and checks
// it: at least one entry, upper-case two-letter codes, known basis and
// scope, dates in order, a source for every entry, and no overlapping
// periods for one country. Unknown JSON fields are refused, so a misspelt
// "until" is not silently an entry still in force. A failure is an
// *[InvalidAdequacyError].
func ParseAdequacy(data []byte) (*AdequacyRegistry, error) {
	var f adequacyFile
	if err := DecodeStrict(data, &f); err != nil {
		return nil, &InvalidAdequacyError{Problems: []AdequacyProblem{{"registry", "not valid JSON: " + err.Error()}}}
	}
	var v InvalidAdequacyError
	add := func(field, desc string) { v.Problems = append(v.Problems, AdequacyProblem{field, desc}) }
	if len(f.Entries) == 0 {
		add("entries", "required: a registry without entries would make every country not adequate")
	}
	reg := &AdequacyRegistry{entries: map[Country][]AdequacyEntry{}}
	for i, raw := range f.Entries {
		field := fmt.Sprintf("entries[%d]", i)
		e := AdequacyEntry{Country: Country(raw.Country), Name: raw.Name, Basis: raw.Basis, Scope: raw.Scope, Source: raw.Source}
		if ParseCountry(raw.Country) != e.Country || e.Country == CountryUnknown {
			add(field+".country", "must be an upper-case ISO 3166-1 alpha-2 code")
		}
		switch e.Basis {
		case BasisEEA, BasisBridge, BasisAdequacyDecision:
		default:
			add(field+".basis", "must be eea, bridge or adequacy_decision")
		}
		switch e.Scope {
		case ScopeGeneral, ScopeCommercial, ScopePrivateSector, ScopeCertified:
		default:
			add(field+".scope", "must be general, commercial, private_sector or certified")
		}
		if strings.TrimSpace(e.Source) == "" {
			add(field+".source", "required: the legal act the entry rests on")
		}
		var err error
		if e.From, err = time.Parse(time.DateOnly, raw.From); err != nil {
			add(field+".from", "must be a date YYYY-MM-DD")
		}
		if raw.Until != "" {
			if e.Until, err = time.Parse(time.DateOnly, raw.Until); err != nil {
				add(field+".until", "must be a date YYYY-MM-DD")
			} else if !e.Until.After(e.From) {
				add(field+".until", "must be after from")
			}
		}
		reg.entries[e.Country] = append(reg.entries[e.Country], e)
	}
	countries := make([]Country, 0, len(reg.entries))
	for c := range reg.entries {
		countries = append(countries, c)
	}
	slices.Sort(countries) // problems in a stable order
	for _, c := range countries {
		es := reg.entries[c]
		slices.SortFunc(es, func(a, b AdequacyEntry) int { return a.From.Compare(b.From) })
		for i := 1; i < len(es); i++ {
			if es[i-1].Until.IsZero() || es[i-1].Until.After(es[i].From) {
				add("entries."+string(c), "periods overlap")
			}
		}
	}
	if len(v.Problems) > 0 {
		return nil, &v
	}
	return reg, nil
}

// ErrInvalidAdequacy matches every *InvalidAdequacyError with errors.Is.
var ErrInvalidAdequacy = errors.New("invalid adequacy registry")

// Is makes errors.Is(err, ErrInvalidAdequacy) true.
func (e *InvalidAdequacyError) Is(target error) bool { return target == ErrInvalidAdequacy }
