package viewcache_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/seal"
	"github.com/ddrsuite/ddr/services/platform/testkit"
	"github.com/ddrsuite/ddr/services/platform/viewcache"
)

// BenchmarkGet compares a staff read of one request of ten events, its
// personal data sealed, as it was (load: index, message cache, tail
// search, decode, open, fold) with a read of the view kept by the cache
// (the freshness check only). An embedded JetStream server on disk.
//
//	go test -run '^$' -bench BenchmarkGet -benchmem ./viewcache/
func BenchmarkGet(b *testing.B) {
	js := testkit.Streams(b)
	ctx := context.Background()
	kr := testkit.Keyring(b, js)
	store := eventstore.NewStore(js, eventstore.WithIndex(0), eventstore.WithSealer(seal.New(kr)))
	const id = "req-bench"
	last, err := store.Append(ctx, id, 0, received(id, "subject@example.org"))
	if err != nil {
		b.Fatal(err)
	}
	for i := range 9 {
		if last, err = store.Append(ctx, id, last, ev("assessment", "noted", fmt.Sprint("step ", i))); err != nil {
			b.Fatal(err)
		}
	}
	testkit.Eventually(b, "the index to catch up", func() bool {
		applied, ok := store.IndexedThrough()
		return ok && applied >= last
	})
	c := &counter{store: store}
	build := c.build(id)
	b.Run("load+fold", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := build(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		cache := viewcache.For[view](store, 0)
		testkit.Eventually(b, "the view to be kept", func() bool {
			_, _ = cache.Get(ctx, id, build)
			return cache.Len() == 1
		})
		before := c.builds.Load()
		for b.Loop() {
			if _, err := cache.Get(ctx, id, build); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(c.builds.Load()-before)/float64(b.N), "builds/op")
	})
}
