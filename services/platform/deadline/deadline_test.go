package deadline_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/deadline"
)

func cals(t *testing.T) deadline.Calendars {
	t.Helper()
	cs, err := deadline.DefaultCalendars()
	if err != nil {
		t.Fatalf("embedded calendars: %v", err)
	}
	return cs
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func due(t *testing.T, r deadline.Rule, start time.Time) deadline.Due {
	t.Helper()
	d, err := r.DueFrom(start, time.Time{}, cals(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// 3.3: the Privacy Team's two business days skip the Irish October bank
// holiday (Monday 26 October 2026): a case opened on Friday morning is due
// on Wednesday, not Tuesday. The same time of day is kept across the end
// of summer time (Dublin is UTC+1 on the Friday, UTC on the Wednesday).
func TestClause3_3_ReviewDeadlineSkipsAPublicHolidayOfItsCalendar(t *testing.T) {
	r := deadline.Rule{Counting: deadline.BusinessDays, N: 2, Calendar: "privacy-team"}
	got := due(t, r, at("2026-10-23T09:00:00Z")) // 10:00 in Dublin
	if want := at("2026-10-28T10:00:00Z"); !got.At.Equal(want) {
		t.Errorf("review due %s, want %s (Mon 26 Oct is a holiday)", got.At, want)
	}
	if got.Uncovered {
		t.Error("2026 is covered by the calendar")
	}
	// A start on a holiday counts from the next working day's start.
	got = due(t, r, at("2026-12-25T15:00:00Z"))
	if want := at("2026-12-31T00:00:00Z"); !got.At.Equal(want) {
		t.Errorf("review of a case opened on Christmas Day due %s, want %s (25 and 28 Dec are holidays; counting starts Tue 29 00:00)", got.At, want)
	}
}

// Art. 10(2) e-Evidence, counted as Regulation 1182/71 says: ten days
// after a Wednesday receipt is a Saturday, so the period ends when Monday
// 5 October ends in Dublin.
func TestEEvidenceArt10_2_EPOCTransmissionWithinTenDaysEndMovesOffTheWeekend(t *testing.T) {
	ds, err := deadline.EPOC{Received: at("2026-09-23T15:00:00Z")}.Deadlines(cals(t))
	if err != nil {
		t.Fatal(err)
	}
	tr := find(t, ds, deadline.EPOCTransmitID)
	if want := at("2026-10-05T23:00:00Z"); !tr.At.Equal(want) {
		t.Errorf("transmit by %s, want %s", tr.At, want)
	}
	if tr.Kind != deadline.By || tr.Moved == "" || !strings.Contains(tr.Rule.Source, "Art. 10(2)") {
		t.Errorf("transmit deadline = %+v, want a By deadline citing Art. 10(2) that says why its end moved", tr)
	}
	if _, ok := findOK(ds, deadline.EPOCEnforcingWaitID); ok {
		t.Error("no enforcing-authority wait without its notification")
	}
	if c := find(t, ds, deadline.EPOCConflictID); !c.At.Equal(tr.At) {
		t.Errorf("reasoned objection by %s, want the same 10 days (Art. 17)", c.At)
	}
}

// Art. 10(4): an emergency EPOC is due 8 elapsed hours after receipt,
// night or weekend; with the enforcing authority notified it has 96
// hours to object.
func TestEEvidenceArt10_4_EmergencyEPOCWithinEightHours(t *testing.T) {
	recv := at("2026-10-03T22:30:00Z") // a Saturday night, a German holiday
	ds, err := deadline.EPOC{Received: recv, Emergency: true, EnforcingNotified: true}.Deadlines(cals(t))
	if err != nil {
		t.Fatal(err)
	}
	if tr := find(t, ds, deadline.EPOCTransmitID); !tr.At.Equal(recv.Add(8 * time.Hour)) {
		t.Errorf("emergency transmit by %s, want 8 hours after receipt", tr.At)
	}
	if o := find(t, ds, deadline.EPOCObjectionID); !o.At.Equal(recv.Add(96 * time.Hour)) {
		t.Errorf("objection window ends %s, want 96 hours after receipt", o.At)
	}
}

// Art. 10(3): with the enforcing authority notified, nothing is
// transmitted before the end of the 10 days unless it confirms earlier;
// a cancelled wait (the request withdrawn) permits nothing.
func TestEEvidenceArt10_3_NoTransmissionBeforeTheEnforcingAuthoritysTenDaysUnlessConfirmed(t *testing.T) {
	recv := at("2026-11-02T08:00:00Z")
	ds, err := deadline.EPOC{Received: recv, EnforcingNotified: true}.Deadlines(cals(t))
	if err != nil {
		t.Fatal(err)
	}
	var l deadline.Ledger
	for _, d := range ds {
		l.Apply(deadline.Set{Deadline: d, At: recv})
	}
	wait := find(t, ds, deadline.EPOCEnforcingWaitID)
	if ok, why := l.Permits(deadline.EPOCEnforcingWaitID, wait.At.Add(-time.Minute)); ok || why == "" {
		t.Errorf("a minute before the end of the 10 days: permitted %v (%q), want refused with a reason", ok, why)
	}
	if ok, _ := l.Permits(deadline.EPOCEnforcingWaitID, wait.At); !ok {
		t.Error("at the end of the 10 days transmission must be permitted")
	}
	l.Apply(deadline.MetEvent{ID: deadline.EPOCEnforcingWaitID, At: recv.Add(48 * time.Hour)})
	if ok, _ := l.Permits(deadline.EPOCEnforcingWaitID, recv.Add(49*time.Hour)); !ok {
		t.Error("after the enforcing authority's confirmation transmission must be permitted")
	}

	var withdrawn deadline.Ledger
	for _, d := range ds {
		withdrawn.Apply(deadline.Set{Deadline: d, At: recv})
	}
	withdrawn.Apply(deadline.CancelledEvent{ID: deadline.EPOCEnforcingWaitID, At: recv.Add(time.Hour), Reason: "withdrawn"})
	if ok, _ := withdrawn.Permits(deadline.EPOCEnforcingWaitID, wait.At.Add(time.Hour)); ok {
		t.Error("a cancelled wait permitted a transmission")
	}
}

// Art. 11(1): preservation for 60 days, 90 when extended.
func TestEEvidenceArt11_PreservationSixtyDaysExtendedByThirty(t *testing.T) {
	recv := at("2026-12-01T12:00:00Z")
	for _, c := range []struct {
		extended bool
		lastDay  string
	}{{false, "2027-01-30"}, {true, "2027-03-01"}} {
		ds, err := deadline.EPOCPR{Received: recv, Extended: c.extended}.Deadlines(cals(t))
		if err != nil {
			t.Fatal(err)
		}
		p := find(t, ds, deadline.EPOCPRPreserveID)
		if got := p.At.Add(-time.Nanosecond).In(cals(t)["IE"].Zone).Format(time.DateOnly); got != c.lastDay {
			t.Errorf("extended=%v: last day of preservation %s, want %s", c.extended, got, c.lastDay)
		}
	}
}

// A deadline that passes unmet is overdue once: firing again, or a second
// replica folding the same record, owes nothing more. Met and cancelled
// deadlines never fire; a deadline moved later after it was overdue is
// pending again and can be overdue once more, for its new due time.
func TestOverdueFiresOncePerDueTime(t *testing.T) {
	start := at("2026-12-01T09:00:00Z")
	mk := func(id string, hours int) deadline.Deadline {
		r := deadline.Rule{Counting: deadline.Hours, N: hours, Source: "test"}
		d, err := r.DueFrom(start, time.Time{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return deadline.Deadline{ID: id, Kind: deadline.By, Rule: r, Start: start, Due: d}
	}
	var l deadline.Ledger
	for _, d := range []deadline.Deadline{mk("a", 1), mk("met", 1), mk("cancelled", 1), mk("later", 5)} {
		l.Apply(deadline.Set{Deadline: d, At: start})
	}
	l.Apply(deadline.MetEvent{ID: "met", At: start.Add(30 * time.Minute)})
	l.Apply(deadline.CancelledEvent{ID: "cancelled", At: start.Add(30 * time.Minute), Reason: "withdrawn"})

	now := start.Add(2 * time.Hour)
	fired := l.Fire(now)
	if len(fired) != 1 || fired[0].ID != "a" {
		t.Fatalf("fired %+v, want only a", fired)
	}
	l.Apply(fired[0])
	l.Apply(fired[0]) // a duplicate delivery changes nothing
	if again := l.Fire(now.Add(time.Hour)); len(again) != 0 {
		t.Fatalf("fired again: %+v", again)
	}
	if v, _ := l.Get("a"); v.Status != deadline.Overdue {
		t.Errorf("a is %s, want overdue", v.Status)
	}
	if next, ok := l.Next(); !ok || next.ID != "a" {
		t.Errorf("next = %+v, want the overdue a first", next)
	}

	moved := mk("a", 10)
	l.Apply(deadline.Set{Deadline: moved, At: now})
	if v, _ := l.Get("a"); v.Status != deadline.Pending {
		t.Errorf("a moved later is %s, want pending", v.Status)
	}
	fired = l.Fire(start.Add(11 * time.Hour))
	if len(fired) != 2 || fired[0].ID != "a" || !fired[0].Due.Equal(moved.At) {
		t.Errorf("after the move, fired %+v, want a (for its new due time) and later", fired)
	}
}

// Calendars as data: the embedded file is valid, an invalid file names
// every problem (so startup stops with a clear error), and a count that
// runs past the years a calendar covers says so instead of silently
// ignoring holidays nobody listed.
func TestCalendarsFileIsValidatedAndCoverageIsReported(t *testing.T) {
	cs := cals(t)
	for _, n := range []string{"privacy-team", "IE", "DE"} {
		if _, err := cs.Get(n); err != nil {
			t.Errorf("embedded calendar %s: %v", n, err)
		}
	}
	bad := `{"calendars":[
	  {"name":"X","zone":"Mars/Olympus","source":"s","covers":{"from":2026,"until":2026},
	   "holidays":[{"date":"2026-13-01","name":"a"},{"date":"2027-01-01","name":"b"},{"date":"2026-05-01","name":"c"},{"date":"2026-05-01","name":"d"}]},
	  {"name":"X","zone":"UTC","source":"","covers":{"from":2026,"until":2025}}]}`
	_, err := deadline.ParseCalendars([]byte(bad))
	if !errors.Is(err, deadline.ErrInvalidCalendars) {
		t.Fatalf("ParseCalendars(bad) = %v, want ErrInvalidCalendars", err)
	}
	for _, want := range []string{"Mars/Olympus", "2026-13-01", "2027-01-01 is outside", "2026-05-01 appears twice", `"X" appears twice`, "source is empty", "from <= until"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := deadline.ParseCalendars([]byte(`{"calendars":[],"extra":1}`)); !errors.Is(err, deadline.ErrInvalidCalendars) {
		t.Errorf("unknown field: %v, want ErrInvalidCalendars", err)
	}

	r := deadline.Rule{Counting: deadline.BusinessDays, N: 2, Calendar: "privacy-team"}
	if d := due(t, r, at("2028-03-01T09:00:00Z")); !d.Uncovered {
		t.Error("a count in 2028 is outside the calendar's years but not reported")
	}
	if _, err := (deadline.Rule{Counting: deadline.CalendarDays, N: 1, Calendar: "nowhere"}).DueFrom(time.Now(), time.Time{}, cs); !errors.Is(err, deadline.ErrUnknownCalendar) {
		t.Errorf("unknown calendar: %v", err)
	}
	if _, err := (deadline.Rule{Counting: deadline.Hours}).DueFrom(time.Now(), time.Time{}, cs); !errors.Is(err, deadline.ErrInvalidRule) {
		t.Errorf("zero hours: %v", err)
	}
}

func findOK(ds []deadline.Deadline, id string) (deadline.Deadline, bool) {
	for _, d := range ds {
		if d.ID == id {
			return d, true
		}
	}
	return deadline.Deadline{}, false
}

func find(t *testing.T, ds []deadline.Deadline, id string) deadline.Deadline {
	t.Helper()
	d, ok := findOK(ds, id)
	if !ok {
		t.Fatalf("no deadline %s in %+v", id, ds)
	}
	return d
}
