package deadline

import (
	"fmt"
	"slices"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Kind says which way a deadline binds.
type Kind string

// The kinds.
const (
	// By: something must be done by the due time (transmit, notify,
	// decide). Passing it unmet is overdue, recorded once.
	By Kind = "by"
	// NotBefore: something may not be done before the due time (the end of
	// an enforcing authority's 10 days, a customer-notice window). Passing
	// it is not an event; Permits answers whether the act may happen.
	NotBefore Kind = "not_before"
)

// Deadline is one clock of one request, as data: what it is for, the law
// or policy it comes from, how it was counted and when it is due.
type Deadline struct {
	// ID names the deadline within its request, e.g. "review",
	// "epoc/transmit", "notice/after-emergency/<customer ref>".
	ID     string
	Kind   Kind
	Clause policy.Clause
	// What it is, for people.
	What  string
	Rule  Rule
	Start time.Time
	Due
}

// Status is where a deadline stands.
type Status string

// The statuses.
const (
	Pending   Status = "pending"
	Met       Status = "met"
	Cancelled Status = "cancelled"
	Overdue   Status = "overdue"
)

// Event changes a request's deadlines. The record carries them so that
// folding a request's events gives back its clocks exactly.
type Event interface{ deadlineEvent() }

// Set starts a deadline, or moves one already set (an authority extends
// its deadline, a preservation order is extended): the latest Set counts.
type Set struct {
	Deadline Deadline
	At       time.Time
}

// MetEvent records that what the deadline asked for happened (for
// NotBefore: that the wait ended early, e.g. the enforcing authority
// confirmed it raises no ground for refusal).
type MetEvent struct {
	ID string
	At time.Time
}

// CancelledEvent stops a deadline that no longer applies (a withdrawal, a
// step that ended), with the reason.
type CancelledEvent struct {
	ID     string
	At     time.Time
	Reason string
}

// OverdueEvent records once that a By deadline passed unmet. Due says
// which due time it passed, so a deadline moved later can be overdue
// again, once per due time.
type OverdueEvent struct {
	ID  string
	Due time.Time
	At  time.Time
}

func (Set) deadlineEvent()            {}
func (MetEvent) deadlineEvent()       {}
func (CancelledEvent) deadlineEvent() {}
func (OverdueEvent) deadlineEvent()   {}

// entry is a deadline with its state.
type entry struct {
	d       Deadline
	status  Status
	overdue time.Time // the due time last reported overdue
	at      time.Time // when it was met or cancelled
	reason  string
}

// Ledger holds the deadlines of one request, folded from its events.
type Ledger struct {
	byID  map[string]*entry
	order []string
}

// Apply folds one event. Events about a deadline never set are ignored:
// the record may hold them from a later version that set it differently,
// and a clock must never be invented from a stray event.
func (l *Ledger) Apply(e Event) {
	if l.byID == nil {
		l.byID = map[string]*entry{}
	}
	switch e := e.(type) {
	case Set:
		en, ok := l.byID[e.Deadline.ID]
		if !ok {
			en = &entry{}
			l.byID[e.Deadline.ID] = en
			l.order = append(l.order, e.Deadline.ID)
		}
		en.d = e.Deadline
		if en.status != Met && en.status != Cancelled {
			en.status = Pending
			if !en.overdue.IsZero() && !e.Deadline.At.After(en.overdue) {
				en.status = Overdue
			}
		}
	case MetEvent:
		if en, ok := l.byID[e.ID]; ok && en.status != Cancelled && en.status != Met {
			en.status, en.at = Met, e.At
		}
	case CancelledEvent:
		if en, ok := l.byID[e.ID]; ok && en.status != Met && en.status != Cancelled {
			en.status, en.at, en.reason = Cancelled, e.At, e.Reason
		}
	case OverdueEvent:
		if en, ok := l.byID[e.ID]; ok && en.status == Pending {
			en.status, en.overdue = Overdue, e.Due
		}
	}
}

// View is a deadline with its status, for readers.
type View struct {
	Deadline
	Status Status
	// At is when it was met or cancelled.
	At     time.Time
	Reason string
}

// All lists the deadlines in the order they were first set.
func (l *Ledger) All() []View {
	out := make([]View, 0, len(l.order))
	for _, id := range l.order {
		en := l.byID[id]
		out = append(out, View{Deadline: en.d, Status: en.status, At: en.at, Reason: en.reason})
	}
	return out
}

// AnyOpen reports whether a deadline of kind for which skip is false is
// still pending or overdue: whether the ledger can still owe anything. It
// reads no clock, as a deadline's status moves only by events, so a
// projection can keep the answer beside its state (assessment's queue
// keeps the cases with a legal clock running apart from the rest).
func (l *Ledger) AnyOpen(kind Kind, skip func(id string) bool) bool {
	for _, id := range l.order {
		en := l.byID[id]
		if en.d.Kind == kind && (en.status == Pending || en.status == Overdue) && !skip(id) {
			return true
		}
	}
	return false
}

// Get returns one deadline.
func (l *Ledger) Get(id string) (View, bool) {
	en, ok := l.byID[id]
	if !ok {
		return View{}, false
	}
	return View{Deadline: en.d, Status: en.status, At: en.at, Reason: en.reason}, true
}

// Fire returns the overdue events owed at now: every pending By deadline
// whose due time has passed. Each names the due time it passed, so the
// caller appends it with an id derived from (request, deadline, due): two
// replicas firing at once write it once.
func (l *Ledger) Fire(now time.Time) []OverdueEvent {
	var out []OverdueEvent
	for _, id := range l.order {
		en := l.byID[id]
		if en.d.Kind == By && en.status == Pending && !now.Before(en.d.At) {
			out = append(out, OverdueEvent{ID: id, Due: en.d.At, At: now})
		}
	}
	return out
}

// Next returns the nearest deadline still pending or overdue (an overdue
// one first: it is the most urgent), for sorting a queue.
func (l *Ledger) Next() (View, bool) {
	var open []View
	for _, v := range l.All() {
		if v.Status == Pending || v.Status == Overdue {
			open = append(open, v)
		}
	}
	if len(open) == 0 {
		return View{}, false
	}
	// By due time: View.At is when a deadline was closed, zero here.
	slices.SortStableFunc(open, func(a, b View) int { return a.Due.At.Compare(b.Due.At) })
	for _, v := range open {
		if v.Status == Overdue {
			return v, true
		}
	}
	return open[0], true
}

// Permits reports whether a NotBefore deadline allows acting at t: its
// due time has passed, or it was met early. A deadline never set permits
// nothing (the caller decides whether it must exist), and neither does a
// cancelled one: cancelling a wait is not ending it.
func (l *Ledger) Permits(id string, t time.Time) (bool, string) {
	en, ok := l.byID[id]
	switch {
	case !ok:
		return false, fmt.Sprintf("deadline %q was never set", id)
	case en.d.Kind != NotBefore:
		return false, fmt.Sprintf("deadline %q is not a waiting period", id)
	case en.status == Met:
		return true, ""
	case en.status == Cancelled:
		return false, fmt.Sprintf("the waiting period %q was cancelled, not ended", id)
	case !t.Before(en.d.At):
		return true, ""
	}
	return false, fmt.Sprintf("%s: not before %s (%s)", en.d.What, en.d.At.Format(time.RFC3339), en.d.Rule.Source)
}
