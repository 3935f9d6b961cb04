package app

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/pagetoken"
)

// QueueSubjects feed the queue. Every event of a request counts, not only
// assessment's: a case's version is the last sequence of its whole request,
// which is what DecideRequest.expected_version is compared with. So the
// queue is not built of typed handlers (projection.On) for a list of event
// types: an event type added to another service must move the version
// too. No subject is typed by hand either; the fold switches on the
// payload's Go type (package codec), so a renamed event breaks the build.
var QueueSubjects = []string{eventstore.AllEvents}

// Queue is the Privacy Team's review queue: every case folded from the
// stream. It is a projection, rebuilt at every start.
//
// Beside every case it keeps two smaller sets, so that what the team and
// the clocks read every few seconds costs what the open work costs, not
// what the whole record does (issue 19: the record only grows, the cases
// needing work do not): the cases still needing work (the default page,
// and the only ones that can be overdue) and the cases with a legal clock
// running (the only ones that can owe a DeadlineOverdue). Membership
// follows the case's status and deadlines, which change only with events,
// so it is settled after each event and never goes stale with the time.
type Queue struct {
	mu    sync.RWMutex
	cases map[string]*CaseState
	// working: the cases that need work ([domain.Case.NeedsWork]).
	working map[string]*CaseState
	// clocked: the cases with a legal clock running
	// ([domain.Case.LegalClocksRunning]).
	clocked map[string]*CaseState
}

// NewQueue returns an empty queue.
func NewQueue() *Queue {
	return &Queue{cases: map[string]*CaseState{}, working: map[string]*CaseState{}, clocked: map[string]*CaseState{}}
}

// Apply folds one event in. Events of requests without a case are skipped
// until the case opens; the case's history before that is intake's receipt,
// which CaseOpened summarises.
func (q *Queue) Apply(ev eventstore.Event) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if st, ok := q.cases[ev.RequestID]; ok {
		// Placed again even when the event is refused: a state that
		// folded part of it must not be read from the wrong set.
		defer q.place(ev.RequestID, st)
		return st.Apply(ev)
	}
	st := NewCaseState()
	if err := st.Apply(ev); err != nil || !st.Case.Opened() {
		return err
	}
	q.cases[ev.RequestID] = st
	q.place(ev.RequestID, st)
	return nil
}

// place puts the case in the sets it belongs to now, and out of the others.
func (q *Queue) place(id string, st *CaseState) {
	member := func(set map[string]*CaseState, in bool) {
		if in {
			set[id] = st
		} else {
			delete(set, id)
		}
	}
	member(q.working, st.Case.NeedsWork())
	member(q.clocked, st.Case.LegalClocksRunning())
}

// among returns the smallest set holding every case f can match: the
// cases needing work when f asks for none other, else every case.
func (q *Queue) among(f ListFilter) map[string]*CaseState {
	for _, s := range f.Statuses {
		if s == domain.StatusDecided || s == domain.StatusWithdrawn {
			return q.cases
		}
	}
	return q.working
}

// ListFilter selects cases of the queue.
type ListFilter struct {
	// Statuses; empty means every case still needing work (not decided and
	// not withdrawn).
	Statuses []domain.Status
	Assignee string
}

func (f ListFilter) match(st *CaseState) bool {
	if len(f.Statuses) == 0 {
		if !st.Case.NeedsWork() {
			return false
		}
	} else if !slices.Contains(f.Statuses, st.Case.Status()) {
		return false
	}
	return f.Assignee == "" || f.Assignee == st.Case.Assignee()
}

// List shows up to limit cases in queue order (emergencies first, then by
// the authority's deadline), starting after the page token, and returns the
// next page's token. The token holds the last entry's sort key rather than
// a position, so cases that change status between pages neither repeat nor
// vanish from the rest. show runs under the queue's read lock, as the
// projection moves the states: it must render st and not keep it.
func (q *Queue) List(f ListFilter, pageToken string, limit int, show func(st *CaseState)) (string, error) {
	after, err := decodeCursor(pageToken)
	if err != nil {
		return "", err
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	type item struct {
		e  domain.QueueEntry
		st *CaseState
	}
	var items []item
	for _, st := range q.among(f) {
		if !f.match(st) {
			continue
		}
		e := st.Case.QueueEntry()
		if after != nil && domain.CompareQueue(e, *after) <= 0 {
			continue
		}
		items = append(items, item{e, st})
	}
	slices.SortFunc(items, func(a, b item) int { return domain.CompareQueue(a.e, b.e) })
	var next string
	if len(items) > limit {
		items = items[:limit]
		next = encodeCursor(items[limit-1].e)
	}
	for _, it := range items {
		show(it.st)
	}
	return next, nil
}

// Overdue lists the cases whose review deadline has passed at now and whose
// overdue event is not yet recorded.
func (q *Queue) Overdue(now time.Time) []string {
	q.mu.RLock()
	defer q.mu.RUnlock()
	var out []string
	for id, st := range q.working {
		if st.Case.Overdue(now) && !st.Case.OverdueRecorded() {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// OverdueCount is the number of open cases past their review deadline at
// now, whether or not the overdue event is recorded yet (a metric).
func (q *Queue) OverdueCount(now time.Time) int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	n := 0
	for _, st := range q.working {
		if st.Case.Overdue(now) {
			n++
		}
	}
	return n
}

// cursor is the sort key of the last case of a page. It holds ids and times,
// no personal data.
type cursor struct {
	Urgent     bool      `json:"u,omitempty"`
	Deadline   time.Time `json:"d"`
	LegalDue   time.Time `json:"l,omitzero"`
	ReceivedAt time.Time `json:"r"`
	RequestID  string    `json:"id"`
}

func encodeCursor(e domain.QueueEntry) string {
	b, _ := json.Marshal(cursor{Urgent: e.Urgent, Deadline: e.Deadline, LegalDue: e.LegalDue, ReceivedAt: e.ReceivedAt, RequestID: e.RequestID})
	return pagetoken.Encode(string(b))
}

func decodeCursor(tok string) (*domain.QueueEntry, error) {
	raw, err := pagetoken.Decode(tok)
	if err != nil || raw == "" {
		return nil, err
	}
	var c cursor
	if err := json.Unmarshal([]byte(raw), &c); err != nil || c.RequestID == "" {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "page_token", Description: "not a token this service issued"})
	}
	return &domain.QueueEntry{Urgent: c.Urgent, Deadline: c.Deadline, LegalDue: c.LegalDue, ReceivedAt: c.ReceivedAt, RequestID: c.RequestID}, nil
}
