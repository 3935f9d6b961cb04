package eventstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/wrapperspb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/seal"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// decaySizes are the stream lengths BenchmarkDecay compares; set
// DDR_BENCH_STREAM_SIZES=10000,1000000 for a longer run.
func decaySizes(b *testing.B) []int {
	sizes := []int{10_000, 200_000}
	if v := os.Getenv("DDR_BENCH_STREAM_SIZES"); v != "" {
		sizes = sizes[:0]
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	return sizes
}

// seedSpread fills the stream with n unrelated events published raw (one
// request each, about the size of a real event) and appends the target
// request's events evenly among them: a request that lived while others
// were submitted, as every request of a long record does. Beside each
// target event it appends one of sealedTarget through sealing (a payload
// with a SUBJECT field, sealed with the request's data key), and for every
// tenth unrelated event it stores a data key in the bucket, as the real
// record has one per request of about ten events. It returns the number
// of target events written (the same for both targets).
func seedSpread(b *testing.B, js jetstream.JetStream, store, sealing *eventstore.Store, target, sealedTarget string, n, events int) int {
	b.Helper()
	ctx := context.Background()
	body := make([]byte, 300)
	wrappedKey := make([]byte, 61) // the size of a wrapped data key
	_, _ = rand.Read(wrappedKey)
	received := eventstore.Kind[*intakev1.RequestReceived]()
	every := n / events
	var head, sealedHead uint64
	written := 0
	for i := range n {
		if i%every == 0 && written < events {
			seq, err := store.Append(ctx, target, head, eventstore.Event{Service: "intake", Name: fmt.Sprintf("e%d", written), Payload: wrapperspb.String("0123456789abcdef0123456789abcdef")})
			if err != nil {
				b.Fatal(err)
			}
			head = seq
			seq, err = sealing.Append(ctx, sealedTarget, sealedHead, eventstore.Event{Service: received.Service, Name: received.Name, Payload: &intakev1.RequestReceived{
				RequestId: sealedTarget, GroupMember: "member-a",
				Request: &intakev1.DataDisclosureRequest{ScopeDescription: "the accounts of a named person", Targets: []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "subject@example.org"}}},
			}})
			if err != nil {
				b.Fatal(err)
			}
			sealedHead = seq
			written++
		}
		if i%10 == 0 {
			if _, err := js.PublishAsync("$KV."+keys.Bucket+fmt.Sprintf(".u%d", i), wrappedKey); err != nil {
				b.Fatal(err)
			}
		}
		m := nats.NewMsg(eventstore.Subject(fmt.Sprintf("u%d", i), "intake", "noted"))
		m.Data = body
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
		if i%2048 == 2047 {
			<-js.PublishAsyncComplete()
		}
	}
	<-js.PublishAsyncComplete()
	return written
}

