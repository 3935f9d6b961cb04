package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// The stream setups on which an append of several events is one atomic
// batch: a replicated stream (3-node cluster, fsync on, the client on a
// node that may not lead the stream), and a single server's memory
// stream, which takes the single-server path of the server.
var atomicSetups = []struct {
	name  string
	start func(t *testing.T) jetstream.JetStream
}{
	{"R3", func(t *testing.T) jetstream.JetStream {
		nodes := natstest.StartCluster(t, 3, natstest.Options{SyncAlways: true})
		ctx, cancel := context.WithTimeout(context.Background(), natstest.ClusterPatience)
		defer cancel()
		if err := eventstore.EnsureStreams(ctx, nodes[0].JS, eventstore.StreamOptions{Replicas: 3}); err != nil {
			t.Fatal(err)
		}
		// A client of a node that does not lead the stream: the
		// batch's messages and its commit cross a route in order.
		var leader string
		testkit.EventuallyNoError(t, func() error {
			st, err := nodes[0].JS.Stream(ctx, eventstore.StreamName)
			if err != nil {
				return err
			}
			if c := st.CachedInfo().Cluster; c != nil && c.Leader != "" {
				leader = c.Leader
				return nil
			}
			return errors.New("no stream leader yet")
		})
		for _, n := range nodes {
			if n.Server.Name() != leader {
				return n.JS
			}
		}
		t.Fatalf("every node leads the stream (%s)", leader)
		return nil
	}},
	{"R1-memory", func(t *testing.T) jetstream.JetStream {
		env := natstest.Start(t)
		if err := eventstore.EnsureStreams(context.Background(), env.JS, eventstore.StreamOptions{Storage: jetstream.MemoryStorage}); err != nil {
			t.Fatal(err)
		}
		return env.JS
	}},
}

// threeEvents are the events of one append, with ids fixed so that a
// retry re-emits the same events.
func threeEvents(requestID string) []eventstore.Event {
	var evs []eventstore.Event
	for i, name := range []string{"CaseOpened", "DeadlinesSet", "RequesterChecked"} {
		e := ev("assessment", name, fmt.Sprint(i))
		e.ID = fmt.Sprintf("%s-evt-%d", requestID, i)
		evs = append(evs, e)
	}
	return evs
}

