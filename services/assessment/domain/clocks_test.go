package domain_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

func calendars(t *testing.T) deadline.Calendars {
	t.Helper()
	cals, err := deadline.DefaultCalendars()
	if err != nil {
		t.Fatal(err)
	}
	return cals
}

// openWithClocks opens a case on f at now with its deadlines.
func openWithClocks(t *testing.T, f domain.RequestFacts, now time.Time) *domain.Case {
	t.Helper()
	c := &domain.Case{}
	evs, err := c.OpenWithClocks(f, domain.DefaultConfig(), calendars(t), sys, now)
	do(t, c, evs, err)
	if len(evs) != 2 {
		t.Fatalf("opening gave %d events, want CaseOpened and DeadlinesSet", len(evs))
	}
	return c
}

func clock(t *testing.T, c *domain.Case, id string) deadline.View {
	t.Helper()
	for _, v := range c.Deadlines() {
		if v.ID == id {
			return v
		}
	}
	t.Fatalf("no deadline %q in %+v", id, c.Deadlines())
	return deadline.View{}
}

func noClock(t *testing.T, c *domain.Case, id string) {
	t.Helper()
	for _, v := range c.Deadlines() {
		if v.ID == id {
			t.Fatalf("deadline %q set: %+v", id, v)
		}
	}
}

// epoc is a European Production Order received on Tuesday 1 September
// 2026, 09:00 UTC (10:00 in Dublin, the provider's establishment).
func epoc() domain.RequestFacts {
	f := narrowFacts()
	f.LegalProcess = domain.LegalProcessEPOC
	f.AuthorityCountry = "DE"
	f.ReceivedAt = time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	return f
}

// overdueIDs fires the case's deadlines at now, applies the events and
// returns the ids recorded overdue.
func overdueIDs(c *domain.Case, now time.Time) []string {
	var out []string
	for _, e := range c.FireDeadlines(now) {
		c.Apply(e)
		out = append(out, e.(domain.DeadlineOverdue).ID)
	}
	return out
}

func TestArt10_2_Regulation2023_1543_EPOCMustBeTransmittedWithinTenDaysAndIsOverdueAfter(t *testing.T) {
	f := epoc()
	c := openWithClocks(t, f, f.ReceivedAt.Add(time.Minute))
	tr := clock(t, c, deadline.EPOCTransmitID)
	// The day of receipt is not counted: the 10 days end when Friday 11
	// September ends in Dublin (23:00 UTC in summer time).
	if want := time.Date(2026, 9, 11, 23, 0, 0, 0, time.UTC); !tr.Due.At.Equal(want) || tr.Kind != deadline.By {
		t.Fatalf("transmission deadline %v (%s), want %v", tr.Due.At, tr.Kind, want)
	}
	if tr.Rule.Source == "" || tr.Rule.Counting != deadline.CalendarDays || tr.Rule.Calendar != domain.ProviderCalendar {
		t.Fatalf("the deadline carries its source, counting rule and calendar: %+v", tr.Rule)
	}
	noClock(t, c, deadline.EPOCEnforcingWaitID) // not notified: no waiting period

	// Nothing is owed before the due time; at it, the transmission (and the
	// "cannot comply" notice and the Art. 17 objection, which share its 10
	// days) are overdue, once.
	if got := overdueIDs(c, tr.Due.At.Add(-time.Second)); len(got) != 0 {
		t.Fatalf("overdue before the due time: %v", got)
	}
	got := overdueIDs(c, tr.Due.At)
	if len(got) == 0 || got[0] != deadline.EPOCTransmitID {
		t.Fatalf("overdue at the due time: %v, want %s first", got, deadline.EPOCTransmitID)
	}
	if again := overdueIDs(c, tr.Due.At.Add(time.Hour)); len(again) != 0 {
		t.Fatalf("overdue recorded twice: %v", again)
	}
	if v := clock(t, c, deadline.EPOCTransmitID); v.Status != deadline.Overdue {
		t.Fatalf("status %s, want overdue", v.Status)
	}
}

