package domain_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/domain/domaintest"
)

func TestExport_JSONHasStableFieldsAndRoundTrips(t *testing.T) {
	r, facts := domaintest.Report(t)
	var buf bytes.Buffer
	if err := domain.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	domaintest.NoPersonalData(t, "JSON", buf.Bytes())

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