// BenchmarkDecay measures the read paths of one request with 10 events
// spread over streams of different lengths: Store.Load (every command and
// assessment's GetCase, notification's GetPlan) and the raw read of the
// request's messages (reporting's GetRecord), each by searching the stream
// (no index, as before issue 19) and with the store's sequence index
// (-nocache: without the store's cache of messages read), and the same
// load of a sealed request with the keyring's data-key cache and without
// both caches. A cost that grows with the stream shows up as a larger
// ns/op for the longer stream. The loads repeat on one request, so with
// the caches every load after the first finds its events and keys cached:
// what a request read again and again costs (a case under review), not
// the first read of a cold request, which the -nocache rows show.
func BenchmarkDecay(b *testing.B) {
	for _, n := range decaySizes(b) {
		b.Run(fmt.Sprintf("stream=%d", n), func(b *testing.B) {
			plain, js := benchStore(b, false)
			indexed := eventstore.NewStore(js, eventstore.WithIndex(0))
			ctx := context.Background()
			k := testkit.NewKeys(b, js, 1)
			kr := k.Keyring(b) // its cache watches the bucket
			uncached, err := keys.New(k.KV, k.KEK)
			if err != nil {
				b.Fatal(err)
			}
			uncached = uncached.WithCacheSize(0) // the keyring before its cache
			// What intake's Get does: an indexed load whose events are
			// opened with the keyring.
			sealing := eventstore.NewStore(js, eventstore.WithIndex(0), eventstore.WithSealer(seal.New(kr)))
			// The store and keyring as before their caches.
			sealingUncached := eventstore.NewStore(js, eventstore.WithIndex(0), eventstore.WithMessageCache(0), eventstore.WithSealer(seal.New(uncached)))
			indexedUncached := eventstore.NewStore(js, eventstore.WithIndex(0), eventstore.WithMessageCache(0))
			const target, sealedTarget = "target-1", "target-sealed"
			want := seedSpread(b, js, plain, sealing, target, sealedTarget, n, 10)
			loads := func(h eventstore.History, err error) error {
				if err == nil && len(h.Events) != want {
					err = fmt.Errorf("loaded %d events, want %d", len(h.Events), want)
				}
				return err
			}
			for _, st := range []*eventstore.Store{indexed, indexedUncached} { // starts the indexes
				if _, err := st.Load(ctx, target); err != nil {
					b.Fatal(err)
				}
			}
			for _, st := range []*eventstore.Store{sealing, sealingUncached} { // and these
				if _, err := st.Load(ctx, sealedTarget); err != nil {
					b.Fatal(err)
				}
			}
			st, err := js.Stream(ctx, eventstore.StreamName)
			if err != nil {
				b.Fatal(err)
			}
			head := st.CachedInfo().State.LastSeq
			catchUp := time.Now()
			for applied, _ := indexed.IndexedThrough(); applied < head; applied, _ = indexed.IndexedThrough() {
				time.Sleep(10 * time.Millisecond)
			}
			requests, bytes := indexed.IndexSize()
			b.Logf("index: caught up with %d events in %.1f s; %d requests, about %.1f MiB", head, time.Since(catchUp).Seconds(), requests, float64(bytes)/(1<<20))
			for _, st := range []*eventstore.Store{sealing, sealingUncached, indexedUncached} {
				for applied, _ := st.IndexedThrough(); applied < head; applied, _ = st.IndexedThrough() {
					time.Sleep(10 * time.Millisecond)
				}
			}
			// And the keyring's watch with the bucket: until it has, it
			// delivers the seeding's keys into the cache (evicting the
			// target's) while the loads are measured, which is start-up,
			// not the steady state this benchmark compares.
			kvs, err := js.Stream(ctx, "KV_"+keys.Bucket)
			if err != nil {
				b.Fatal(err)
			}
			kvHead := kvs.CachedInfo().State.LastSeq
			for kr.CacheStats().Applied < kvHead {
				time.Sleep(10 * time.Millisecond)
			}
			settled(b)
			// One sealed value opened, as intake's Reveal does for each
			// target of each request of a List page.
			sealed, err := kr.Seal(ctx, sealedTarget, keys.TargetLabel("t1"), []byte("subject@example.org"))
			if err != nil {
				b.Fatal(err)
			}
			for _, k := range []struct {
				name  string
				store *eventstore.Store
				keys  *keys.Keyring
			}{{"nocache", sealingUncached, uncached}, {"cache", sealing, kr}} {
				b.Run("Load/indexed+sealed+"+k.name, func(b *testing.B) {
					measure(b, func() error { return loads(k.store.Load(ctx, sealedTarget)) })
				})
				b.Run("Open/"+k.name, func(b *testing.B) {
					measure(b, func() error {
						_, err := k.keys.Open(ctx, sealedTarget, keys.TargetLabel("t1"), sealed)
						return err
					})
				})
			}
			for _, s := range []struct {
				name  string
				store *eventstore.Store
			}{{"search", plain}, {"indexed-nocache", indexedUncached}, {"indexed", indexed}} {
				b.Run("Load/"+s.name, func(b *testing.B) {
					measure(b, func() error { return loads(s.store.Load(ctx, target)) })
				})
				if s.name != "search" {
					// The freshness check of a kept view (platform/viewcache):
					// what every staff read of a request read before costs.
					b.Run("Unchanged/"+s.name, func(b *testing.B) {
						h, err := s.store.Load(ctx, target)
						if err != nil {
							b.Fatal(err)
						}
						measure(b, func() error {
							ok, err := s.store.Unchanged(ctx, target, h.LastSeq)
							if err == nil && !ok {
								err = fmt.Errorf("unchanged request %s reported changed", target)
							}
							return err
						})
					})
				}
				b.Run("ScanRequest/"+s.name, func(b *testing.B) {
					measure(b, func() error {
						got := 0
						err := s.store.ScanRequest(ctx, target, func(eventstore.RawMsg) error {
							got++
							return nil
						})
						if err == nil && got != want {
							err = fmt.Errorf("scanned %d events, want %d", got, want)
						}
						return err
					})
				})
			}
		})
	}
}

// settled collects the garbage of the seeding, so that the loads measured
// do not pay for it, and logs the heap the loads run beside (the embedded
// server's state of the stream, the indexes) and what a full collection
// of it costs.
func settled(b *testing.B) {
	b.Helper()
	start := time.Now()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.Logf("heap: %.0f MiB in use, %d objects; a full GC took %.0f ms", float64(ms.HeapAlloc)/(1<<20), ms.HeapObjects, float64(time.Since(start).Microseconds())/1000)
}

// measureBatch ops run between pauses of measurePause.
const (
	measureBatch = 50
	measurePause = 250 * time.Millisecond
)

// measure runs op b.N times and reports, beside ns/op, the median time of
// one op (p50-ns) and the garbage collections per op that ran meanwhile
// (gc/op), and the 90th and 99th percentiles. With
// DDR_BENCH_PROFILE_DIR set it writes a CPU profile of each measurement
// there. On a shared machine the mean (ns/op) takes in every time the
// process was off the CPU, which varies from run to run with the other
// sessions' load; the median of single ops mostly does not, so the ratio
// between stream sizes is read from it (and it is what the decay goal
// compares, p50 against p50).
func measure(b *testing.B, op func() error) {
	b.Helper()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gcs := ms.NumGC
	if dir := os.Getenv("DDR_BENCH_PROFILE_DIR"); dir != "" {
		// A CPU profile of this measurement alone, without the seeding.
		f, err := os.Create(filepath.Join(dir, strings.NewReplacer("/", "_", "=", "").Replace(b.Name())+".cpu"))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	times := make([]time.Duration, 0, b.N)
	for b.Loop() {
		if len(times)%measureBatch == measureBatch-1 {
			// Spread over some seconds, the ops meet the machine's
			// average load rather than one moment's.
			b.StopTimer()
			time.Sleep(measurePause)
			b.StartTimer()
		}
		start := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	runtime.ReadMemStats(&ms)
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(times[len(times)*9/10].Nanoseconds()), "p90-ns")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(ms.NumGC-gcs)/float64(b.N), "gc/op")
}
