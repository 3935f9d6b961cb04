package service_test

import (
	"fmt"
	"testing"
	"time"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// listTargets is the first target of each request of the member's first
// page, by request id, as List shows it.
func listTargets(t *testing.T, c intakev1.IntakeServiceClient) map[string]*intakev1.Target {
	t.Helper()
	res, err := c.List(ctxT(t), &intakev1.ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*intakev1.Target{}
	for _, r := range res.GetRequests() {
		if ts := r.GetContent().GetTargets(); len(ts) > 0 {
			out[r.GetRequestId()] = ts[0]
		}
	}
	return out
}

// List keeps its rows rendered between calls (ports/rows.go), with their
// targets sealed: a key erased by intake itself shows at the very next
// List, and one erased by another instance's keyring (no event in the
// stream moves the view, so only the keyring can tell) as soon as intake's
// keyring learns of it from its watch; the other requests' targets still
// open.
func TestList_ErasedTargetsShowAtOnceThoughTheRowsAreKept(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	c := client(t, p, memberA)
	ids := make([]string, 3)
	for i := range ids {
		res, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{
			IdempotencyKey: fmt.Sprintf("list-erase-%d", i),
			Request:        oral(time.Now().Add(-time.Hour), fmt.Sprintf("subject-%d@example.org", i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = res.GetRequestId()
	}
	for range 2 { // the second from the kept rows
		got := listTargets(t, c)
		for i, id := range ids {
			if v := got[id].GetValue(); v != fmt.Sprintf("subject-%d@example.org", i) || got[id].GetErased() || len(got[id].GetSealedValue()) > 0 {
				t.Fatalf("request %d lists target %v", i, got[id])
			}
		}
	}

	// Erased only once the request ended (clause 4.1.2).
	if _, err := c.Withdraw(ctxT(t), &intakev1.WithdrawRequest{RequestId: ids[0], Reason: "order revoked"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client(t, p, legal).EraseTargets(ctxT(t), &intakev1.EraseTargetsRequest{RequestId: ids[0], Reason: "retention"}); err != nil {
		t.Fatal(err)
	}
	got := listTargets(t, c)
	if tg := got[ids[0]]; !tg.GetErased() || tg.GetValue() != "" {
		t.Errorf("right after intake erased it, List shows the target %v", tg)
	}

	other := intakeKeys(t, p)
	t.Cleanup(other.Close)
	if err := other.Erase(ctxT(t), ids[1]); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	for {
		got = listTargets(t, c)
		if tg := got[ids[1]]; tg.GetErased() {
			if tg.GetValue() != "" {
				t.Errorf("an erased target listed with its value: %v", tg)
			}
			break
		} else if tg.GetValue() != "subject-1@example.org" {
			t.Fatalf("before intake learnt of the erasure, List shows %v", tg)
		}
		select {
		case <-ctx.Done():
			t.Fatal("List never showed another instance's erasure")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if tg := got[ids[2]]; tg.GetValue() != "subject-2@example.org" || tg.GetErased() {
		t.Errorf("the request not erased lists its target as %v", tg)
	}
}
