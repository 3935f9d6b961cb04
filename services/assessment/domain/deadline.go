package domain

import "time"

// AddBusinessDays adds n business days (Monday to Friday, UTC) to t. A start
// on a weekend counts from the following Monday 00:00, so a request that
// arrives on Saturday gets the same full days as one that arrives first
// thing Monday. Public holidays are not known here.
func AddBusinessDays(t time.Time, n int) time.Time {
	t = t.UTC()
	if weekend(t) {
		y, m, d := t.Date()
		t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		for weekend(t) {
			t = t.AddDate(0, 0, 1)
		}
	}
	for range n {
		t = t.AddDate(0, 0, 1)
		for weekend(t) {
			t = t.AddDate(0, 0, 1)
		}
	}
	return t
}

func weekend(t time.Time) bool {
	d := t.Weekday()
	return d == time.Saturday || d == time.Sunday
}

// ReviewDue is when the review of a case opened at openedAt must be
// decided: urgent cases within r.EmergencyReview, others within
// r.StandardReviewBusinessDays business days. The clock starts when the
// Privacy Team has the case; any delay before that is flagged separately
// as late forwarding (3.1).
func ReviewDue(openedAt time.Time, urgent bool, r Rules) time.Time {
	if urgent {
		return openedAt.UTC().Add(r.EmergencyReview)
	}
	return AddBusinessDays(openedAt, r.StandardReviewBusinessDays)
}
