package deadline

import (
	"errors"
	"fmt"
	"time"
)

// Counting is how a period is counted.
type Counting string

// The counting rules.
const (
	// Hours: elapsed time, whatever the day (the 8-hour emergency
	// transmission of an EPOC, the 96-hour objection window, the 72-hour
	// breach notification).
	Hours Counting = "hours"
	// CalendarDays as Regulation (EEC, Euratom) No 1182/71 counts them:
	// the day of the event is not counted; the period ends when the last
	// day ends (midnight, in the calendar's zone); with EndOnWorkingDay, a
	// last day that is not a working day moves the end to the end of the
	// next working day (Art. 3(4)).
	CalendarDays Counting = "calendar_days"
	// BusinessDays: n working days later at the same time of day; a start
	// on a day that is not a working day counts from the start of the next
	// working day (the Privacy Team's review deadlines).
	BusinessDays Counting = "business_days"
	// Fixed: a date given by someone (the authority's own deadline, a gag
	// order's expiry); nothing is counted.
	Fixed Counting = "fixed"
)

// Rule says how a deadline's due time follows from its start.
type Rule struct {
	Counting Counting
	// N is the number of hours or days; unused for Fixed.
	N int
	// Calendar names the calendar of working days and of the zone that
	// day boundaries are taken in. Unused for Hours and Fixed.
	Calendar string
	// EndOnWorkingDay: for CalendarDays, move an end on a non-working day
	// to the end of the next working day.
	EndOnWorkingDay bool
	// Source is the law or policy the rule comes from, for the record
	// (e.g. "Regulation (EU) 2023/1543 Art. 10(2)").
	Source string
}

// Due is a computed due time with what a reader needs to trust it.
type Due struct {
	At time.Time
	// Moved says why the end moved, if it did (a weekend or holiday).
	Moved string
	// Uncovered is set when a day the count passed lies outside the years
	// whose holidays the calendar lists: the count treated those days as
	// working days unless they were weekends. The caller flags it so a
	// person checks the date and the calendars file gets updated.
	Uncovered bool
}

// ErrInvalidRule is wrapped when a rule cannot be counted.
var ErrInvalidRule = errors.New("deadline: invalid rule")

// DueFrom computes when a period counted by r from start ends. at is the
// due time for Fixed rules and ignored otherwise.
func (r Rule) DueFrom(start, at time.Time, cals Calendars) (Due, error) {
	if r.Counting != Fixed && r.N <= 0 {
		return Due{}, fmt.Errorf("%w: %s needs a positive count, got %d", ErrInvalidRule, r.Counting, r.N)
	}
	switch r.Counting {
	case Fixed:
		if at.IsZero() {
			return Due{}, fmt.Errorf("%w: a fixed deadline needs its date", ErrInvalidRule)
		}
		return Due{At: at.UTC()}, nil
	case Hours:
		return Due{At: start.UTC().Add(time.Duration(r.N) * time.Hour)}, nil
	case CalendarDays:
		c, err := cals.Get(r.Calendar)
		if err != nil {
			return Due{}, err
		}
		return r.calendarDays(start, c), nil
	case BusinessDays:
		c, err := cals.Get(r.Calendar)
		if err != nil {
			return Due{}, err
		}
		return r.businessDays(start, c), nil
	}
	return Due{}, fmt.Errorf("%w: unknown counting %q", ErrInvalidRule, r.Counting)
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func (r Rule) calendarDays(start time.Time, c *Calendar) Due {
	var out Due
	last := midnight(start.In(c.Zone)).AddDate(0, 0, r.N)
	out.Uncovered = !c.Covers(last)
	if r.EndOnWorkingDay && !c.Working(last) {
		from := last
		for !c.Working(last) {
			last = last.AddDate(0, 0, 1)
			out.Uncovered = out.Uncovered || !c.Covers(last)
		}
		out.Moved = fmt.Sprintf("the period's last day %s is not a working day in calendar %s; it ends with %s",
			from.Format("Mon 2006-01-02"), c.Name, last.Format("Mon 2006-01-02"))
	}
	// The period ends when its last day ends: the start of the next day.
	out.At = last.AddDate(0, 0, 1).UTC()
	return out
}

func (r Rule) businessDays(start time.Time, c *Calendar) Due {
	var out Due
	t := start.In(c.Zone)
	if !c.Working(t) {
		out.Uncovered = !c.Covers(t)
		t = midnight(t)
		for !c.Working(t) {
			t = t.AddDate(0, 0, 1)
		}
	}
	for range r.N {
		t = t.AddDate(0, 0, 1)
		out.Uncovered = out.Uncovered || !c.Covers(t)
		for !c.Working(t) {
			t = t.AddDate(0, 0, 1)
			out.Uncovered = out.Uncovered || !c.Covers(t)
		}
	}
	out.At = t.UTC()
	return out
}
