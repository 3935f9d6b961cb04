package eventstore

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

// BenchmarkClusterLoad is what the leader check of consistent.go costs a
// Load on a 3-node cluster: a store on a follower loads a request of ten
// events written through the leader's node, with the check (as shipped)
// and without it (as before, when reads could miss writes).
func BenchmarkClusterLoad(b *testing.B) {
	nodes := natstest.StartCluster(b, 3)
	ctx := context.Background()
	if err := EnsureStreams(ctx, nodes[0].JS, StreamOptions{Replicas: 3}); err != nil {
		b.Fatal(err)
	}
	w := NewStore(nodes[0].JS)
	const requests = 50
	for i := range requests {
		id := fmt.Sprintf("bench-%d", i)
		var last uint64
		for j := range 10 {
			var err error
			last, err = w.Append(ctx, id, last, Event{Service: "intake", Name: "RequestAmended", Payload: wrapperspb.String(fmt.Sprintf("event %d", j))})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, check := range []bool{true, false} {
		b.Run(fmt.Sprintf("check=%v", check), func(b *testing.B) {
			r := NewStore(nodes[1].JS, WithIndex(0))
			if !check {
				// Taken for a single-replica stream: no check for a
				// minute, longer than the benchmark.
				r.replication.learn(1)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				h, err := r.Load(ctx, fmt.Sprintf("bench-%d", i%requests))
				if err != nil || len(h.Events) != 10 {
					b.Fatalf("load: %d events, %v", len(h.Events), err)
				}
			}
		})
	}
}
