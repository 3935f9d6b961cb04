package domain_test

import (
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/reporting/domain"
)

func TestClause5_1_HalfYearsByDateReceivedInUTC(t *testing.T) {
	plus2 := time.FixedZone("UTC+2", 2*3600)
	minus2 := time.FixedZone("UTC-2", -2*3600)
	cases := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "2025-H1"},
		{time.Date(2025, 6, 30, 23, 59, 59, 999999999, time.UTC), "2025-H1"},
		{time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), "2025-H2"},
		{time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), "2025-H2"},
		{time.Date(2025, 7, 1, 1, 0, 0, 0, plus2), "2025-H1"},    // still 30 June in UTC
		{time.Date(2025, 6, 30, 23, 0, 0, 0, minus2), "2025-H2"}, // already 1 July in UTC
		{time.Date(2026, 1, 1, 0, 30, 0, 0, plus2), "2025-H2"},
	}
	for _, tc := range cases {
		p := domain.PeriodOf(tc.at)
		if p.String() != tc.want {
			t.Errorf("PeriodOf(%s) = %s, want %s", tc.at, p, tc.want)
		}
		if !p.Contains(tc.at) {
			t.Errorf("%s does not contain %s", p, tc.at)
		}
	}
}

func TestPeriod_ParseAndBounds(t *testing.T) {
	p, err := domain.ParsePeriod("2024-H2")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Start().Equal(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)) || !p.End().Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("bounds %s .. %s", p.Start(), p.End())
	}
	for _, bad := range []string{"", "2024", "2024-H3", "2024-H0", "x-H1", "1900-H1", "2024H1"} {
		if _, err := domain.ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}
}
