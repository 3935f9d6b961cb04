package domain_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// exportFixture is a small report whose facts carry values that must never
// reach an export: request ids and chain heads.
func exportFixture(t *testing.T) (*domain.Report, []domain.ReportFacts) {
	t.Helper()
	at := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	mk := func(id, process, country string, o domain.Outcome, r domain.Restriction) domain.ReportFacts {
		f := domain.ReportFacts{RequestID: id, ReceivedAt: at, LegalProcess: process, Country: country, Outcome: o,
			AccountsSpecified: 2, CustomerNotified: true, Restriction: r}
		copy(f.ChainHead[:], bytes.Repeat([]byte{0xab}, 32))
		return f
	}
	facts := []domain.ReportFacts{
		mk("req-secret-0001", "subpoena", "US", domain.OutcomeNonContentOnly, domain.RestrictionNone),
		mk("req-secret-0002", "subpoena", "US", domain.OutcomeRejected, domain.RestrictionNone),
		mk("req-secret-0003", "search_warrant", "DE", domain.OutcomeContentDisclosed, domain.RestrictionNone),
		mk("req-secret-0004", "none", "ZZ", domain.OutcomePending, domain.RestrictionNone),
		mk("req-secret-0005", "court_order", "GB", domain.OutcomeWithdrawn, domain.RestrictionExcludedByCourtOrder),
		mk("req-secret-0006", "national_security_letter", "US", domain.OutcomeNonContentOnly, domain.RestrictionNationalSecurity),
	}
	facts[2].Emergency, facts[2].DPAConsulted, facts[2].UnderGag = true, true, true
	r, err := domain.BuildReport(facts, h1, cfg250, late)
	if err != nil {
		t.Fatal(err)
	}
	return r, facts
}

func noPersonalData(t *testing.T, what string, out []byte) {
	t.Helper()
	for _, s := range []string{"req-secret", strings.Repeat("ab", 32), "court_order", "GB", "national_security_letter"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("%s contains %q", what, s)
		}
	}
}

func TestExport_JSONHasStableFieldsAndRoundTrips(t *testing.T) {
	r, facts := exportFixture(t)
	var buf bytes.Buffer
	if err := domain.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	noPersonalData(t, "JSON", buf.Bytes())

	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"by_country", "by_legal_process", "by_outcome", "config", "digest", "generated_at", "national_security", "notes", "period", "record_sequence", "totals"}
	if !slices.Equal(keys, want) {
		t.Fatalf("top-level fields %v, want %v", keys, want)
	}
	for _, s := range []string{
		`"period": "2025-H1"`,
		`"requests": 4`, `"accounts_specified": 8`, `"emergency_requests": 1`, `"customers_notified": 4`, `"dpa_consultations": 1`, `"requests_under_gag": 1`,
		`"national_security_band_width": 250`, `"national_security_delay": "4320h0m0s"`,
		`"status": "reported"`, `"from": 0`, `"to": 249`,
		`"key": "subpoena"`, `"key": "non_content_only"`,
		`"merkle_root": "` + r.Digest.MerkleRoot.String() + `"`,
	} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("JSON lacks %s", s)
		}
	}

	back, err := domain.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := domain.VerifyReport(back, facts); err != nil {
		t.Fatalf("published JSON does not verify: %v", err)
	}
}
