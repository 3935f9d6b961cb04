package policy

import "strings"

// Country is the country of a Requesting Authority: an upper-case ISO
// 3166-1 alpha-2 code, or [CountryUnknown]. Build one with [ParseCountry],
// which every reader of a country from the wire or the stream goes through,
// so that all spellings a country has ever been written in read the same.
type Country string

// CountryUnknown is the one spelling of "the country is not known" inside
// the suite: ZZ, the ISO 3166-1 user-assigned code that CLDR calls "Unknown
// Region". It is two letters like every other code, so a Country always has
// the same shape (the transparency report buckets by two letters and hashes
// the code into its Merkle leaves, so reports published with ZZ keep
// verifying). An unknown country is never adequate (4.2.1).
const CountryUnknown Country = "ZZ"

// CountryUnknownInput is how the intake API spells an unknown country
// (ddr.intake.v1.Authority.country accepts "UNKNOWN"), and so how intake's
// events already in the stream spell it. The stream is forever: these
// events are never rewritten, and [ParseCountry] reads this spelling as
// [CountryUnknown].
const CountryUnknownInput = "UNKNOWN"

// aliases maps codes people use for a country to its ISO code.
var aliases = map[string]Country{
	"UK":                "GB", // common usage
	"EL":                "GR", // the EU's own code for Greece
	CountryUnknownInput: CountryUnknown,
}

// ParseCountry normalises a country as written anywhere (a request, an
// event of any age, a file): trims and upper-cases it, maps the EU's own
// codes (UK, EL) to ISO 3166-1, and reads anything that is not two letters
// (empty, "UNKNOWN", garbage) as [CountryUnknown]. It never fails: a
// country the suite cannot place is unknown, which is the safe reading
// (not adequate, 4.2.1).
func ParseCountry(s string) Country {
	c := strings.ToUpper(strings.TrimSpace(s))
	if a, ok := aliases[c]; ok {
		return a
	}
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return CountryUnknown
	}
	return Country(c)
}

// String is the code.
func (c Country) String() string { return string(c) }

// Unknown reports whether c is [CountryUnknown] (or would read as it).
func (c Country) Unknown() bool { return ParseCountry(string(c)) == CountryUnknown }

// Assigned reports whether c is an officially assigned ISO 3166-1 alpha-2
// code, exactly as written (upper case, no alias).
func (c Country) Assigned() bool {
	_, ok := assigned[c]
	return ok
}

// assignedCountryCodes are the 249 officially assigned ISO 3166-1 alpha-2
// codes (from Debian iso-codes 4.15.0). User-assigned codes such as XK and
// ZZ are left out on purpose: an authority whose country has no official
// code is entered as unknown.
const assignedCountryCodes = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS " +
	"BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN " +
	"CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE " +
	"EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF " +
	"GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM " +
	"HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM " +
	"JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC " +
	"LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK " +
	"ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA " +
	"NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG " +
	"PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS " +
	"ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO " +
	"TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI " +
	"VN VU WF WS YE YT ZA ZM ZW"

var assigned = func() map[Country]struct{} {
	m := make(map[Country]struct{}, 249)
	for _, c := range strings.Fields(assignedCountryCodes) {
		m[Country(c)] = struct{}{}
	}
	return m
}()

// AssignedCountries returns every assigned ISO 3166-1 alpha-2 code, sorted.
func AssignedCountries() []Country {
	fs := strings.Fields(assignedCountryCodes)
	out := make([]Country, len(fs))
	for i, c := range fs {
		out[i] = Country(c)
	}
	return out
}
