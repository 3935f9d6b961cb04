package app

import (
	"sync"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/projection"
)

// Index is the group members' list view: every request folded from the
// events of [viewEvents], by member. It is a projection, rebuilt from the
// stream at every start.
type Index struct {
	mu       sync.RWMutex
	views    map[string]*View
	byMember map[string][]string // request ids in stream order (oldest first)
	// pos is each request's place in its member's byMember list, so that
	// a page token is found without walking the list (a member's list
	// only grows, and a page must not cost more for a longer record).
	pos map[string]int
	// version is each request's version: the stream sequence of the last
	// event folded into its view. Only the request's own events change
	// its view, so a rendering of the view at a version stays right until
	// the version moves (see [Index.Page]).
	version map[string]uint64
	filters []string
	apply   projection.Apply
	// erased is told of each request whose view forgot its erased values
	// (see [Index.OnErased]); nil tells no one.
	erased func(requestID string, seq uint64)
}

// OnErased makes f be called, under the index's lock, each time a view
// folds TargetsErased, with the request and the event's sequence: what
// keeps renderings of the view (ports' List rows) learns there that its
// copies hold values the view has forgotten. Call it before the index
// folds anything.
func (x *Index) OnErased(f func(requestID string, seq uint64)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.erased = f
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{views: map[string]*View{}, byMember: map[string][]string{}, pos: map[string]int{}, version: map[string]uint64{}}
	x.filters, x.apply = viewEvents(x.at)
	return x
}

// at is the view of the event's request: a new one on receipt, nil for a
// request the index has not seen received.
func (x *Index) at(ev eventstore.Event) *View {
	if v, ok := x.views[ev.RequestID]; ok {
		return v
	}
	p, received := ev.Payload.(*intakev1.RequestReceived)
	if !received {
		return nil
	}
	v := &View{}
	x.views[ev.RequestID] = v
	m := p.GetGroupMember()
	x.pos[ev.RequestID] = len(x.byMember[m])
	x.byMember[m] = append(x.byMember[m], ev.RequestID)
	return v
}

// Filters are the subjects the index folds, for projection.Start.
func (x *Index) Filters() []string { return x.filters }

// Apply folds one event into the index. A stage change the lifecycle refuses
// is skipped, and reported.
func (x *Index) Apply(ev eventstore.Event) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	err := x.apply(ev)
	if _, ok := x.views[ev.RequestID]; ok {
		// Even a refused fact moves the version: a new rendering costs
		// little, a stale one would be wrong.
		x.version[ev.RequestID] = ev.Sequence
		if _, erasure := ev.Payload.(*intakev1.TargetsErased); erasure && x.erased != nil {
			x.erased(ev.RequestID, ev.Sequence)
		}
	}
	return err
}

// Get returns a request of groupMember as the index holds it; false when the
// index has no such request of that member (yet).
func (x *Index) Get(groupMember, requestID string) (Request, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	v, ok := x.views[requestID]
	if !ok || v.GroupMember() != groupMember {
		return Request{}, false
	}
	return v.Request(), true
}

// Row is a request in a page of [Index.Page]: its id, and the version of
// its view when the page was read.
type Row struct {
	ID      string
	Version uint64
}

// Page returns up to limit requests of groupMember, newest first, starting
// after the request id after, as ids with their versions; next is the
// cursor of the following page. A caller that kept a request as rendered
// at the same version has it still; else [Index.Versioned] gives it.
func (x *Index) Page(groupMember, after string, limit int) (rows []Row, next string) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	ids := x.byMember[groupMember]
	end := len(ids)
	if after != "" {
		i, ok := x.pos[after]
		if !ok || i >= len(ids) || ids[i] != after {
			return nil, "" // unknown, or another member's request
		}
		end = i
	}
	i := end - 1
	for ; i >= 0 && len(rows) < limit; i-- {
		rows = append(rows, Row{ID: ids[i], Version: x.version[ids[i]]})
	}
	if i < 0 || len(rows) == 0 {
		return rows, ""
	}
	return rows, ids[i+1]
}

// Versioned is [Index.Get] with the version of the view it read (both
// under one lock, so the request is the view at that version).
func (x *Index) Versioned(groupMember, requestID string) (Request, uint64, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	v, ok := x.views[requestID]
	if !ok || v.GroupMember() != groupMember {
		return Request{}, 0, false
	}
	return v.Request(), x.version[requestID], true
}