func TestArt10_4_Regulation2023_1543_EmergencyEPOCMustBeTransmittedWithinEightHours(t *testing.T) {
	f := epoc()
	f.EmergencyClaimed = true
	f.EnforcingAuthorityNotified = true
	c := openWithClocks(t, f, f.ReceivedAt.Add(time.Minute))
	tr := clock(t, c, deadline.EPOCTransmitID)
	if want := f.ReceivedAt.Add(8 * time.Hour); !tr.Due.At.Equal(want) || tr.Rule.Counting != deadline.Hours {
		t.Fatalf("emergency transmission deadline %v (%s), want %v in hours", tr.Due.At, tr.Rule.Counting, want)
	}
	// In an emergency the enforcing authority has 96 hours to object; the
	// data is not held for it.
	if o := clock(t, c, deadline.EPOCObjectionID); !o.Due.At.Equal(f.ReceivedAt.Add(96 * time.Hour)) {
		t.Fatalf("objection window ends %v", o.Due.At)
	}
	noClock(t, c, deadline.EPOCEnforcingWaitID)
	if got := overdueIDs(c, f.ReceivedAt.Add(8*time.Hour)); len(got) == 0 || got[0] != deadline.EPOCTransmitID {
		t.Fatalf("overdue after 8 hours: %v", got)
	}
}

func TestArt10_3_Regulation2023_1543_EnforcingAuthorityNotifiedMeansNoTransmissionBeforeTheTenDaysUnlessItConfirms(t *testing.T) {
	f := epoc()
	f.EnforcingAuthorityNotified = true
	c := openWithClocks(t, f, f.ReceivedAt.Add(time.Minute))
	w := clock(t, c, deadline.EPOCEnforcingWaitID)
	if w.Kind != deadline.NotBefore || !w.Due.At.Equal(clock(t, c, deadline.EPOCTransmitID).Due.At) {
		t.Fatalf("waiting period %+v", w)
	}
	// The queue shows what must be done, not the wait.
	if n, ok := c.NearestDeadline(); !ok || n.Kind != deadline.By {
		t.Fatalf("nearest deadline %+v", n)
	}
	apply(t, c)(c.ConfirmEnforcingAuthority(alice, f.ReceivedAt.Add(48*time.Hour)))
	if v := clock(t, c, deadline.EPOCEnforcingWaitID); v.Status != deadline.Met {
		t.Fatalf("after the confirmation the wait is %s, want met", v.Status)
	}
	_, err := c.ConfirmEnforcingAuthority(alice, f.ReceivedAt.Add(49*time.Hour))
	wantPolicy(t, err, "2.1", domain.RuleDeadlineNotActionable)

	plain := openWithClocks(t, epoc(), epoc().ReceivedAt)
	_, err = plain.ConfirmEnforcingAuthority(alice, epoc().ReceivedAt)
	wantPolicy(t, err, "2.1", domain.RuleNoEnforcingWait)
}

func TestArt11_1_Regulation2023_1543_PreservationLasts60DaysExtendableOnceBy30(t *testing.T) {
	f := epoc()
	f.LegalProcess = domain.LegalProcessEPOCPR
	c := openWithClocks(t, f, f.ReceivedAt)
	p := clock(t, c, deadline.EPOCPRPreserveID)
	if p.Rule.N != 60 || p.Kind != deadline.NotBefore {
		t.Fatalf("preservation %+v", p)
	}
	noClock(t, c, deadline.EPOCTransmitID)
	apply(t, c)(c.ExtendPreservation(alice, f.ReceivedAt.Add(24*time.Hour), calendars(t)))
	if e := clock(t, c, deadline.EPOCPRPreserveID); e.Rule.N != 90 || !e.Due.At.After(p.Due.At) {
		t.Fatalf("extended preservation %+v", e)
	}
	_, err := c.ExtendPreservation(alice, f.ReceivedAt.Add(48*time.Hour), calendars(t))
	wantPolicy(t, err, "2.1", domain.RulePreservationExtended)

	late := openWithClocks(t, f, f.ReceivedAt)
	_, err = late.ExtendPreservation(alice, p.Due.At, calendars(t))
	wantPolicy(t, err, "2.1", domain.RuleDeadlineNotActionable)
}

func TestClause3_1_ReviewDeadlineSkipsAPublicHolidayOfItsCalendar(t *testing.T) {
	// Opened on Monday 16 March 2026; Tuesday 17 March is St Patrick's Day,
	// a public holiday of the Privacy Team's calendar: two business days
	// end on Thursday, not Wednesday.
	opened := time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)
	f := narrowFacts()
	f.ReceivedAt = opened.Add(-time.Hour)
	c := openWithClocks(t, f, opened)
	want := time.Date(2026, 3, 19, 9, 0, 0, 0, time.UTC)
	r := clock(t, c, domain.ReviewDeadlineID)
	if !r.Due.At.Equal(want) || r.Rule.Calendar != domain.PrivacyTeamCalendar || r.Rule.Counting != deadline.BusinessDays {
		t.Fatalf("review deadline %v on %q (%s), want %v on the Privacy Team's calendar", r.Due.At, r.Rule.Calendar, r.Rule.Counting, want)
	}
	if !c.ReviewDue().Equal(want) {
		t.Fatalf("CaseOpened's review deadline %v, want %v: the overdue check must use the same one", c.ReviewDue(), want)
	}
	if c.Overdue(time.Date(2026, 3, 18, 10, 0, 0, 0, time.UTC)) {
		t.Fatal("overdue on Wednesday: the holiday was counted as a working day")
	}
}

