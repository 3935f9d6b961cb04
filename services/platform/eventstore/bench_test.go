package eventstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

func benchStore(b *testing.B, syncAlways bool) (*eventstore.Store, jetstream.JetStream) {
	env := natstest.Start(b, natstest.Options{SyncAlways: syncAlways})
	if err := eventstore.EnsureStreams(context.Background(), env.JS, eventstore.StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	return eventstore.NewStore(env.JS), env.JS
}

// seed writes n events to each of requests requests, interleaved, so a
// load has to pick its request out of a busy stream.
func seed(b *testing.B, store *eventstore.Store, n, requests int) {
	ctx := context.Background()
	heads := map[string]uint64{}
	for i := range n {
		for r := range requests {
			id := fmt.Sprintf("req-%d", r)
			seq, err := store.Append(ctx, id, heads[id], eventstore.Event{Service: "intake", Name: fmt.Sprintf("e%d", i), Payload: wrapperspb.String("0123456789abcdef0123456789abcdef")})
			if err != nil {
				b.Fatal(err)
			}
			heads[id] = seq
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct{ n, requests int }{{0, 100}, {10, 100}, {100, 100}, {10, 10000}} {
		n := c.n
		b.Run(fmt.Sprintf("events=%d/stream=%d", n, n*c.requests), func(b *testing.B) {
			store, _ := benchStore(b, false)
			seed(b, store, n, c.requests)
			ctx := context.Background()
			for b.Loop() {
				h, err := store.Load(ctx, "req-42")
				if err != nil || len(h.Events) != n {
					b.Fatal(err, len(h.Events))
				}
			}
		})
	}
}

// BenchmarkLoadOrderedConsumer is the alternative Load design (ordered
// consumer per load), kept to justify the direct-get choice.
func BenchmarkLoadOrderedConsumer(b *testing.B) {
	for _, n := range []int{0, 10, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			store, js := benchStore(b, false)
			seed(b, store, n, 100)
			ctx := context.Background()
			for b.Loop() {
				st, err := js.Stream(ctx, eventstore.StreamName)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := st.GetLastMsgForSubject(ctx, "ddr.req.req-42.>"); err != nil {
					if n == 0 {
						continue
					}
					b.Fatal(err)
				}
				c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"ddr.req.req-42.>"}})
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for got < n {
					batch, err := c.Fetch(n - got)
					if err != nil {
						b.Fatal(err)
					}
					for m := range batch.Messages() {
						meta, _ := m.Metadata()
						if _, err := eventstore.FromMsg(m.Subject(), m.Headers(), m.Data(), meta.Sequence.Stream); err != nil {
							b.Fatal(err)
						}
						got++
					}
				}
				_ = js.DeleteConsumer(ctx, eventstore.StreamName, c.CachedInfo().Name)
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, syncAlways := range []bool{false, true} {
		b.Run(fmt.Sprintf("syncAlways=%v", syncAlways), func(b *testing.B) {
			store, _ := benchStore(b, syncAlways)
			ctx := context.Background()
			var seq uint64
			for b.Loop() {
				var err error
				seq, err = store.Append(ctx, "req-1", seq, eventstore.Event{Service: "intake", Name: "noted", Payload: wrapperspb.String("0123456789abcdef0123456789abcdef")})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendBusyStream appends to requests of a stream that already
// holds 100,000 events: the expected-sequence check looks up the last
// message of ddr.req.<id>.> on every append.
func BenchmarkAppendBusyStream(b *testing.B) {
	store, _ := benchStore(b, false)
	seed(b, store, 10, 10000)
	ctx := context.Background()
	b.Run("existing-request", func(b *testing.B) {
		h, err := store.Load(ctx, "req-42")
		if err != nil {
			b.Fatal(err)
		}
		seq := h.LastSeq
		for b.Loop() {
			seq, err = store.Append(ctx, "req-42", seq, eventstore.Event{Service: "intake", Name: "noted", Payload: wrapperspb.String("x")})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new-request", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, err := store.Append(ctx, fmt.Sprintf("new-%d", i), 0, eventstore.Event{Service: "intake", Name: "received", Payload: wrapperspb.String("x")}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
