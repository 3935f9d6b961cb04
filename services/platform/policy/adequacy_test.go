package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

func TestClause4_2_1_AdequacyOfRequestingAuthorityCountry(t *testing.T) {
	reg := registry(t)
	tests := []struct {
		name     string
		country  string
		at       string
		adequate bool
		reason   string // a fragment the reason must contain
	}{
		{"EEA member", "DE", "2026-03-01", true, "eea"},
		{"EEA non-EU member", "NO", "2026-03-01", true, "eea"},
		{"EEA member lower case", " fr ", "2026-03-01", true, "eea"},
		{"Croatia before accession", "HR", "2013-06-30", false, "no adequacy basis in force"},
		{"Brazil the day before its decision", "BR", "2026-01-25", false, "no adequacy basis in force"},
		{"Brazil from 2026-01-26", "BR", "2026-01-26", true, "adequacy_decision"},
		{"UK under the 2021 decision", "GB", "2024-05-01", true, "2021/1772"},
		{"UK after the December 2025 renewal", "GB", "2026-03-01", true, "Renewal"},
		{"UK spelled UK", "UK", "2026-03-01", true, "adequacy_decision"},
		{"UK in the 2021 bridge", "GB", "2021-03-01", true, "bridge"},
		{"Switzerland", "CH", "2026-03-01", true, "2000/518"},
		{"Republic of Korea covers public authorities", "KR", "2026-03-01", true, "PIPA"},
		{"Israel", "IL", "2026-03-01", true, "2011/61"},
		{"United States government authority", "US", "2026-03-01", false, "certified"},
		{"Canada government authority", "CA", "2026-03-01", false, "commercial"},
		{"Japan government authority", "JP", "2026-03-01", false, "private_sector"},
		{"no decision", "CN", "2026-03-01", false, "no adequacy decision"},
		{"unknown", "UNKNOWN", "2026-03-01", false, "unknown"},
		{"empty", "", "2026-03-01", false, "unknown"},
		{"unknown as reporting spells it", "ZZ", "2026-03-01", false, "unknown"},
		{"not a code", "Deutschland", "2026-03-01", false, "unknown"},
		{"unlisted", "XK", "2026-03-01", false, "no adequacy decision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason := reg.IsAdequate(tt.country, date(tt.at))
			if ok != tt.adequate {
				t.Fatalf("IsAdequate(%q, %s) = %v (%s), want %v", tt.country, tt.at, ok, reason, tt.adequate)
			}
			if !strings.Contains(reason, tt.reason) {
				t.Fatalf("reason %q lacks %q", reason, tt.reason)
			}
		})
	}
}

func TestClause4_2_1_ScopeQualifiersCoverOnlyTheirRecipients(t *testing.T) {
	reg := registry(t)
	at := date("2026-03-01")
	tests := []struct {
		country   string
		recipient policy.Recipient
		adequate  bool
	}{
		{"US", policy.RecipientCertifiedOrganisation, true},
		{"US", policy.RecipientCommercialOrganisation, false},
		{"US", policy.RecipientGovernmentAuthority, false},
		{"CA", policy.RecipientCommercialOrganisation, true},
		{"CA", policy.RecipientGovernmentAuthority, false},
		{"JP", policy.RecipientCommercialOrganisation, true},
		{"JP", policy.RecipientGovernmentAuthority, false},
		{"NZ", policy.RecipientGovernmentAuthority, true},
	}
	for _, tt := range tests {
		if got := reg.Evaluate(tt.country, at, tt.recipient).Adequate; got != tt.adequate {
			t.Errorf("Evaluate(%s, %s) = %v, want %v", tt.country, tt.recipient, got, tt.adequate)
		}
	}
}

func TestClause4_2_1_RegistryHoldsEveryEEAMemberAndDecision(t *testing.T) {
	reg := registry(t)
	at := date("2026-03-01")
	eea := strings.Fields("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO")
	if len(eea) != 30 {
		t.Fatalf("test list has %d EEA members, want 30", len(eea))
	}
	decisions := strings.Fields("AD AR BR CA FO GG IL IM JP JE NZ KR CH GB UY US")
	for _, c := range append(eea, decisions...) {
		es := reg.Entries(c)
		if len(es) == 0 {
			t.Errorf("%s missing", c)
			continue
		}
		if last := es[len(es)-1]; !last.Until.IsZero() && !at.Before(last.Until) {
			t.Errorf("%s: no entry in force on %s", c, at.Format(time.DateOnly))
		}
	}
}

func TestParseAdequacyRejectsBadEntries(t *testing.T) {
	tests := map[string]struct{ json, field string }{
		"bad code":     {`{"entries":[{"country":"Fra","basis":"eea","scope":"general","from":"2000-01-01","source":"x"}]}`, "entries[0].country"},
		"no source":    {`{"entries":[{"country":"FR","basis":"eea","scope":"general","from":"2000-01-01"}]}`, "entries[0].source"},
		"bad scope":    {`{"entries":[{"country":"FR","basis":"eea","scope":"all","from":"2000-01-01","source":"x"}]}`, "entries[0].scope"},
		"until first":  {`{"entries":[{"country":"FR","basis":"eea","scope":"general","from":"2000-01-01","until":"1999-01-01","source":"x"}]}`, "entries[0].until"},
		"overlap":      {`{"entries":[{"country":"FR","basis":"eea","scope":"general","from":"2000-01-01","source":"x"},{"country":"FR","basis":"eea","scope":"general","from":"2001-01-01","source":"x"}]}`, "entries.FR"},
		"invalid json": {`{`, "registry"},
		"lower case":   {`{"entries":[{"country":"fr","basis":"eea","scope":"general","from":"2000-01-01","source":"x"}]}`, "entries[0].country"},
		"unknown":      {`{"entries":[{"country":"ZZ","basis":"eea","scope":"general","from":"2000-01-01","source":"x"}]}`, "entries[0].country"},
		"bad basis":    {`{"entries":[{"country":"FR","basis":"friendly","scope":"general","from":"2000-01-01","source":"x"}]}`, "entries[0].basis"},
		"bad from":     {`{"entries":[{"country":"FR","basis":"eea","scope":"general","from":"1 Jan 2000","source":"x"}]}`, "entries[0].from"},
		"bad until":    {`{"entries":[{"country":"FR","basis":"eea","scope":"general","from":"2000-01-01","until":"soon","source":"x"}]}`, "entries[0].until"},
		"no entries":   {`{"entries":[]}`, "entries"},
		"misspelt key": {`{"entries":[{"country":"FR","basis":"eea","scope":"general","from":"2000-01-01","untill":"2001-01-01","source":"x"}]}`, "registry"}, //nolint:misspell // the misspelt key is the case under test
		"trailing":     {`{"entries":[{"country":"FR","basis":"eea","scope":"general","from":"2000-01-01","source":"x"}]} {}`, "registry"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := policy.ParseAdequacy([]byte(tt.json))
			wantInvalid(t, err, tt.field)
		})
	}
}