func TestClause3_1_AuthorityDeadlineAndGagExpiryAreClocks(t *testing.T) {
	f := narrowFacts()
	f.Deadline = t0.Add(72 * time.Hour)
	f.Gag = domain.Gag{Present: true, Expires: t0.AddDate(0, 3, 0)}
	c := openWithClocks(t, f, t0)
	if a := clock(t, c, domain.AuthorityDeadlineID); !a.Due.At.Equal(f.Deadline) || a.Kind != deadline.By || a.Rule.Counting != deadline.Fixed {
		t.Fatalf("authority's deadline %+v", a)
	}
	if g := clock(t, c, domain.GagExpiryID); !g.Due.At.Equal(f.Gag.Expires) || g.Kind != deadline.NotBefore {
		t.Fatalf("gag expiry %+v", g)
	}
	// The review deadline is nearer, but the queue sorts by the legal one.
	if e := c.QueueEntry(); !e.LegalDue.Equal(f.Deadline) {
		t.Fatalf("queue sorts by %v, want the authority's deadline %v", e.LegalDue, f.Deadline)
	}
}

func TestArt10_Regulation2023_1543_ADisclosureMeetsTheTransmissionDeadlineAndStopsTheOthers(t *testing.T) {
	f := epoc()
	c := openWithClocks(t, f, f.ReceivedAt)
	c.Apply(domain.DispositionRecorded{Meta: domain.Meta{At: f.ReceivedAt.Add(72 * time.Hour)}, Disclosed: true})
	if v := clock(t, c, deadline.EPOCTransmitID); v.Status != deadline.Met {
		t.Fatalf("transmission %s after a disclosure, want met", v.Status)
	}
	if v := clock(t, c, domain.EPOCCannotComplyID); v.Status != deadline.Cancelled {
		t.Fatalf("cannot-comply %s after a disclosure, want cancelled", v.Status)
	}
	if got := overdueIDs(c, f.ReceivedAt.AddDate(0, 1, 0)); len(got) != 0 {
		t.Fatalf("overdue after the disclosure: %v", got)
	}
}

// The queue sorts by the nearest legal deadline: an emergency EPOC's 8
// hours come before an urgent request's authority deadline of a day, and
// an EPOC's 10 days before an ordinary request without a deadline.
func TestArt10_Regulation2023_1543_QueueSortsByTheNearestLegalDeadline(t *testing.T) {
	now := time.Date(2026, 9, 1, 9, 30, 0, 0, time.UTC)
	urgentEPOC := epoc()
	urgentEPOC.RequestID, urgentEPOC.EmergencyClaimed = "urgent-epoc", true
	urgentDeadline := narrowFacts()
	urgentDeadline.RequestID, urgentDeadline.EmergencyClaimed = "urgent-deadline", true
	urgentDeadline.ReceivedAt, urgentDeadline.Deadline = epoc().ReceivedAt.Add(-time.Hour), now.Add(24*time.Hour)
	plainEPOC := epoc()
	plainEPOC.RequestID = "plain-epoc"
	plain := narrowFacts()
	plain.RequestID, plain.ReceivedAt = "plain", epoc().ReceivedAt.Add(-2*time.Hour)
	var q []domain.QueueEntry
	for _, f := range []domain.RequestFacts{plain, plainEPOC, urgentDeadline, urgentEPOC} {
		q = append(q, openWithClocks(t, f, now).QueueEntry())
	}
	domain.SortQueue(q)
	want := []string{"urgent-epoc", "urgent-deadline", "plain-epoc", "plain"}
	for i, e := range q {
		if e.RequestID != want[i] {
			t.Fatalf("position %d: %s, want %s", i, e.RequestID, want[i])
		}
	}
}

