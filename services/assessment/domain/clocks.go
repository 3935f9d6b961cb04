package domain

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Legal clocks (issue 18). A case carries its deadlines as data
// (platform/deadline): each with the law or policy it comes from, the
// counting rule and the calendar it was counted on. They are set when the
// case opens, in a DeadlinesSet beside CaseOpened, and fold into a
// deadline.Ledger: the review deadline on the Privacy Team's calendar
// (3.1), the authority's deadline, the clocks of a European Production
// Order (EPOC) or Preservation Order (EPOC-PR) under Regulation (EU)
// 2023/1543, and a gag's expiry.

// Legal process codes of the e-Evidence orders (intake's LegalProcessType).
const (
	LegalProcessEPOC   = "european_production_order"
	LegalProcessEPOCPR = "european_preservation_order"
)

// IDs of the deadlines set here besides those of package deadline.
const (
	ReviewDeadlineID    = "review"
	AuthorityDeadlineID = "authority"
	GagExpiryID         = "gag/expiry"
	EPOCCannotComplyID  = "epoc/cannot-comply"
)

// The calendars the clocks count on (calendars.json): the Privacy Team's
// for its review deadline, and that of the provider's establishment
// (Ireland) for the e-Evidence periods.
const (
	PrivacyTeamCalendar = "privacy-team"
	ProviderCalendar    = "IE"
)

// DeadlinesSet starts or moves deadlines.
type DeadlinesSet struct {
	Meta
	Deadlines []deadline.Deadline
	Reason    string
}

// DeadlineMet records that a deadline's act happened, or that a waiting
// period ended early.
type DeadlineMet struct {
	Meta
	ID     string
	Reason string
}

// DeadlineOverdue records once that a By deadline passed its due time unmet.
type DeadlineOverdue struct {
	Meta
	ID  string
	Due time.Time
}

// Reporting's record of how the request ended (DispositionRecorded,
// lifecycle.go) moves the clocks too: a disclosure meets the transmission
// deadlines, any other end stops the clocks that asked for an act.

// EventName implementations.
func (DeadlinesSet) EventName() string    { return "DeadlinesSet" }
func (DeadlineMet) EventName() string     { return "DeadlineMet" }
func (DeadlineOverdue) EventName() string { return "DeadlineOverdue" }

// applyClocks folds the events that move the case's deadlines. It runs for
// every event before [Case.Apply]'s own switch, so the case's other state
// is folded as before.
func (c *Case) applyClocks(e Event) {
	l := &c.clocks
	switch e := e.(type) {
	case DeadlinesSet:
		for _, d := range e.Deadlines {
			l.Apply(deadline.Set{Deadline: d, At: e.At})
		}
	case DeadlineMet:
		l.Apply(deadline.MetEvent{ID: e.ID, At: e.At})
	case DeadlineOverdue:
		l.Apply(deadline.OverdueEvent{ID: e.ID, Due: e.Due, At: e.At})
	case ReviewOverdue:
		// CaseOverdue is the review deadline's overdue record.
		l.Apply(deadline.OverdueEvent{ID: c.reviewClockID(), Due: e.Due, At: e.At})
	case CaseDecided:
		l.Apply(deadline.MetEvent{ID: c.reviewClockID(), At: e.At})
		if e.Decision.Kind == policy.DecisionReject {
			// Refused: nothing will be transmitted, and the refusal is the
			// answer the authority asked for by its deadline. What stays
			// owed is saying so: an EPOC's "cannot comply" notice on the
			// form of Annex III (Art. 10(6)-(7)) stays open until met.
			l.Apply(deadline.CancelledEvent{ID: deadline.EPOCTransmitID, At: e.At, Reason: "the demand was rejected: nothing is transmitted"})
			l.Apply(deadline.MetEvent{ID: AuthorityDeadlineID, At: e.At})
		}
	case RedirectAgreed:
		// The authority goes to the customer (4.1.1): nothing is owed to
		// it on this request any more.
		c.stopClocks(e.At, "the authority agreed to go to the customer")
	case CaseReopened:
		// A case back in review is reviewed again within the policy's
		// time (3.1), on a review clock of its own (review/<n>): the first
		// one was met by the decision the reopening superseded. The
		// clock's deadline comes in the DeadlinesSet written beside it
		// ([Case.RestartReviewClock]); reopenings written before it have
		// none and keep the first deadline.
		if !e.ReviewDue.IsZero() {
			c.reviewClock = reopenedReviewID(len(c.reopenings) + 1)
		}
	case DispositionRecorded:
		if e.Disclosed {
			l.Apply(deadline.MetEvent{ID: deadline.EPOCTransmitID, At: e.At})
			l.Apply(deadline.MetEvent{ID: AuthorityDeadlineID, At: e.At})
			c.stopClocks(e.At, "the data was transmitted")
			return
		}
		c.stopClocks(e.At, "the request ended without a disclosure")
	case RequestWithdrawn:
		// After a disclosure the clocks still open are a breach's (a
		// forgery found later): a withdrawal undoes nothing of them.
		if !c.disclosed {
			c.stopClocks(e.At, "the authority withdrew the request")
		}
	case BreachOpened:
		// A personal-data breach's clocks (verification.go: each controller
		// customer without undue delay, the supervisory authority within
		// 72 hours) are tracked like every other deadline: listed, recorded
		// overdue once, and the queue's nearest.
		for _, d := range e.Deadlines {
			l.Apply(deadline.Set{Deadline: d, At: e.At})
		}
	}
}

