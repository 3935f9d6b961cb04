package export_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ddrsuite/ddr/services/reporting/adapters/export"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/domain/domaintest"
)

func TestExport_CSVHasOneRowPerFigure(t *testing.T) {
	r, _ := domaintest.Report(t)
	var buf bytes.Buffer
	if err := export.WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	domaintest.NoPersonalData(t, "CSV", buf.Bytes())
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], []string{"dimension", "key", "value"}) {
		t.Fatalf("header %v", rows[0])
	}
	got := map[string]string{}
	for _, row := range rows[1:] {
		k := row[0] + "/" + row[1]
		if _, dup := got[k]; dup {
			t.Fatalf("row %s twice", k)
		}
		got[k] = row[2]
	}
	for k, v := range map[string]string{
		"report/period": "2025-H1", "total/requests": "4", "total/accounts_specified": "8",
		"legal_process/subpoena": "2", "legal_process/search_warrant": "1", "legal_process/none": "1",
		"country/US": "2", "country/DE": "1", "country/ZZ": "1",
		"outcome/pending": "1", "outcome/content_disclosed": "1", "outcome/withdrawn": "0",
		"national_security/status": "reported", "national_security/requests": "0-249",
		"digest/leaves": "4", "digest/merkle_root": r.Digest.MerkleRoot.String(),
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// 5 report rows, 6 totals, 3 processes, 3 countries, 8 outcomes, 5 national security, 3 digest.
	if len(rows)-1 != 5+6+3+3+8+5+3 {
		t.Errorf("%d rows", len(rows)-1)
	}
}

func TestExport_HTMLHasAnAccessibleChartPerBreakdownAndNoPersonalData(t *testing.T) {
	r, _ := domaintest.Report(t)
	var buf bytes.Buffer
	if err := export.WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	domaintest.NoPersonalData(t, "HTML", buf.Bytes())
	if n := strings.Count(page, "<svg "); n != 3 {
		t.Fatalf("%d charts, want 3", n)
	}
	if n := strings.Count(page, `role="img"`); n != 3 {
		t.Errorf("%d charts with role=img", n)
	}
	if n := strings.Count(page, "<title id="); n != 3 {
		t.Errorf("%d chart titles", n)
	}
	if n := strings.Count(page, "<table>"); n != 5 { // summary, 3 fallbacks, national security
		t.Errorf("%d tables", n)
	}
	for _, s := range []string{
		"<title>Transparency report: government data requests, 2025-H1</title>", `<html lang="en">`,
		"1 January 2025 – 30 June 2025", "Content disclosed", "Search warrant", "No legal process",
		"0–249", r.Digest.MerkleRoot.String(),
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	// Self-contained: nothing is fetched from elsewhere.
	if m := regexp.MustCompile(`(?i)(src=|href=|<script|@import|url\()`).FindString(page); m != "" {
		t.Errorf("page loads something: %s", m)
	}
	// Bars scale to the largest count.
	if !strings.Contains(page, `width="380"`) {
		t.Error("no full-width bar")
	}
	if dir := os.Getenv("DDR_REPORT_HTML_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "report.html"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExport_HTMLWhenNationalSecurityWithheld(t *testing.T) {
	_, facts := domaintest.Report(t)
	r, err := domain.BuildReport(facts, domaintest.H1, domaintest.Config250, domaintest.H1.End())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := export.WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "may be published from 28 December 2025") || strings.Contains(buf.String(), "0–249") {
		t.Fatal("withheld section not shown as withheld")
	}
}
