package viewcache_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/wrapperspb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/seal"
	"github.com/ddrsuite/ddr/services/platform/testkit"
	"github.com/ddrsuite/ddr/services/platform/viewcache"
)

func TestMain(m *testing.M) { testkit.MainTraced(m) }

func ev(service, name, text string) eventstore.Event {
	return eventstore.Event{Service: service, Name: name, Payload: wrapperspb.String(text)}
}

// received is the event that opens request id, about one account target:
// personal data, sealed by a store with a sealer.
func received(id, target string) eventstore.Event {
	return eventstore.Event{Payload: &intakev1.RequestReceived{
		RequestId: id, GroupMember: "member-a",
		Request: &intakev1.DataDisclosureRequest{Targets: []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: target}}},
	}}
}

// view is what the tests keep: the texts of the history's events.
type view struct {
	texts   []string
	lastSeq uint64
}

// counter builds views from store and counts the builds.
type counter struct {
	store  *eventstore.Store
	builds atomic.Int64
}

func (c *counter) build(id string) viewcache.Build[view] {
	return func(ctx context.Context) (view, uint64, error) {
		c.builds.Add(1)
		h, err := c.store.Load(ctx, id)
		if err != nil {
			return view{}, 0, err
		}
		v := view{lastSeq: h.LastSeq}
		for _, e := range h.Events {
			switch p := e.Payload.(type) {
			case *wrapperspb.StringValue:
				v.texts = append(v.texts, p.GetValue())
			case *intakev1.RequestReceived:
				v.texts = append(v.texts, p.GetRequest().GetTargets()[0].GetValue())
			}
		}
		return v, h.LastSeq, nil
	}
}

// cachedStore is what most tests read through: an indexed store on js
// (with opts), the counter of the views built from it, and a view cache of
// at most limit views over it.
func cachedStore(js jetstream.JetStream, limit int, opts ...eventstore.Option) (*eventstore.Store, *counter, *viewcache.Cache[view]) {
	store := eventstore.NewStore(js, append([]eventstore.Option{eventstore.WithIndex(0)}, opts...)...)
	return store, &counter{store: store}, viewcache.For[view](store, limit)
}

// waitIndexed waits until store's index has applied the stream's last
// message.
func waitIndexed(t *testing.T, js jetstream.JetStream, store *eventstore.Store) {
	t.Helper()
	s, err := js.Stream(context.Background(), eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the index to catch up", func() bool {
		applied, ok := store.IndexedThrough()
		return ok && applied >= info.State.LastSeq
	})
}

