package domain_test

import (
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
)

func TestAddBusinessDays(t *testing.T) {
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) } // 2 March 2026 is a Monday
	tests := []struct {
		name  string
		start time.Time
		n     int
		want  time.Time
	}{
		{"Monday plus two is Wednesday", at(2, 9), 2, at(4, 9)},
		{"Thursday plus two skips the weekend", at(5, 9), 2, at(9, 9)},
		{"Friday afternoon plus two is Tuesday", at(6, 15), 2, at(10, 15)},
		{"Saturday counts from Monday midnight", at(7, 10), 2, at(11, 0)},
		{"Sunday counts from Monday midnight", at(8, 23), 1, at(10, 0)},
		{"zero days on a weekday is now", at(3, 12), 0, at(3, 12)},
		{"ten days is two weeks", at(2, 9), 10, at(16, 9)},
		{"other zones are read as UTC", time.Date(2026, 3, 6, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600)), 1, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.AddBusinessDays(tt.start, tt.n); !got.Equal(tt.want) {
				t.Fatalf("got %s (%s), want %s", got, got.Weekday(), tt.want)
			}
		})
	}
}

func TestReviewDeadlines(t *testing.T) {
	friday := time.Date(2026, 3, 6, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		facts func(*domain.RequestFacts)
		cfg   func(*domain.Config)
		want  time.Time
	}{
		{"standard case: two business days", func(*domain.RequestFacts) {}, func(*domain.Config) {}, time.Date(2026, 3, 10, 16, 0, 0, 0, time.UTC)},
		{"emergency: one hour", func(f *domain.RequestFacts) { f.EmergencyClaimed = true }, func(*domain.Config) {}, friday.Add(time.Hour)},
		{"imminent risk is urgent too", func(f *domain.RequestFacts) { f.ImminentRiskClaimed = true }, func(*domain.Config) {}, friday.Add(time.Hour)},
		{"configured emergency window", func(f *domain.RequestFacts) { f.EmergencyClaimed = true },
			func(c *domain.Config) { c.EmergencyReview = 20 * time.Minute }, friday.Add(20 * time.Minute)},
		{"configured standard window", func(*domain.RequestFacts) {},
			func(c *domain.Config) { c.StandardReviewBusinessDays = 5 }, time.Date(2026, 3, 13, 16, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, cfg := narrowFacts(), domain.DefaultConfig()
			tt.facts(&f)
			tt.cfg(&cfg)
			c := &domain.Case{}
			evs, err := c.Open(f, cfg, sys, friday)
			do(t, c, evs, err)
			if !c.ReviewDue().Equal(tt.want) {
				t.Fatalf("due %s, want %s", c.ReviewDue(), tt.want)
			}
		})
	}
}

func TestOverdueIsRecordedOnce(t *testing.T) {
	c := openCase(t, narrowFacts(), domain.DefaultConfig())
	due := c.ReviewDue()
	if c.Overdue(due) {
		t.Fatal("overdue at the deadline itself")
	}
	if evs, _ := c.MarkOverdue(due); len(evs) != 0 {
		t.Fatalf("marked overdue before the deadline passed: %v", evs)
	}
	late := due.Add(time.Second)
	if !c.Overdue(late) {
		t.Fatal("not overdue after the deadline")
	}
	evs := apply(t, c)(c.MarkOverdue(late))
	if len(evs) != 1 || evs[0].(domain.ReviewOverdue).Due != due {
		t.Fatalf("events %v", evs)
	}
	if evs, _ := c.MarkOverdue(late.Add(time.Hour)); len(evs) != 0 {
		t.Fatal("overdue recorded twice")
	}
}

func TestDecidedCaseIsNeverOverdue(t *testing.T) {
	c := reviewedCase(t, narrowFacts(), domain.DefaultConfig())
	apply(t, c)(c.Decide(disclose(domain.BasisCompellingLegalObligation), alice, t0))
	later := c.ReviewDue().Add(time.Hour)
	if !c.Overdue(later) {
		t.Fatal("a disclosure waiting for approval is not decided and can be overdue")
	}
	apply(t, c)(c.Approve(bob, t0))
	if c.Overdue(later) {
		t.Fatal("decided case counted as overdue")
	}
}

func TestQueueOrder(t *testing.T) {
	rec := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	q := []domain.QueueEntry{
		{RequestID: "late-no-deadline", ReceivedAt: rec(0)},
		{RequestID: "deadline-later", Deadline: rec(48), ReceivedAt: rec(5)},
		{RequestID: "urgent-late", Urgent: true, ReceivedAt: rec(9)},
		{RequestID: "deadline-sooner", Deadline: rec(24), ReceivedAt: rec(6)},
		{RequestID: "urgent-deadline", Urgent: true, Deadline: rec(2), ReceivedAt: rec(10)},
		{RequestID: "earlier-no-deadline", ReceivedAt: rec(-1)},
		{RequestID: "b-tie", ReceivedAt: rec(3)},
		{RequestID: "a-tie", ReceivedAt: rec(3)},
	}
	domain.SortQueue(q)
	want := []string{"urgent-deadline", "urgent-late", "deadline-sooner", "deadline-later", "earlier-no-deadline", "late-no-deadline", "a-tie", "b-tie"}
	for i, e := range q {
		if e.RequestID != want[i] {
			t.Fatalf("position %d: %s, want %s (order %v)", i, e.RequestID, want[i], q)
		}
	}
}

func TestQueueEntryFromCase(t *testing.T) {
	f := narrowFacts()
	f.EmergencyClaimed = true
	f.Deadline = t0.Add(3 * time.Hour)
	c := openCase(t, f, domain.DefaultConfig())
	apply(t, c)(c.Claim(bob, t0))
	e := c.QueueEntry()
	if !e.Urgent || e.Assignee != bob || !e.Deadline.Equal(f.Deadline) || e.Status != domain.StatusInReview || e.RequestID != "req-1" {
		t.Fatalf("entry %+v", e)
	}
}
