package service_test

import (
	"context"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
)

// GetCase serves the case an earlier call folded (platform/viewcache) to
// many readers at once, each rendering the same shared state (run with
// -race), and a command through the service is read at once after it.
func TestGetCase_KeptCaseSharedByReadersAndFreshAfterACommand(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	id := e.reviewedRequest(a)
	ctx := context.Background()
	get := func() *assessmentv1.Case {
		t.Helper()
		return ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase()
	}
	want := get()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				c, err := a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
				if err != nil || !proto.Equal(c.GetCase(), want) {
					t.Errorf("a concurrent GetCase: %v, changed: %v", err, !proto.Equal(c.GetCase(), want))
					return
				}
			}
		})
	}
	wg.Wait()
	ok(a.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id, Assignee: bob}))(t)
	if got := get().GetAssignee(); got != bob {
		t.Errorf("right after assigning the case to bob GetCase says %q", got)
	}
}
