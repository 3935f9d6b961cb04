// Package domaintest holds the report fixture that reporting's tests share:
// the domain's JSON export and the adapters' CSV and HTML exports are
// checked against the same report, so that a value one export must never
// show is checked in all of them.
package domaintest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/reporting/domain"
)

var (
	// H1 is the period of the fixture's facts.
	H1 = domain.Period{Year: 2025, Half: domain.H1}
	// Config250 bands counts by 250 and publishes 180 days after a period.
	Config250 = domain.Config{BandWidth: 250, Delay: 180 * 24 * time.Hour}
	// Late is long after H1 plus the delay: a report built then is final.
	Late = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
)

// Report is a small report of H1 whose facts carry values that must never
// reach an export: request ids, chain heads, and the details of the
// requests a restriction hides (a court order from GB, a national security
// letter).
func Report(t testing.TB) (*domain.Report, []domain.ReportFacts) {
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
	r, err := domain.BuildReport(facts, H1, Config250, Late)
	if err != nil {
		t.Fatal(err)
	}
	return r, facts
}

// NoPersonalData fails t if an export of [Report] shows any value it must
// not.
func NoPersonalData(t testing.TB, what string, out []byte) {
	t.Helper()
	for _, s := range []string{"req-secret", strings.Repeat("ab", 32), "court_order", "GB", "national_security_letter"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("%s contains %q", what, s)
		}
	}
}
