package eventstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// shape is what a load must give, whatever way it reads: every event's
// id, text and sequence, and the expected sequence of the next append.
func shape(h eventstore.History) []string {
	out := make([]string, 0, len(h.Events)+1)
	for i, e := range h.Events {
		out = append(out, fmt.Sprintf("%s %s %d", e.ID, texts(h)[i], e.Sequence))
	}
	return append(out, fmt.Sprintf("last %d", h.LastSeq))
}

// appendRound appends one event to each request, interleaved.
func appendRound(t *testing.T, store *eventstore.Store, ids []string, heads map[string]uint64, round int) {
	t.Helper()
	for _, id := range ids {
		seq, err := store.Append(context.Background(), id, heads[id], ev("intake", "noted", fmt.Sprintf("%s-%d", id, round)))
		if err != nil {
			t.Fatal(err)
		}
		heads[id] = seq
	}
}

func lastSeq(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	st, err := js.Stream(context.Background(), eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.LastSeq
}

// An indexed store loads exactly what a store without the index loads:
// before the index has seen anything, once it has caught up, and with
// events written after it (the tail it has not applied yet, read the old
// way).
func TestIndex_LoadsWhatTheSearchLoads(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	plain := eventstore.NewStore(js)
	indexed := eventstore.NewStore(js, eventstore.WithIndex(0))
	ids := []string{"req-a", "req-b", "req-c"}
	heads := map[string]uint64{}
	compare := func(when string) {
		t.Helper()
		for _, id := range append(ids, "req-none") {
			want, err := plain.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			got, err := indexed.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(shape(want), shape(got)); diff != "" {
				t.Errorf("%s: %s: indexed load differs (-search +indexed):\n%s", when, id, diff)
			}
		}
	}
	for r := range 3 {
		appendRound(t, plain, ids, heads, r)
	}
	compare("index not started") // this load starts it
	head := lastSeq(t, js)
	testkit.Eventually(t, "the index to catch up", func() bool {
		applied, ok := indexed.IndexedThrough()
		return ok && applied == head
	})
	compare("index caught up")
	if requests, bytes := indexed.IndexSize(); requests != len(ids) || bytes <= 0 {
		t.Errorf("IndexSize = %d requests, %d bytes; want %d requests", requests, bytes, len(ids))
	}
	for r := 3; r < 6; r++ {
		appendRound(t, plain, ids, heads, r)
	}
	compare("events after the index") // whatever the index applied by now
	head = lastSeq(t, js)
	testkit.Eventually(t, "the index to catch up again", func() bool {
		applied, _ := indexed.IndexedThrough()
		return applied == head
	})
	compare("index caught up again")
	// The loaded head is the one an append must expect.
	h, err := indexed.Load(ctx, "req-b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := indexed.Append(ctx, "req-b", h.LastSeq, ev("intake", "noted", "after")); err != nil {
		t.Errorf("append at the indexed head: %v", err)
	}
}

// A forged event is left out of an indexed load as of a searched one, and
// still counts in LastSeq.
func TestIndex_ForgedEventLeftOutButCounted(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	indexed := eventstore.NewStore(js, eventstore.WithIndex(0))
	const id = "req-forged"
	if _, err := indexed.Append(ctx, id, 0, eventstore.Event{Payload: &intakev1.RequestReceived{RequestId: id, GroupMember: "owner"}}); err != nil {
		t.Fatal(err)
	}
	var forged uint64
	for _, subject := range forgedSubjects(id) {
		forged = testkit.PublishForged(t, js, subject, &intakev1.RequestReceived{RequestId: id, GroupMember: "mallory"})
	}
	if _, err := indexed.Load(ctx, id); err != nil { // starts the index
		t.Fatal(err)
	}
	testkit.Eventually(t, "the index to catch up", func() bool {
		applied, _ := indexed.IndexedThrough()
		return applied == forged
	})
	h, err := indexed.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != 1 || h.Events[0].Payload.(*intakev1.RequestReceived).GetGroupMember() != "owner" || h.LastSeq != forged {
		t.Errorf("history = %+v, LastSeq %d; want only the genuine receipt, %d", h.Events, h.LastSeq, forged)
	}
}

// An index that outgrows its memory limit is dropped, and the store reads
// correctly without it.
func TestIndex_OverLimitDroppedLoadsStillWhole(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	indexed := eventstore.NewStore(js, eventstore.WithIndex(1))
	heads := map[string]uint64{}
	appendRound(t, indexed, []string{"req-a"}, heads, 0)
	if _, err := indexed.Load(ctx, "req-a"); err != nil { // starts the index
		t.Fatal(err)
	}
	testkit.Eventually(t, "the index to be dropped", func() bool {
		_, ok := indexed.IndexedThrough()
		return !ok
	})
	appendRound(t, indexed, []string{"req-a"}, heads, 1)
	h, err := indexed.Load(ctx, "req-a")
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(h); !cmp.Equal(got, []string{"req-a-0", "req-a-1"}) || h.LastSeq != heads["req-a"] {
		t.Errorf("Load = %v, LastSeq %d; want both events, %d", got, h.LastSeq, heads["req-a"])
	}
}

// ScanRequest gives the messages as stored, as Scan over the request's
// filter does.
func TestIndex_ScanRequestAsStored(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	indexed := eventstore.NewStore(js, eventstore.WithIndex(0))
	heads := map[string]uint64{}
	for r := range 3 {
		appendRound(t, indexed, []string{"req-a", "req-b"}, heads, r)
	}
	raw := func(scan func(fn func(eventstore.RawMsg) error) error) []string {
		t.Helper()
		var out []string
		if err := scan(func(m eventstore.RawMsg) error {
			out = append(out, fmt.Sprintf("%d %s %x", m.Sequence, m.Subject, m.Data))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := raw(func(fn func(eventstore.RawMsg) error) error {
		return eventstore.Scan(ctx, js, eventstore.StreamName, eventstore.RequestFilter("req-b"), fn)
	})
	if len(want) != 3 {
		t.Fatalf("Scan gave %d messages, want 3", len(want))
	}
	for _, when := range []string{"before the index", "after"} {
		got := raw(func(fn func(eventstore.RawMsg) error) error { return indexed.ScanRequest(ctx, "req-b", fn) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: ScanRequest differs (-Scan +ScanRequest):\n%s", when, diff)
		}
		head := lastSeq(t, js)
		testkit.Eventually(t, "the index to catch up", func() bool {
			applied, _ := indexed.IndexedThrough()
			return applied == head
		})
	}
}

// Stores sharing an index (the services of one process) are kept current
// by one ordered consumer, not one each, and each loads what a search
// loads, with events appended through either.
func TestIndex_SharedByStoresOneConsumer(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	plain := eventstore.NewStore(js)
	ix := eventstore.NewIndex(0)
	a := eventstore.NewStore(js, eventstore.WithSharedIndex(ix))
	b := eventstore.NewStore(js, eventstore.WithSharedIndex(ix))
	ids := []string{"req-a", "req-b"}
	heads := map[string]uint64{}
	for r := range 2 {
		appendRound(t, a, ids, heads, r)
	}
	appendRound(t, b, ids, heads, 2)
	if _, err := a.Load(ctx, "req-a"); err != nil { // starts the index
		t.Fatal(err)
	}
	if _, err := b.Load(ctx, "req-a"); err != nil { // finds it started
		t.Fatal(err)
	}
	head := lastSeq(t, js)
	testkit.Eventually(t, "the shared index to catch up", func() bool {
		applied, ok := b.IndexedThrough()
		return ok && applied == head
	})
	if got, _ := a.IndexedThrough(); got != head {
		t.Errorf("store a's index applied %d, store b's %d: not the same index", got, head)
	}
	st, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Consumers != 1 {
		t.Errorf("%d consumers on the stream; want the shared index's one", info.State.Consumers)
	}
	for _, id := range ids {
		want, err := plain.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]*eventstore.Store{"a": a, "b": b} {
			got, err := s.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(shape(want), shape(got)); diff != "" {
				t.Errorf("store %s: %s: indexed load differs (-search +indexed):\n%s", name, id, diff)
			}
		}
	}
}