func rawMsg(t *testing.T, js jetstream.JetStream, seq uint64) *jetstream.RawStreamMsg {
	t.Helper()
	st, err := js.Stream(context.Background(), eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(context.Background(), seq)
	if err != nil {
		t.Fatalf("get %d: %v", seq, err)
	}
	return m
}

func TestAppend_SeveralEventsAreOneAtomicBatch(t *testing.T) {
	for _, setup := range atomicSetups {
		t.Run(setup.name, func(t *testing.T) {
			js := setup.start(t)
			store := eventstore.NewStore(js)
			ctx := context.Background()

			t.Run("written together, each with its sequence", func(t *testing.T) {
				head, err := store.Append(ctx, "atomic-1", 0, ev("intake", "received", "r"))
				if err != nil {
					t.Fatal(err)
				}
				out, err := store.Update(ctx, "atomic-1", func(eventstore.History) ([]eventstore.Event, error) {
					return threeEvents("atomic-1"), nil
				})
				if err != nil {
					t.Fatal(err)
				}
				h, err := store.Load(ctx, "atomic-1")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"r", "0", "1", "2"}, texts(h)); diff != "" {
					t.Fatalf("history (-want +got):\n%s", diff)
				}
				var batch string
				for i, e := range out {
					if e.Sequence != h.Events[i+1].Sequence {
						t.Errorf("event %d returned at %d, stored at %d", i, e.Sequence, h.Events[i+1].Sequence)
					}
					if e.Sequence <= head {
						t.Errorf("event %d at %d, not after the head %d", i, e.Sequence, head)
					}
					m := rawMsg(t, js, e.Sequence)
					if i == 0 {
						batch = m.Header.Get("Nats-Batch-Id")
					}
					if got := m.Header.Get("Nats-Batch-Id"); got == "" || got != batch {
						t.Errorf("event %d: batch id %q, want the batch's %q", i, got, batch)
					}
					if got, want := m.Header.Get("Nats-Batch-Sequence"), fmt.Sprint(i+1); got != want {
						t.Errorf("event %d: batch sequence %q, want %q", i, got, want)
					}
				}
				if rawMsg(t, js, out[2].Sequence).Header.Get("Nats-Batch-Commit") != "1" {
					t.Error("last event does not carry the commit")
				}
				// Every stored message still decodes: readers ignore the
				// batch headers the server keeps.
				for _, e := range out {
					m := rawMsg(t, js, e.Sequence)
					if _, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, m.Sequence); err != nil {
						t.Errorf("stored batch message %d: %v", m.Sequence, err)
					}
				}
			})

			t.Run("a stale expected sequence is a conflict and writes none", func(t *testing.T) {
				s1, err := store.Append(ctx, "atomic-2", 0, ev("intake", "received", "r"))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := store.Append(ctx, "atomic-2", 0, threeEvents("atomic-2")...); !errors.Is(err, eventstore.ErrConflict) {
					t.Fatalf("append of three at a stale sequence = %v, want ErrConflict", err)
				}
				var apiErr *jetstream.APIError
				_, err = store.Append(ctx, "atomic-2", s1-1, threeEvents("atomic-2")...)
				if !errors.Is(err, eventstore.ErrConflict) || !errors.As(err, &apiErr) {
					t.Fatalf("append of three at an older sequence = %v, want ErrConflict with the JetStream error", err)
				}
				h, err := store.Load(ctx, "atomic-2")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"r"}, texts(h)); diff != "" {
					t.Errorf("history after refused batches (-want +got):\n%s", diff)
				}
			})

			t.Run("a retried append comes back as duplicates, not a copy", func(t *testing.T) {
				evs := threeEvents("atomic-3")
				last, err := store.Append(ctx, "atomic-3", 0, evs...)
				if err != nil {
					t.Fatal(err)
				}
				h, err := store.Load(ctx, "atomic-3")
				if err != nil {
					t.Fatal(err)
				}
				// The retry a command makes: reload, decide the same
				// events again, append at the head.
				again, err := store.Append(ctx, "atomic-3", h.LastSeq, threeEvents("atomic-3")...)
				if err != nil {
					t.Fatalf("retried append = %v, want success", err)
				}
				if again != last {
					t.Errorf("lastSeq after the retried append = %d, want the head %d", again, last)
				}
				h, err = store.Load(ctx, "atomic-3")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"0", "1", "2"}, texts(h)); diff != "" {
					t.Errorf("history after a retried append (-want +got):\n%s", diff)
				}
				if _, err := store.Append(ctx, "atomic-3", again, ev("assessment", "CaseClaimed", "next")); err != nil {
					t.Errorf("append after the retried append: %v", err)
				}
			})

			t.Run("an append half written one by one is completed", func(t *testing.T) {
				// An older binary wrote the first event and stopped.
				evs := threeEvents("atomic-4")
				if _, err := store.Append(ctx, "atomic-4", 0, evs[0]); err != nil {
					t.Fatal(err)
				}
				// Update, not Append: on the cluster the events of the
				// one-by-one completion may meet the known conflict of
				// an event still being applied, which Update retries.
				if _, err := store.Update(ctx, "atomic-4", func(eventstore.History) ([]eventstore.Event, error) {
					return threeEvents("atomic-4"), nil
				}); err != nil {
					t.Fatal(err)
				}
				h, err := store.Load(ctx, "atomic-4")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"0", "1", "2"}, texts(h)); diff != "" {
					t.Errorf("history (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// On a single server's file stream, the deployment of the all-in-one, an
// append of several events goes one by one: there the server stages a
// batch on disk, which costs more than it saves (BenchmarkAppend3).
func TestAppend_OneByOneOnASingleFileReplica(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	last, err := store.Append(context.Background(), "r1", 0, threeEvents("r1")...)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= last; seq++ {
		if id := rawMsg(t, js, seq).Header.Get("Nats-Batch-Id"); id != "" {
			t.Errorf("message %d is part of batch %q", seq, id)
		}
	}
}

// A stream created before atomic batches (or on a server that does not
// know them) takes appends one by one; EnsureStreams at the next start
// turns them on for the stream as it stands, with its events.
func TestAppend_BatchesOnceEnsureStreamsAllowsThem(t *testing.T) {
	env := natstest.Start(t)
	ctx := context.Background()
	opts := eventstore.StreamOptions{Storage: jetstream.MemoryStorage}
	old, _ := eventstore.StreamConfigs(opts)
	old.AllowAtomicPublish = false
	if _, err := env.JS.CreateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	last, err := eventstore.NewStore(env.JS).Append(ctx, "r1", 0, threeEvents("r1")...)
	if err != nil {
		t.Fatal(err)
	}
	if id := rawMsg(t, env.JS, last).Header.Get("Nats-Batch-Id"); id != "" {
		t.Fatalf("append to a stream without atomic publish sent batch %q", id)
	}

	if err := eventstore.EnsureStreams(ctx, env.JS, opts); err != nil {
		t.Fatalf("EnsureStreams on the existing stream: %v", err)
	}
	st, err := env.JS.Stream(ctx, eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if !st.CachedInfo().Config.AllowAtomicPublish || st.CachedInfo().State.Msgs != 3 {
		t.Fatalf("after EnsureStreams: allow atomic %v, %d messages", st.CachedInfo().Config.AllowAtomicPublish, st.CachedInfo().State.Msgs)
	}
	last, err = eventstore.NewStore(env.JS).Append(ctx, "r2", 0, threeEvents("r2")...)
	if err != nil {
		t.Fatal(err)
	}
	if id := rawMsg(t, env.JS, last).Header.Get("Nats-Batch-Id"); id == "" {
		t.Error("append after EnsureStreams is not a batch")
	}
}

// Each event of a batch has its own PRODUCER span, and its stored message
// carries that span's context, as one by one.
func TestAppend_BatchProducerSpanPerEvent(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })

	js := atomicSetups[1].start(t)
	ctx := context.Background()
	last, err := eventstore.NewStore(js).Append(ctx, "req-9", 0, threeEvents("req-9")...)
	if err != nil {
		t.Fatal(err)
	}
	spans := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		if s.SpanKind == trace.SpanKindProducer {
			spans[s.Name] = s
		}
	}
	for i, name := range []string{"CaseOpened", "DeadlinesSet", "RequesterChecked"} {
		span, ok := spans["ddr.req.*.assessment."+name+" publish"]
		if !ok {
			t.Fatalf("no producer span for %s (spans %v)", name, spans)
		}
		m := rawMsg(t, js, last-2+uint64(i))
		if m.Header.Get("Nats-Batch-Id") == "" {
			t.Fatalf("message %d is not part of a batch", m.Sequence)
		}
		parent := trace.SpanContextFromContext(eventstore.ContextFromHeaders(ctx, m.Header))
		if parent.SpanID() != span.SpanContext.SpanID() {
			t.Errorf("%s: stored traceparent %v is not its producer span %v", name, parent, span.SpanContext)
		}
		seq := int64(-1)
		for _, kv := range span.Attributes {
			if kv.Key == "ddr.sequence" {
				seq = kv.Value.AsInt64()
			}
		}
		if seq != int64(m.Sequence) {
			t.Errorf("%s: span sequence %d, stored at %d", name, seq, m.Sequence)
		}
	}
}
