package domain

import (
	"fmt"
	"strconv"
	"time"
)

// Half is the first (January–June) or second (July–December) half of a year.
type Half uint8

// The halves of a year.
const (
	H1 Half = 1
	H2 Half = 2
)

// Period is the half-year a transparency report covers (clause 5.1: a
// semi-annual report). Requests belong to the period of the date they were
// received, in UTC.
type Period struct {
	Year int
	Half Half
}

// PeriodOf returns the half-year that contains t (in UTC).
func PeriodOf(t time.Time) Period {
	t = t.UTC()
	if t.Month() <= time.June {
		return Period{Year: t.Year(), Half: H1}
	}
	return Period{Year: t.Year(), Half: H2}
}

// ParsePeriod reads the form "2025-H1".
func ParsePeriod(s string) (Period, error) {
	if len(s) < 4 || s[len(s)-3:len(s)-1] != "-H" {
		return Period{}, fmt.Errorf("period %q: want YYYY-H1 or YYYY-H2", s)
	}
	y, err := strconv.Atoi(s[:len(s)-3])
	if err != nil {
		return Period{}, fmt.Errorf("period %q: bad year", s)
	}
	p := Period{Year: y, Half: Half(s[len(s)-1] - '0')}
	if !p.Valid() {
		return Period{}, fmt.Errorf("period %q: want YYYY-H1 or YYYY-H2", s)
	}
	return p, nil
}

// Valid reports whether p names a half-year the suite can report on: years
// 1970 to 2261, where times have an exact Unix nanosecond form for hashing.
func (p Period) Valid() bool {
	return (p.Half == H1 || p.Half == H2) && p.Year >= 1970 && p.Year <= 2261
}

// Start is the first instant of the period, UTC.
func (p Period) Start() time.Time {
	m := time.January
	if p.Half == H2 {
		m = time.July
	}
	return time.Date(p.Year, m, 1, 0, 0, 0, 0, time.UTC)
}

// End is the first instant after the period, UTC (exclusive bound).
func (p Period) End() time.Time { return p.Start().AddDate(0, 6, 0) }

// Contains reports whether t falls in the period.
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start()) && t.Before(p.End())
}

// String returns "2025-H1".
func (p Period) String() string { return fmt.Sprintf("%04d-H%d", p.Year, p.Half) }

// MarshalText encodes the period as in [Period.String].
func (p Period) MarshalText() ([]byte, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("invalid period %d-H%d", p.Year, p.Half)
	}
	return []byte(p.String()), nil
}

// UnmarshalText decodes the form "2025-H1".
func (p *Period) UnmarshalText(b []byte) error {
	v, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
