package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

// Two replicas of a service write and read through different servers of a
// 3-node cluster, the stream at 3 replicas. A direct get may be answered
// by a server that has not applied an acknowledged write yet; a Load must
// still see every write acknowledged before it began, with the index and
// without, for a new request (else NOT_FOUND) and for a request's next
// event (else a stale state). fsync is on, as in production: it widens
// the window in which a follower lags.
func TestLoad_ReadYourWritesAcrossClusterNodes(t *testing.T) {
	nodes := natstest.StartCluster(t, 3, natstest.Options{SyncAlways: true})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := eventstore.EnsureStreams(ctx, nodes[0].JS, eventstore.StreamOptions{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	const rounds = 100
	for _, indexed := range []bool{false, true} {
		var opts []eventstore.Option
		if indexed {
			opts = append(opts, eventstore.WithIndex(0))
		}
		stores := make([]*eventstore.Store, len(nodes))
		for i, n := range nodes {
			stores[i] = eventstore.NewStore(n.JS, opts...)
		}
		missed, stale := 0, 0
		for i := range rounds {
			w, r := stores[i%3], stores[(i+1)%3]
			id := fmt.Sprintf("ryw-%v-%d", indexed, i)
			first, err := w.Append(ctx, id, 0, ev("intake", "RequestReceived", "received"))
			if err != nil {
				t.Fatal(err)
			}
			h, err := r.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Events) != 1 || h.LastSeq != first {
				missed++
			}
			// Update, not Append: on a cluster the leader may refuse an
			// append right after another on the same request as a
			// conflict while the first is still being applied (10164),
			// and Update retries, as every command does.
			out, err := w.Update(ctx, id, func(eventstore.History) ([]eventstore.Event, error) {
				return []eventstore.Event{ev("assessment", "CaseClaimed", "claimed")}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			second := out[0].Sequence
			h, err = r.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Events) != 2 || h.LastSeq != second {
				stale++
			}
			if _, err := r.GetBySequence(ctx, second); errors.Is(err, eventstore.ErrNotFound) {
				stale++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if missed+stale > 0 {
			t.Errorf("index %v: of %d new requests %d not found through another server right after the write; %d reads missed a request's latest event", indexed, rounds, missed, stale)
		}
	}
}