// A view is served again while the request has no new event, and a read
// right after a write sees the write, whether or not the index has
// applied it yet (read-your-writes).
func TestGet_ServesAgainUntilTheRequestChanges(t *testing.T) {
	js := testkit.Streams(t)
	store, c, cache := cachedStore(js, 0)
	ctx := context.Background()
	const id = "req-fresh"
	if _, err := store.Append(ctx, id, 0, ev("intake", "noted", "one")); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		want := fmt.Sprint(round)
		waitIndexed(t, js, store)
		if _, err := cache.Get(ctx, id, c.build(id)); err != nil { // kept
			t.Fatal(err)
		}
		before := c.builds.Load()
		if v, err := cache.Get(ctx, id, c.build(id)); err != nil || c.builds.Load() != before {
			t.Fatalf("round %d: unchanged request built again (%v)", round, err)
		} else if v.lastSeq == 0 {
			t.Fatalf("round %d: empty view served", round)
		}
		// Written, then read at once: the index may not have it yet.
		out, err := store.Update(ctx, id, func(eventstore.History) ([]eventstore.Event, error) {
			return []eventstore.Event{ev("assessment", "noted", want)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		v, err := cache.Get(ctx, id, c.build(id))
		if err != nil {
			t.Fatal(err)
		}
		if v.lastSeq != out[0].Sequence || v.texts[len(v.texts)-1] != want {
			t.Fatalf("round %d: read after the write got %v at %d, want %q at %d", round, v.texts, v.lastSeq, want, out[0].Sequence)
		}
	}
}

// On a 3-node cluster, a view kept by one replica of a service is not
// served after another replica wrote to the request through another
// server (issue 20): the freshness check asks the stream leader.
func TestGet_ReadYourWritesAcrossClusterNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	nodes := natstest.StartCluster(t, 3, natstest.Options{SyncAlways: true})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := eventstore.EnsureStreams(ctx, nodes[0].JS, eventstore.StreamOptions{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	writer := eventstore.NewStore(nodes[0].JS, eventstore.WithIndex(0))
	readers := []*eventstore.Store{eventstore.NewStore(nodes[1].JS, eventstore.WithIndex(0)), eventstore.NewStore(nodes[2].JS, eventstore.WithIndex(0))}
	caches := []*viewcache.Cache[view]{viewcache.For[view](readers[0], 0), viewcache.For[view](readers[1], 0)}
	const rounds = 100
	stale := 0
	for i := range rounds {
		r, cache := &counter{store: readers[i%2]}, caches[i%2]
		id := fmt.Sprintf("ryw-%d", i)
		if _, err := writer.Append(ctx, id, 0, ev("intake", "noted", "first")); err != nil {
			t.Fatal(err)
		}
		// Kept by the reader (possibly only after its index caught up).
		testkit.EventuallyNoError(t, func() error {
			if _, err := cache.Get(ctx, id, r.build(id)); err != nil {
				return err
			}
			before := r.builds.Load()
			if _, err := cache.Get(ctx, id, r.build(id)); err != nil {
				return err
			}
			if r.builds.Load() != before {
				return fmt.Errorf("not served from the cache yet")
			}
			return nil
		})
		out, err := writer.Update(ctx, id, func(eventstore.History) ([]eventstore.Event, error) {
			return []eventstore.Event{ev("assessment", "noted", "second")}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		v, err := cache.Get(ctx, id, r.build(id))
		if err != nil {
			t.Fatal(err)
		}
		if v.lastSeq != out[0].Sequence {
			stale++
		}
	}
	if stale > 0 {
		t.Errorf("%d of %d reads through another server right after a write served the view from before it", stale, rounds)
	}
}

// A forged event on the request's subjects changes its last sequence: the
// kept view is folded again, and the fold leaves the forged event out.
func TestGet_ForgedEventRebuildsAndIsLeftOut(t *testing.T) {
	js := testkit.Streams(t)
	store, c, cache := cachedStore(js, 0)
	ctx := context.Background()
	const id = "req-forged"
	if _, err := store.Append(ctx, id, 0, ev("intake", "noted", "genuine")); err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, js, store)
	if _, err := cache.Get(ctx, id, c.build(id)); err != nil {
		t.Fatal(err)
	}
	forged := testkit.PublishForged(t, js, eventstore.Subject(id, "reporting", "sealed"), &intakev1.RequestReceived{RequestId: id, GroupMember: "mallory"})
	v, err := cache.Get(ctx, id, c.build(id))
	if err != nil {
		t.Fatal(err)
	}
	if v.lastSeq != forged || len(v.texts) != 1 || v.texts[0] != "genuine" {
		t.Errorf("view after a forged event = %v at %d; want only the genuine event, at %d", v.texts, v.lastSeq, forged)
	}
}

// At most the configured number of views are kept.
func TestGet_KeepsAtMostItsLimit(t *testing.T) {
	store, c, cache := cachedStore(testkit.Streams(t), 3)
	ctx := context.Background()
	for i := range 10 {
		id := fmt.Sprintf("req-%d", i)
		if _, err := store.Append(ctx, id, 0, ev("intake", "noted", id)); err != nil {
			t.Fatal(err)
		}
		if _, err := cache.Get(ctx, id, c.build(id)); err != nil {
			t.Fatal(err)
		}
		if n := cache.Len(); n > 3 {
			t.Fatalf("after %d requests the cache keeps %d views", i+1, n)
		}
	}
	if n := cache.Len(); n != 3 {
		t.Errorf("cache keeps %d views, want 3", n)
	}
}

// A store that is not a Source (a test's fake) gets no cache: every read
// builds.
func TestFor_NoSourceBuildsEveryTime(t *testing.T) {
	cache := viewcache.For[int](struct{}{}, 0)
	if cache != nil {
		t.Fatal("a cache over a store without a freshness check")
	}
	n := 0
	for range 3 {
		if _, err := cache.Get(context.Background(), "r", func(context.Context) (int, uint64, error) { n++; return n, 1, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n != 3 {
		t.Errorf("%d builds, want 3", n)
	}
}

// Crypto-shredding: after another service (intake) destroys the request's
// data key, the view kept with the opened personal data is dropped, and
// the next read opens nothing. Views kept of other requests stay.
func TestGet_ErasureDropsTheViewWithPersonalData(t *testing.T) {
	js := testkit.Streams(t)
	ctx := context.Background()
	k := testkit.NewKeys(t, js, 1)
	// The reading service and the erasing one each have their keyring.
	store, c, cache := cachedStore(js, 0, eventstore.WithSealer(seal.New(k.Keyring(t))))
	eraser := k.Keyring(t)
	const target = "subject@example.org"
	for _, id := range []string{"req-erased", "req-kept"} {
		if _, err := store.Append(ctx, id, 0, received(id, target)); err != nil {
			t.Fatal(err)
		}
	}
	waitIndexed(t, js, store)
	// Kept once the erasure watch runs.
	for _, id := range []string{"req-erased", "req-kept"} {
		testkit.Eventually(t, "the view to be kept", func() bool {
			v, err := cache.Get(ctx, id, c.build(id))
			if err != nil || v.texts[0] != target {
				t.Fatalf("view %v, %v", v.texts, err)
			}
			before := c.builds.Load()
			_, _ = cache.Get(ctx, id, c.build(id))
			return c.builds.Load() == before
		})
	}
	if err := eraser.Erase(ctx, "req-erased"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the erased request's view to be dropped", func() bool { return cache.Len() == 1 })
	v, err := cache.Get(ctx, "req-erased", c.build("req-erased"))
	if err != nil {
		t.Fatal(err)
	}
	if v.texts[0] != "" {
		t.Errorf("after erasure the view still has the target %q", v.texts[0])
	}
	before := c.builds.Load()
	if v, err := cache.Get(ctx, "req-kept", c.build("req-kept")); err != nil || v.texts[0] != target || c.builds.Load() != before {
		t.Errorf("the other request's view: %v, %v, built again: %v", v.texts, err, c.builds.Load() != before)
	}
}
