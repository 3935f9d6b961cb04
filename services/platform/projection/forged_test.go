package projection_test

import (
	"context"
	"sync"
	"testing"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// A RequestReceived forged on reporting's subjects (issue 14) is never
// applied: the projection skips it and goes on.
func TestProjection_SkipsForgedEvents(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	const id = "req-forged"
	if _, err := store.Append(context.Background(), id, 0, eventstore.Event{Payload: &intakev1.RequestReceived{RequestId: id, GroupMember: "owner"}}); err != nil {
		t.Fatal(err)
	}
	var last uint64
	for _, s := range []string{"ddr.req." + id + ".reporting.sealed", "ddr.req." + id + ".reporting.disposition_recorded"} {
		last = testkit.PublishForged(t, js, s, &intakev1.RequestReceived{RequestId: id, GroupMember: "mallory"})
	}
	var mu sync.Mutex
	var members []string
	p := start(t, js, nil, projection.Apply(func(ev eventstore.Event) error {
		mu.Lock()
		defer mu.Unlock()
		members = append(members, ev.Payload.(*intakev1.RequestReceived).GetGroupMember())
		return nil
	}))
	if err := p.WaitFor(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(members) != 1 || members[0] != "owner" {
		t.Errorf("applied receipts of %v, want only the owner's", members)
	}
}
