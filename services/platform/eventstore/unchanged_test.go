package eventstore_test

import (
	"context"
	"testing"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// Unchanged says yes only for the request's last sequence, with or
// without the index having applied what came after it; no without an
// index (it cannot tell cheaply).
func TestUnchanged_OnlyWhileNothingCameAfter(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	store := eventstore.NewStore(js, eventstore.WithIndex(0))
	plain := eventstore.NewStore(js)
	const id = "req-unchanged"
	first, err := store.Append(ctx, id, 0, ev("intake", "noted", "one"))
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the index to catch up", func() bool {
		applied, ok := store.IndexedThrough()
		return ok && applied >= first
	})
	check := func(seq uint64, want bool) {
		t.Helper()
		got, err := store.Unchanged(ctx, id, seq)
		if err != nil || got != want {
			t.Errorf("Unchanged(%d) = %v, %v; want %v", seq, got, err, want)
		}
	}
	check(first, true)
	check(0, false)
	check(first+1, false)
	if ok, err := plain.Unchanged(ctx, id, first); ok || err != nil {
		t.Errorf("without an index: %v, %v; want false", ok, err)
	}
	// Right after a write, before the index may have applied it.
	second, err := store.Append(ctx, id, first, ev("assessment", "noted", "two"))
	if err != nil {
		t.Fatal(err)
	}
	check(first, false)
	// A forged event counts: it is on the request's subjects.
	forged := testkit.PublishForged(t, js, eventstore.Subject(id, "reporting", "sealed"), &intakev1.RequestReceived{RequestId: id})
	check(second, false)
	testkit.Eventually(t, "the index to catch up", func() bool {
		applied, _ := store.IndexedThrough()
		return applied >= forged
	})
	check(forged, true)
	if _, err := store.Unchanged(ctx, "bad.id", 1); err == nil {
		t.Error("an invalid request id was accepted")
	}
}