// A case back in review is reviewed again within the policy's time (3.1):
// the reopening restarts the review clock from when it happened, on the
// Privacy Team's calendar; the case is overdue again, once, if the new
// deadline passes, and the new decision meets it.
func TestClause3_1_AReopenedCaseIsReviewedAgainWithinTheReviewDeadline(t *testing.T) {
	cals := calendars(t)
	// Opened on Monday 16 March 2026; decided at once (a redirect).
	opened := time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)
	f := controllerFacts()
	f.ReceivedAt = opened.Add(-time.Hour)
	c := openWithClocks(t, f, opened)
	evs, err := c.Claim(alice, opened)
	do(t, c, evs, err)
	recordFactors(t, c, domain.AllFactors()...)
	evs, err = c.ConsiderChallenge(false, "the order is valid on its face", alice, opened)
	do(t, c, evs, err)
	evs, err = c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionRedirectToCustomer}, alice, opened)
	do(t, c, evs, err)

	// Declined on Monday 23 March: reviewed again by Wednesday 25 March.
	declined := time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC)
	evs, err = c.Reopen(domain.ReopenRedirectDeclined, "ev-declined", "", "", declined)
	if err != nil {
		t.Fatal(err)
	}
	evs, err = c.RestartReviewClock(evs, cals, declined)
	do(t, c, evs, err)
	want := time.Date(2026, 3, 25, 9, 0, 0, 0, time.UTC)
	if !c.ReviewDue().Equal(want) {
		t.Fatalf("review due %v after the reopening, want %v", c.ReviewDue(), want)
	}
	if r := clock(t, c, "review/1"); !r.Due.At.Equal(want) || r.Status != deadline.Pending || r.Rule.Calendar != domain.PrivacyTeamCalendar {
		t.Fatalf("the reopened review clock %+v, want pending by %v on the Privacy Team's calendar", r, want)
	}
	if first := clock(t, c, domain.ReviewDeadlineID); first.Status != deadline.Met {
		t.Fatalf("the first review clock %s, want met by D1", first.Status)
	}
	// Passed undecided: overdue once.
	late := want.Add(time.Hour)
	evs, err = c.MarkOverdue(late)
	if len(evs) != 1 {
		t.Fatalf("overdue after the reopened deadline: %v %v, want one event", evs, err)
	}
	do(t, c, evs, err)
	if evs, _ := c.MarkOverdue(late.Add(time.Hour)); len(evs) != 0 {
		t.Fatal("overdue recorded twice for one due time")
	}
	if r := clock(t, c, "review/1"); r.Status != deadline.Overdue {
		t.Fatalf("the reopened review clock %s, want overdue", r.Status)
	}
}

// A rejected EPOC transmits nothing: its transmission deadline is
// cancelled and the authority's deadline met by the refusal, so neither
// stays open to fire alerts; the "cannot comply" notice of Art. 10(6)-(7)
// stays owed until it is sent. An agreed redirect ends every clock.
func TestArt10_6_Regulation2023_1543_ARejectedEPOCStillOwesTheCannotComplyNotice(t *testing.T) {
	f := epoc()
	f.Deadline = f.ReceivedAt.AddDate(0, 0, 5)
	at := f.ReceivedAt.Add(time.Minute)
	c := openWithClocks(t, f, at)
	evs, err := c.Claim(alice, at)
	do(t, c, evs, err)
	recordFactors(t, c, domain.AllFactors()...)
	evs, err = c.ConsiderChallenge(false, "the order is valid on its face", alice, at)
	do(t, c, evs, err)
	evs, err = c.Decide(domain.Decision{ID: "D1", Kind: policy.DecisionReject, Grounds: "no jurisdiction"}, alice, at.Add(time.Hour))
	do(t, c, evs, err)
	if s := clock(t, c, deadline.EPOCTransmitID).Status; s != deadline.Cancelled {
		t.Errorf("transmission deadline %s after the rejection, want cancelled", s)
	}
	if s := clock(t, c, domain.AuthorityDeadlineID).Status; s != deadline.Met {
		t.Errorf("authority's deadline %s after the rejection, want met", s)
	}
	if s := clock(t, c, domain.EPOCCannotComplyID).Status; s != deadline.Pending {
		t.Errorf("cannot-comply notice %s after the rejection, want still owed", s)
	}
	// What may still fall overdue is what the provider owes the authority
	// on a refusal (the form; an Art. 17 objection where a third country's
	// law is the ground), never the transmission or the authority's own.
	got := overdueIDs(c, f.ReceivedAt.AddDate(0, 0, 20))
	if !slices.Contains(got, domain.EPOCCannotComplyID) || slices.Contains(got, deadline.EPOCTransmitID) || slices.Contains(got, domain.AuthorityDeadlineID) {
		t.Errorf("overdue after the rejection: %v, want the cannot-comply notice and never the transmission or the authority's deadline", got)
	}

	r := openWithClocks(t, f, at)
	r.Apply(domain.RedirectAgreed{Meta: domain.Meta{At: at.Add(time.Hour)}})
	for _, v := range r.Deadlines() {
		if v.Kind == deadline.By && (v.Status == deadline.Pending || v.Status == deadline.Overdue) {
			t.Errorf("%s still open after the authority agreed to go to the customer", v.ID)
		}
	}
}
