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
	pos     map[string]int
	filters []string
	apply   projection.Apply
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{views: map[string]*View{}, byMember: map[string][]string{}, pos: map[string]int{}}
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
	return x.apply(ev)
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

// List returns up to limit requests of groupMember, newest first, starting
// after the request id after; next is the cursor of the following page.
func (x *Index) List(groupMember, after string, limit int) ([]Request, string) {
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
	var out []Request
	i := end - 1
	for ; i >= 0 && len(out) < limit; i-- {
		out = append(out, x.views[ids[i]].Request())
	}
	if i < 0 || len(out) == 0 {
		return out, ""
	}
	return out, ids[i+1]
}
