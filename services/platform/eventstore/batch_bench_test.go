package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

// BenchmarkAppend3 appends three events to a new request, as assessment
// does when it opens a case, with fsync on every write as deployed: one
// by one (three round trips) against one atomic batch, on a single
// server's file stream (R1) and on a 3-node cluster's stream of three
// replicas (R3, the client on the first node). It reports appends/s;
// clients is the number of concurrent appenders. On R1 the batch loses
// (the server stages it in a file store of its own), so the store only
// batches on a replicated stream (batch.go).
//
//	go test ./eventstore/ -run '^$' -bench Append3 -count 3
func BenchmarkAppend3(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		for _, mode := range []string{"one-by-one", "batch"} {
			for _, clients := range []int{1, 16} {
				b.Run(fmt.Sprintf("R%d/%s/clients=%d", replicas, mode, clients), func(b *testing.B) {
					benchAppend3(b, replicas, mode == "batch", clients)
				})
			}
		}
	}
}

func benchAppend3(b *testing.B, replicas int, batch bool, clients int) {
	// Forced either way: on one file replica the store itself would
	// not batch (batch.go), and this measures why.
	opts := []eventstore.Option{eventstore.WithOneByOne()}
	if batch {
		opts = []eventstore.Option{eventstore.WithAtomicBatches()}
	}
	js := syncedJS(b, replicas)
	store := eventstore.NewStore(js, opts...)
	ctx := context.Background()
	payload := wrapperspb.String("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	// Exactly clients appenders share b.N appends
	// (RunParallel would start a multiple of GOMAXPROCS).
	var next, conflicts atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				id := fmt.Sprintf("case-%d", i)
				evs := make([]eventstore.Event, 3)
				for j, name := range []string{"CaseOpened", "DeadlinesSet", "RequesterChecked"} {
					evs[j] = eventstore.Event{ID: fmt.Sprintf("%s-%d", id, j), Service: "assessment", Name: name, Payload: payload}
				}
				_, err := store.Append(ctx, id, 0, evs...)
				if errors.Is(err, eventstore.ErrConflict) {
					// One by one on a cluster: the leader refuses an
					// event while the previous one of the same request
					// is being applied (10164). Finish as a command
					// would, reloading and writing what is missing.
					conflicts.Add(1)
					_, err = store.Update(ctx, id, func(h eventstore.History) ([]eventstore.Event, error) {
						return evs[len(h.Events):], nil
					})
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
}

// syncedJS is a client of a server, or of one node of a 3-node cluster,
// with fsync on every write and the DDR streams at replicas.
func syncedJS(b *testing.B, replicas int) jetstream.JetStream {
	if replicas == 1 {
		_, js := benchStore(b, true)
		return js
	}
	nodes := natstest.StartCluster(b, replicas, natstest.Options{SyncAlways: true})
	if err := eventstore.EnsureStreams(context.Background(), nodes[0].JS, eventstore.StreamOptions{Replicas: replicas}); err != nil {
		b.Fatal(err)
	}
	return nodes[0].JS
}
