package policy_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// The list is the numbered clauses of POLICY.md (the policy text, kept
// beside the design documents), checked against the text when written.
func TestClausesAreTheNumberedClausesOfThePolicy(t *testing.T) {
	want := strings.Fields("1.1 1.2 2.1 2.2 3.1 3.2 3.3 4.1 4.1.1 4.1.2 4.2 4.2.1 4.2.2 5.1 6.1")
	got := policy.Clauses()
	if len(got) != len(want) {
		t.Fatalf("Clauses() = %v, want %v", got, want)
	}
	for i, c := range got {
		if c.Number() != want[i] {
			t.Errorf("Clauses()[%d] = %s, want %s", i, c, want[i])
		}
		if c.Title() == "" || !c.Known() {
			t.Errorf("clause %s has no title", c)
		}
		if p, ok := policy.ParseClause(want[i]); !ok || p != c {
			t.Errorf("ParseClause(%q) = %q, %v", want[i], p, ok)
		}
	}
	for _, s := range []string{"", "4", "4.2.3", "7.1", "4.2.1 "} {
		if _, ok := policy.ParseClause(s); ok {
			t.Errorf("ParseClause(%q) ok, want unknown", s)
		}
	}
}

func TestParseCountry(t *testing.T) {
	tests := []struct {
		in   string
		want policy.Country
	}{
		{"DE", "DE"},
		{" fr ", "FR"},
		{"UK", "GB"},
		{"el", "GR"},
		{"", policy.CountryUnknown},
		{"UNKNOWN", policy.CountryUnknown}, // intake's spelling, in the stream forever
		{"unknown", policy.CountryUnknown},
		{"ZZ", policy.CountryUnknown}, // reporting's spelling
		{"D", policy.CountryUnknown},
		{"DEU", policy.CountryUnknown},
		{"D1", policy.CountryUnknown},
		{"XK", "XK"}, // user-assigned, not adequate but kept
	}
	for _, tt := range tests {
		if got := policy.ParseCountry(tt.in); got != tt.want {
			t.Errorf("ParseCountry(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if !policy.Country(policy.CountryUnknownInput).Unknown() || !policy.CountryUnknown.Unknown() || policy.Country("DE").Unknown() {
		t.Error("Unknown() disagrees with ParseCountry")
	}
}

func TestAssignedCountries(t *testing.T) {
	cs := policy.AssignedCountries()
	if len(cs) != 249 {
		t.Fatalf("%d assigned codes, want 249", len(cs))
	}
	for _, c := range cs {
		if !c.Assigned() || policy.ParseCountry(string(c)) != c {
			t.Errorf("%s: Assigned=%v, ParseCountry=%s", c, c.Assigned(), policy.ParseCountry(string(c)))
		}
	}
	for _, c := range []policy.Country{"XK", "EU", "UK", "ZZ", "de", "UNKNOWN"} {
		if c.Assigned() {
			t.Errorf("%s.Assigned() = true", c)
		}
	}
}

func TestClause4_2_1_UnknownCountryIsNotAdequate(t *testing.T) {
	reg := registry(t)
	for _, spelling := range []string{"", "UNKNOWN", "unknown", "ZZ", " zz ", "???"} {
		a := reg.JudgeAuthority(spelling, date("2026-03-01"))
		if a.Adequate || a.Country != policy.CountryUnknown {
			t.Errorf("JudgeAuthority(%q) = %+v, want unknown and not adequate", spelling, a)
		}
	}
}

// Assessment and notification both judge through JudgeAuthority; it must
// be exactly Evaluate for a government authority, and IsAdequate its pair.
func TestClause4_2_1_OneJudgementForEveryCaller(t *testing.T) {
	reg := registry(t)
	for _, c := range []string{"DE", "US", "GB", "BR", "CN", "UNKNOWN", "JP"} {
		for _, at := range []string{"2020-07-16", "2021-03-01", "2026-01-25", "2026-03-01"} {
			a := reg.JudgeAuthority(c, date(at))
			if e := reg.Evaluate(c, date(at), policy.RecipientGovernmentAuthority); e != a {
				t.Errorf("%s %s: JudgeAuthority %+v != Evaluate %+v", c, at, a, e)
			}
			if ok, reason := reg.IsAdequate(c, date(at)); ok != a.Adequate || reason != a.Reason {
				t.Errorf("%s %s: IsAdequate (%v, %q) != JudgeAuthority %+v", c, at, ok, reason, a)
			}
		}
	}
}

func TestClause4_2_1_EveryEntryHasAnEffectiveDateAndASource(t *testing.T) {
	reg := registry(t)
	for _, c := range policy.AssignedCountries() {
		for _, e := range reg.Entries(string(c)) {
			if e.From.IsZero() || strings.TrimSpace(e.Source) == "" || e.Country != c {
				t.Errorf("%s: entry %+v lacks a date, a source or its country", c, e)
			}
		}
	}
}

func TestLoadAdequacy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("empty path is the embedded default", func(t *testing.T) {
		reg, err := policy.LoadAdequacy("")
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := reg.IsAdequate("DE", date("2026-03-01")); !ok {
			t.Error("embedded default: DE not adequate")
		}
	})

	t.Run("a newer file replaces the embedded registry", func(t *testing.T) {
		// A decision struck down: CH's entry ends on 2026-06-01 in this file.
		p := write("newer.json", `{"note":"test","entries":[
			{"country":"DE","name":"Germany","basis":"eea","scope":"general","from":"1958-01-01","source":"EU member"},
			{"country":"CH","name":"Switzerland","basis":"adequacy_decision","scope":"general","from":"2000-07-26","until":"2026-06-01","source":"2000/518/EC, struck down (test)"}]}`)
		reg, err := policy.LoadAdequacy(p)
		if err != nil {
			t.Fatal(err)
		}
		if ok, _ := reg.IsAdequate("CH", date("2026-05-31")); !ok {
			t.Error("CH not adequate before the end date")
		}
		if ok, reason := reg.IsAdequate("CH", date("2026-06-01")); ok || !strings.Contains(reason, "no adequacy basis in force") {
			t.Errorf("CH on its end date: %v %q, want not adequate", ok, reason)
		}
		if ok, _ := reg.IsAdequate("GB", date("2026-03-01")); ok {
			t.Error("GB adequate though the file does not list it")
		}
	})

	t.Run("the embedded file loads from disk too", func(t *testing.T) {
		if _, err := policy.LoadAdequacy("adequacy.json"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a missing file is an error naming it", func(t *testing.T) {
		p := filepath.Join(dir, "absent.json")
		_, err := policy.LoadAdequacy(p)
		if err == nil || !strings.Contains(err.Error(), p) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want not-exist naming %s", err, p)
		}
	})

	t.Run("an invalid file is an error naming the file and each problem", func(t *testing.T) {
		p := write("bad.json", `{"entries":[
			{"country":"FR","basis":"eea","scope":"general","from":"2000-01-01","source":"x"},
			{"country":"CH","basis":"adequacy_decision","scope":"general","from":"2000-01-01"}]}`)
		_, err := policy.LoadAdequacy(p)
		wantInvalid(t, err, "entries[1].source")
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}

func TestClause4_2_1_AdequacyEndsOnItsUntilDate(t *testing.T) {
	reg := registry(t)
	// The UK's EEA entry ends 2021-01-01 and the bridge starts that day: no
	// gap, and the bridge is the basis on the day itself.
	a := reg.JudgeAuthority("GB", date("2021-01-01"))
	if !a.Adequate || !strings.Contains(a.Reason, "bridge") {
		t.Errorf("GB on 2021-01-01: %+v, want adequate under the bridge", a)
	}
	if a.At != date("2021-01-01") || a.Recipient != policy.RecipientGovernmentAuthority {
		t.Errorf("finding does not record its date and recipient: %+v", a)
	}
}

// The spellings are in the stream (assessment's DecisionKind enum names,
// notification's request_end, reporting's TerminalOutcome enum names):
// changing one would stop old events from reading back.
func TestDecisionKindsAndOutcomesKeepTheirStoredSpellings(t *testing.T) {
	wantKinds := strings.Fields("disclose redirect_to_customer challenge reject request_more_information")
	kinds := policy.DecisionKinds()
	if len(kinds) != len(wantKinds) {
		t.Fatalf("DecisionKinds() = %v, want %v", kinds, wantKinds)
	}
	for i, k := range kinds {
		if string(k) != wantKinds[i] || !k.Valid() {
			t.Errorf("DecisionKinds()[%d] = %q (valid %v), want %q", i, k, k.Valid(), wantKinds[i])
		}
	}
	wantEnds := strings.Fields("disclosed no_data_found rejected challenged redirected withdrawn")
	ends := policy.Outcomes()
	if len(ends) != len(wantEnds) {
		t.Fatalf("Outcomes() = %v, want %v", ends, wantEnds)
	}
	for i, o := range ends {
		if string(o) != wantEnds[i] || !o.Valid() {
			t.Errorf("Outcomes()[%d] = %q (valid %v), want %q", i, o, o.Valid(), wantEnds[i])
		}
	}
	for _, s := range []string{"", "DISCLOSE", "redirect", "more_information"} {
		if policy.DecisionKind(s).Valid() {
			t.Errorf("DecisionKind(%q).Valid() = true", s)
		}
	}
	for _, s := range []string{"", "no_data", "pending", "DISCLOSED"} {
		if policy.Outcome(s).Valid() {
			t.Errorf("Outcome(%q).Valid() = true", s)
		}
	}
}