// stopClocks cancels every By deadline still open: nothing is owed on a
// request that ended.
func (c *Case) stopClocks(at time.Time, reason string) {
	for _, v := range c.clocks.All() {
		if v.Kind == deadline.By && (v.Status == deadline.Pending || v.Status == deadline.Overdue) {
			c.clocks.Apply(deadline.CancelledEvent{ID: v.ID, At: at, Reason: reason})
		}
	}
}

// Deadlines lists the case's deadlines with their status.
func (c *Case) Deadlines() []deadline.View { return c.clocks.All() }

// OpenWithClocks opens the case as [Case.Open] does and sets its deadlines
// (see [OpeningDeadlines]). The review deadline of CaseOpened is the one
// counted on the Privacy Team's calendar, so the review-overdue check and
// the clocks agree.
func (c *Case) OpenWithClocks(f RequestFacts, cfg Config, cals deadline.Calendars, by string, now time.Time) ([]Event, error) {
	evs, err := c.Open(f, cfg, by, now)
	if err != nil || len(evs) == 0 {
		return evs, err
	}
	opened, ok := evs[0].(CaseOpened)
	if !ok {
		return evs, nil
	}
	ds, err := OpeningDeadlines(opened.Facts, opened.Rules, cals, now)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.ID == ReviewDeadlineID {
			opened.ReviewDue = d.At
		}
	}
	evs[0] = opened
	return append(evs, DeadlinesSet{Meta: meta(by, now), Deadlines: ds, Reason: "case opened"}), nil
}

