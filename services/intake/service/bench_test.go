package service_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/adapters"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// BenchmarkSubmitVsRawPublish measures durable intake submissions over gRPC
// against the floor under them, measured in the same run on the same
// server: a raw JetStream publish of a message of the same size, at the same
// durability (fsync on every write) and concurrency. Submit does more than
// one publish (a KV create of the request's data key, a KV create for the
// idempotency key, then the event with its concurrency check), so the ratio
// says what intake costs on top of the record's own write.
//
// It also measures those three writes raw, one after the other as Submit
// makes them (seq3), and with the two KV creates side by side before the
// event (par2): how much of Submit is the durable writes themselves, and
// what writing the keys side by side would give.
//
//	go test -run '^$' -bench SubmitVsRawPublish -benchtime 2000x ./service/
func BenchmarkSubmitVsRawPublish(b *testing.B) {
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("c=%d", conc), func(b *testing.B) {
			p := runnertest.Start(b, runnertest.Options{}, build)
			c := intakev1.NewIntakeServiceClient(p.Dial(b, memberA))
			// The raw baseline publishes as intake does: its NATS identity,
			// on its own subjects, over the same kind of connection.
			js, err := jetstream.New(p.NATS(b, "spiffe://ddr.local/service/intake"))
			if err != nil {
				b.Fatal(err)
			}
			req := oral(time.Now().Add(-time.Hour), "subject@example.org")
			payload, _ := proto.Marshal(&intakev1.RequestReceived{RequestId: uuid.NewString(), GroupMember: memberA, Request: req, SubmitTime: timestamppb.Now()})
			ctx := context.Background()

			var seq atomic.Int64
			b.ResetTimer()
			submit := measure(b, conc, b.N, func() error {
				_, err := c.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: fmt.Sprintf("bench-%d", seq.Add(1)), Request: req})
				return err
			})
			writeEvent := func(id string) error {
				_, err := js.Publish(ctx, eventstore.Subject(id, "intake", "bench_raw"), payload,
					jetstream.WithMsgID(id), jetstream.WithExpectLastSequenceForSubject(0, eventstore.RequestFilter(id)))
				return err
			}
			raw := measure(b, conc, b.N, func() error { return writeEvent(uuid.NewString()) })
			dataKeys, err := js.KeyValue(ctx, keys.Bucket)
			if err != nil {
				b.Fatal(err)
			}
			idem, err := js.KeyValue(ctx, adapters.IdempotencyBucket)
			if err != nil {
				b.Fatal(err)
			}
			wrapped := make([]byte, 100) // a wrapped data key's size
			writeKey := func(id string) error { _, err := dataKeys.Create(ctx, id, wrapped); return err }
			writeIdem := func(id string) error { _, err := idem.Create(ctx, "bench."+id, wrapped); return err }
			seq3 := measure(b, conc, b.N, func() error {
				id := uuid.NewString()
				return errors.Join(writeKey(id), writeIdem(id), writeEvent(id))
			})
			par2 := measure(b, conc, b.N, func() error {
				id := uuid.NewString()
				var keyErr error
				var wg sync.WaitGroup
				wg.Go(func() { keyErr = writeKey(id) })
				idemErr := writeIdem(id)
				wg.Wait()
				if err := errors.Join(keyErr, idemErr); err != nil {
					return err
				}
				return writeEvent(id)
			})
			b.StopTimer()
			b.ReportMetric(seq3.rps, "seq3_req/s")
			b.ReportMetric(par2.rps, "par2_req/s")
			b.ReportMetric(submit.rps/seq3.rps, "submit/seq3")
			b.ReportMetric(submit.rps, "submit_req/s")
			b.ReportMetric(submit.p50.Seconds()*1e3, "submit_p50_ms")
			b.ReportMetric(submit.p99.Seconds()*1e3, "submit_p99_ms")
			b.ReportMetric(raw.rps, "raw_pub/s")
			b.ReportMetric(raw.p99.Seconds()*1e3, "raw_p99_ms")
			b.ReportMetric(submit.rps/raw.rps, "ratio_rps")
			b.ReportMetric(0, "ns/op") // the per-op time mixes both loops; the metrics above are the result
		})
	}
}

type result struct {
	rps      float64
	p50, p99 time.Duration
}

// measure runs n calls of f from conc goroutines and returns throughput and
// latency percentiles.
func measure(b *testing.B, conc, n int, f func() error) result {
	var (
		next atomic.Int64
		mu   sync.Mutex
		lats = make([]time.Duration, 0, n)
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			local := make([]time.Duration, 0, n/conc+1)
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				if err := f(); err != nil {
					b.Error(err)
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lats)
	if len(lats) == 0 {
		return result{}
	}
	pct := func(p float64) time.Duration { return lats[min(len(lats)-1, int(float64(len(lats))*p))] }
	return result{rps: float64(len(lats)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99)}
}
