package app

import (
	"slices"
	"sync"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// Index is the group members' list view: every request folded from
// [ViewSubjects], by member. It is a projection, rebuilt from the stream at
// every start.
type Index struct {
	mu       sync.RWMutex
	views    map[string]*View
	byMember map[string][]string // request ids in stream order (oldest first)
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{views: map[string]*View{}, byMember: map[string][]string{}}
}

// Apply folds one event into the index. A stage change the lifecycle refuses
// is skipped, as in [View.Apply].
func (x *Index) Apply(ev eventstore.Event) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	v, ok := x.views[ev.RequestID]
	if !ok {
		if _, received := ev.Payload.(*intakev1.RequestReceived); !received {
			return nil
		}
		v = &View{}
		x.views[ev.RequestID] = v
	}
	err := v.Apply(ev)
	if !ok {
		m := v.GroupMember()
		x.byMember[m] = append(x.byMember[m], ev.RequestID)
	}
	return err
}

// Get returns a request of groupMember as the index holds it; false when the
// index has no such request of that member (yet).
func (x *Index) Get(groupMember, requestID string) (*intakev1.Request, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	v, ok := x.views[requestID]
	if !ok || v.GroupMember() != groupMember {
		return nil, false
	}
	return v.Proto(), true
}

// List returns up to limit requests of groupMember, newest first, starting
// after the request id after; next is the cursor of the following page.
func (x *Index) List(groupMember, after string, limit int) ([]*intakev1.Request, string) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	ids := x.byMember[groupMember]
	end := len(ids)
	if after != "" {
		end = slices.Index(ids, after)
		if end < 0 {
			return nil, ""
		}
	}
	var out []*intakev1.Request
	i := end - 1
	for ; i >= 0 && len(out) < limit; i-- {
		out = append(out, x.views[ids[i]].Proto())
	}
	if i < 0 || len(out) == 0 {
		return out, ""
	}
	return out, ids[i+1]
}
