package domain

import "github.com/ddrsuite/ddr/services/platform/policy"

// CountryUnknown is how the intake API spells the country of an authority
// whose country the group member cannot tell, and so how intake's events
// record it. Every reader reads it through policy.ParseCountry, as
// policy.CountryUnknown; downstream it counts as not adequate (4.2.1).
const CountryUnknown = policy.CountryUnknownInput

// IsCountryCode reports whether code is an officially assigned ISO 3166-1
// alpha-2 code, in upper case. User-assigned codes such as XK are left out
// on purpose: an authority whose country has no official code is entered
// as [CountryUnknown].
func IsCountryCode(code string) bool {
	return policy.Country(code).Assigned()
}

// CountryCodes returns every assigned ISO 3166-1 alpha-2 code, sorted.
func CountryCodes() []string {
	cs := policy.AssignedCountries()
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}