// OpeningDeadlines are the deadlines of a case opened at now:
//   - the review deadline (3.1): an urgent case within the rules'
//     emergency review, others within their business days on the Privacy
//     Team's calendar, skipping its public holidays;
//   - the authority's own deadline, when it set one;
//   - for an EPOC, the clocks of Regulation 2023/1543 counted from receipt
//     (deadline.EPOC), and the "cannot comply" notice (Art. 10(6)-(7), the
//     form of Annex III) due without undue delay, at the latest with the
//     transmission deadline;
//   - for an EPOC-PR, the 60-day preservation period;
//   - a gag's expiry, when it has one: nothing about the request may be
//     told to the customer before it.
func OpeningDeadlines(f RequestFacts, r Rules, cals deadline.Calendars, now time.Time) ([]deadline.Deadline, error) {
	review, err := reviewDeadline(ReviewDeadlineID, f, r, cals, now)
	if err != nil {
		return nil, err
	}
	out := []deadline.Deadline{review}
	if !f.Deadline.IsZero() {
		out = append(out, fixed(AuthorityDeadlineID, deadline.By, policy.Clause3_1, "respond by the authority's deadline",
			"the authority's request", f.ReceivedAt, f.Deadline))
	}
	switch f.LegalProcess {
	case LegalProcessEPOC:
		ds, err := deadline.EPOC{Received: f.ReceivedAt, Emergency: f.Urgent(), EnforcingNotified: f.EnforcingAuthorityNotified, Calendar: ProviderCalendar}.Deadlines(cals)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
		for _, d := range ds {
			if d.ID == deadline.EPOCTransmitID {
				cc := d
				cc.ID, cc.What = EPOCCannotComplyID, "if the order cannot be executed, say so on the form of Annex III"
				cc.Rule.Source = "Regulation (EU) 2023/1543 Art. 10(6)-(7): without undue delay, on the form of Annex III; at the latest by the transmission deadline"
				out = append(out, cc)
			}
		}
	case LegalProcessEPOCPR:
		ds, err := deadline.EPOCPR{Received: f.ReceivedAt, Calendar: ProviderCalendar}.Deadlines(cals)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	if f.Gag.Present && !f.Gag.Expires.IsZero() {
		out = append(out, fixed(GagExpiryID, deadline.NotBefore, policy.Clause4_1_2, "the non-disclosure order ends: the customer may be told from then",
			"the non-disclosure order's stated expiry", f.ReceivedAt, f.Gag.Expires))
	}
	return out, nil
}

func fixed(id string, k deadline.Kind, cl policy.Clause, what, source string, start, at time.Time) deadline.Deadline {
	return deadline.Deadline{ID: id, Kind: k, Clause: cl, What: what, Start: start.UTC(),
		Rule: deadline.Rule{Counting: deadline.Fixed, Source: source}, Due: deadline.Due{At: at.UTC()}}
}

// Rule codes of the clock commands' refusals.
const (
	RuleNoEnforcingWait       = "NO_ENFORCING_AUTHORITY_WAIT"
	RuleNotPreservationOrder  = "NOT_A_PRESERVATION_ORDER"
	RulePreservationExtended  = "PRESERVATION_ALREADY_EXTENDED"
	RuleDeadlineNotActionable = "DEADLINE_NOT_OPEN"
)

// ConfirmEnforcingAuthority records that the enforcing authority confirmed
// it raises no ground for refusal (Regulation 2023/1543 Art. 10(3)): the
// waiting period ends now.
func (c *Case) ConfirmEnforcingAuthority(by string, now time.Time) ([]Event, error) {
	v, ok := c.clocks.Get(deadline.EPOCEnforcingWaitID)
	if !ok {
		return nil, ddrerr.Policy(policy.Clause2_1, RuleNoEnforcingWait,
			"the request has no enforcing authority's waiting period (Regulation 2023/1543 Art. 8: only an EPOC whose issuing authority notified the enforcing authority)")
	}
	if v.Status != deadline.Pending || !now.Before(v.Due.At) {
		return nil, ddrerr.Policy(policy.Clause2_1, RuleDeadlineNotActionable,
			"the enforcing authority's waiting period already ended")
	}
	return []Event{DeadlineMet{Meta: meta(by, now), ID: v.ID, Reason: "the enforcing authority confirmed it raises no ground for refusal (Regulation 2023/1543 Art. 10(3))"}}, nil
}

// ExtendPreservation extends an EPOC-PR's preservation by 30 days (Art.
// 11(1)), once.
func (c *Case) ExtendPreservation(by string, now time.Time, cals deadline.Calendars) ([]Event, error) {
	v, ok := c.clocks.Get(deadline.EPOCPRPreserveID)
	if !ok {
		return nil, ddrerr.Policy(policy.Clause2_1, RuleNotPreservationOrder, "the request is not a European Preservation Order")
	}
	if v.Rule.N > 60 {
		return nil, ddrerr.Policy(policy.Clause2_1, RulePreservationExtended,
			"the preservation was extended already: Regulation 2023/1543 Art. 11(1) allows one extension of 30 days")
	}
	if !now.Before(v.Due.At) {
		return nil, ddrerr.Policy(policy.Clause2_1, RuleDeadlineNotActionable,
			"the preservation period already ended: an extension must come before its 60 days are over")
	}
	ds, err := deadline.EPOCPR{Received: v.Start, Extended: true, Calendar: v.Rule.Calendar}.Deadlines(cals)
	if err != nil {
		return nil, err
	}
	return []Event{DeadlinesSet{Meta: meta(by, now), Deadlines: ds, Reason: "preservation extended by 30 days"}}, nil
}

// MarkDeadlineMet records that what By deadline id asked for was done.
func (c *Case) MarkDeadlineMet(id, by string, now time.Time) ([]Event, error) {
	v, ok := c.clocks.Get(id)
	if !ok {
		return nil, fmt.Errorf("%w: the request has no deadline %q", ddrerr.ErrNotFound, id)
	}
	if v.Kind != deadline.By || (v.Status != deadline.Pending && v.Status != deadline.Overdue) {
		return nil, ddrerr.Policy(policy.Clause2_1, RuleDeadlineNotActionable,
			fmt.Sprintf("deadline %q is not an open deadline to act by (it is %s, %s)", id, v.Kind, v.Status))
	}
	return []Event{DeadlineMet{Meta: meta(by, now), ID: id, Reason: "recorded as done"}}, nil
}

// FireDeadlines returns the overdue events owed at now: one per By
// deadline and due time. The review deadline's overdue record is
// CaseOverdue ([Case.MarkOverdue]), so it is not fired here.
func (c *Case) FireDeadlines(now time.Time) []Event {
	var out []Event
	for _, o := range c.clocks.Fire(now) {
		if IsReviewDeadline(o.ID) {
			continue
		}
		out = append(out, DeadlineOverdue{Meta: meta("", now), ID: o.ID, Due: o.Due})
	}
	return out
}

// LegalClocksRunning reports whether a By deadline other than the
// review's is pending or overdue: the only cases [Case.FireDeadlines] can
// owe an event for and the legal-clock metrics count. It changes only with
// the case's events, never with the time.
func (c *Case) LegalClocksRunning() bool {
	return c.clocks.AnyOpen(deadline.By, IsReviewDeadline)
}

// NearestDeadline is the open By deadline due first (an overdue one is
// due earlier than any pending one), which the queue shows. Waiting
// periods (NotBefore) are not something to act by, so they are not shown
// as the next deadline; ListDeadlines lists them.
func (c *Case) NearestDeadline() (deadline.View, bool) { return nearest(c.clocks.All(), "") }

// legalDue is the due time of the nearest open By deadline other than the
// review deadline, which the queue sorts by. The review deadline is left
// out: it follows from urgency and the time the case opened, which the
// queue orders by already, while the legal deadlines (the authority's, an
// EPOC's 10 days or 8 hours) differ from case to case.
func (c *Case) legalDue() time.Time {
	v, ok := nearest(c.clocks.All(), ReviewDeadlineID)
	if !ok {
		return time.Time{}
	}
	return v.Due.At
}

func nearest(vs []deadline.View, skip string) (deadline.View, bool) {
	var best deadline.View
	found := false
	for _, v := range vs {
		if (v.ID == skip || skip == ReviewDeadlineID && IsReviewDeadline(v.ID)) || v.Kind != deadline.By || (v.Status != deadline.Pending && v.Status != deadline.Overdue) {
			continue
		}
		if !found || v.Due.At.Before(best.Due.At) {
			best, found = v, true
		}
	}
	return best, found
}

// due is the time the queue sorts a case by: its nearest legal deadline,
// or the authority's deadline for a case without clocks.
func (e QueueEntry) due() time.Time {
	if !e.LegalDue.IsZero() {
		return e.LegalDue
	}
	return e.Deadline
}

// reviewDeadline is the review deadline (3.1) of a case whose review
// starts at now: an urgent case within the rules' emergency review,
// others within their business days on the Privacy Team's calendar,
// skipping its public holidays.
func reviewDeadline(id string, f RequestFacts, r Rules, cals deadline.Calendars, now time.Time) (deadline.Deadline, error) {
	review := deadline.Deadline{ID: id, Kind: deadline.By, Clause: policy.Clause3_1, What: "decide the review", Start: now.UTC()}
	if f.Urgent() {
		review.Rule = deadline.Rule{Counting: deadline.Fixed,
			Source: fmt.Sprintf("Government Data Request Policy 3.1: an emergency or imminent-risk request is reviewed within %s", r.EmergencyReview)}
		review.Due = deadline.Due{At: now.UTC().Add(r.EmergencyReview)}
	} else {
		review.Rule = deadline.Rule{Counting: deadline.BusinessDays, N: r.StandardReviewBusinessDays, Calendar: PrivacyTeamCalendar,
			Source: fmt.Sprintf("Government Data Request Policy 3.1: reviewed within %d business days of the Privacy Team", r.StandardReviewBusinessDays)}
		due, err := review.Rule.DueFrom(now, time.Time{}, cals)
		if err != nil {
			return deadline.Deadline{}, err
		}
		review.Due = due
	}
	return review, nil
}

// ReviewDeadlineID names the first review clock; a reopened case is
// reviewed on review/<n>, one per reopening that restarted it.
func reopenedReviewID(n int) string { return fmt.Sprintf("%s/%d", ReviewDeadlineID, n) }

// IsReviewDeadline reports whether id is a review clock (the first, or a
// reopened case's).
func IsReviewDeadline(id string) bool {
	return id == ReviewDeadlineID || strings.HasPrefix(id, ReviewDeadlineID+"/")
}

// reviewClockID is the review clock running now.
func (c *Case) reviewClockID() string { return cmp.Or(c.reviewClock, ReviewDeadlineID) }

// RestartReviewClock gives every reopening among evs (the events a
// command decided) the review deadline counted from it (3.1), and sets
// that clock beside it: a case back in review is reviewed again within the
// policy's time, and is overdue again, once, if it is not.
func (c *Case) RestartReviewClock(evs []Event, cals deadline.Calendars, now time.Time) ([]Event, error) {
	n := len(c.reopenings)
	out := make([]Event, 0, len(evs)+1)
	for _, e := range evs {
		r, ok := e.(CaseReopened)
		if !ok || !r.ReviewDue.IsZero() {
			out = append(out, e)
			continue
		}
		n++
		d, err := reviewDeadline(reopenedReviewID(n), c.facts, c.rules, cals, now)
		if err != nil {
			return nil, err
		}
		d.What = "decide the review again: the case was reopened"
		r.ReviewDue = d.At
		out = append(out, r, DeadlinesSet{Meta: r.Meta, Deadlines: []deadline.Deadline{d}, Reason: "case reopened"})
	}
	return out, nil
}
