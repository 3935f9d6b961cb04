package domain

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// Why the registry is data: adequacy decisions are adopted, renewed and
// struck down on dates of their own, and a request must be judged by the law
// on the day it was received (4.2.1), not the day the code was built.
//
//go:embed adequacy.json
var defaultRegistryJSON []byte

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

// Entry is one period during which a country had a basis for free transfer.
type Entry struct {
	Country string    // ISO 3166-1 alpha-2, upper case
	Name    string    // for people
	Basis   Basis     //
	Scope   Scope     //
	From    time.Time // inclusive, UTC midnight
	Until   time.Time // exclusive; zero: still in force
	Source  string    // the legal act, and any scope note
}

func (e Entry) inForce(at time.Time) bool {
	return !at.Before(e.From) && (e.Until.IsZero() || at.Before(e.Until))
}

// Adequacy is the answer for one country on one date, kept in the plan so
// that the record shows what the decision rested on even after the registry
// changes.
type Adequacy struct {
	Country   string
	At        time.Time
	Recipient Recipient
	Adequate  bool
	Reason    string
}

// Registry answers "is this country adequate on this date".
type Registry struct {
	entries map[string][]Entry
}

// UnknownCountry is what intake records when the authority's country is not
// known. It is never adequate.
const UnknownCountry = "UNKNOWN"

// aliases maps codes people use for a country to its ISO code.
var aliases = map[string]string{
	"UK": "GB", // common usage
	"EL": "GR", // the EU's own code for Greece
}

// NormalizeCountry upper-cases and trims a country code and maps the EU's
// own codes (UK, EL) to ISO 3166-1. Empty input gives [UnknownCountry].
func NormalizeCountry(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if c == "" {
		return UnknownCountry
	}
	if iso, ok := aliases[c]; ok {
		return iso
	}
	return c
}

// IsAdequate reports whether a Requesting Authority in country, on the date
// at, receives data with an adequate level of protection (4.2.1). A
// Requesting Authority is always a government body (1.1), so decisions whose
// scope stops at commercial or certified organisations (Canada, Japan, the
// United States) do not make its country adequate. Unknown, "UNKNOWN" or
// unlisted countries are not adequate. reason says why, for the record.
func (r *Registry) IsAdequate(country string, at time.Time) (bool, string) {
	a := r.Evaluate(country, at, RecipientGovernmentAuthority)
	return a.Adequate, a.Reason
}

// Evaluate is [Registry.IsAdequate] for any kind of recipient.
func (r *Registry) Evaluate(country string, at time.Time, recipient Recipient) Adequacy {
	c := NormalizeCountry(country)
	a := Adequacy{Country: c, At: at, Recipient: recipient}
	if c == UnknownCountry {
		a.Reason = "country unknown: treated as not adequate"
		return a
	}
	var inForce []Entry
	for _, e := range r.entries[c] {
		if e.inForce(at) {
			inForce = append(inForce, e)
		}
	}
	if len(inForce) == 0 {
		if len(r.entries[c]) == 0 {
			a.Reason = c + ": no adequacy decision and not in the EEA"
		} else {
			a.Reason = c + ": no adequacy basis in force on " + at.UTC().Format(time.DateOnly)
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
func (r *Registry) Entries(country string) []Entry {
	return slices.Clone(r.entries[NormalizeCountry(country)])
}

// DefaultRegistry parses the registry embedded in the binary.
func DefaultRegistry() (*Registry, error) {
	return ParseRegistry(defaultRegistryJSON)
}

type registryFile struct {
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

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// ParseRegistry reads a registry in the format of adequacy.json and checks
// it: two-letter codes, known basis and scope, dates in order, a source for
// every entry, and no overlapping periods for one country.
func ParseRegistry(data []byte) (*Registry, error) {
	var f registryFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "registry", Description: "not valid JSON: " + err.Error()})
	}
	var v ddrerr.Collector
	reg := &Registry{entries: map[string][]Entry{}}
	for i, raw := range f.Entries {
		field := fmt.Sprintf("entries[%d]", i)
		e := Entry{Country: raw.Country, Name: raw.Name, Basis: raw.Basis, Scope: raw.Scope, Source: raw.Source}
		if !countryCode.MatchString(e.Country) {
			v.Add(field+".country", "must be an upper-case ISO 3166-1 alpha-2 code")
		}
		switch e.Basis {
		case BasisEEA, BasisBridge, BasisAdequacyDecision:
		default:
			v.Add(field+".basis", "must be eea, bridge or adequacy_decision")
		}
		switch e.Scope {
		case ScopeGeneral, ScopeCommercial, ScopePrivateSector, ScopeCertified:
		default:
			v.Add(field+".scope", "must be general, commercial, private_sector or certified")
		}
		if strings.TrimSpace(e.Source) == "" {
			v.Add(field+".source", "required: the legal act the entry rests on")
		}
		var err error
		if e.From, err = time.Parse(time.DateOnly, raw.From); err != nil {
			v.Add(field+".from", "must be a date YYYY-MM-DD")
		}
		if raw.Until != "" {
			if e.Until, err = time.Parse(time.DateOnly, raw.Until); err != nil {
				v.Add(field+".until", "must be a date YYYY-MM-DD")
			} else if !e.Until.After(e.From) {
				v.Add(field+".until", "must be after from")
			}
		}
		reg.entries[e.Country] = append(reg.entries[e.Country], e)
	}
	for c, es := range reg.entries {
		slices.SortFunc(es, func(a, b Entry) int { return a.From.Compare(b.From) })
		for i := 1; i < len(es); i++ {
			if es[i-1].Until.IsZero() || es[i-1].Until.After(es[i].From) {
				v.Add("entries."+c, "periods overlap")
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return reg, nil
}
