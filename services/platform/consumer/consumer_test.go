package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

func TestMain(m *testing.M) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	os.Exit(m.Run())
}

func newJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	env := natstest.Start(t)
	if err := eventstore.EnsureStreams(context.Background(), env.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return env.JS
}

// start runs a reactor for the test and stops it at the end.
func start(t *testing.T, js jetstream.JetStream, cfg consumer.Config, h consumer.Handler) *consumer.Runner {
	t.Helper()
	if cfg.Backoff == nil {
		cfg.Backoff = []time.Duration{10 * time.Millisecond}
	}
	r, err := consumer.Start(context.Background(), js, cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// settled reports whether the consumer has acked or terminated everything
// up to stream sequence seq.
func settled(t *testing.T, js jetstream.JetStream, name string, seq uint64) func() bool {
	return func() bool {
		c, err := js.Consumer(context.Background(), eventstore.StreamName, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return info.AckFloor.Stream >= seq && info.NumAckPending == 0
	}
}

func deadLetters(t *testing.T, js jetstream.JetStream, name string) []consumer.DeadLetter {
	t.Helper()
	dls, err := consumer.ListDeadLetters(context.Background(), js, name)
	if err != nil {
		t.Fatal(err)
	}
	return dls
}

func received(text string) eventstore.Event {
	return eventstore.Event{Service: "intake", Name: "received", Payload: wrapperspb.String(text)}
}

func TestConfig_Validate(t *testing.T) {
	ok := consumer.Config{Name: "notifier", FilterSubjects: []string{"ddr.req.*.intake.received"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v", ok, err)
	}
	bad := map[string]func(*consumer.Config){
		"no name":          func(c *consumer.Config) { c.Name = "" },
		"dotted name":      func(c *consumer.Config) { c.Name = "a.b" },
		"foreign filter":   func(c *consumer.Config) { c.FilterSubjects = []string{"ddr.dlq.>"} },
		"negative deliver": func(c *consumer.Config) { c.MaxDeliver = -1 },
		"negative ackwait": func(c *consumer.Config) { c.AckWait = -time.Second },
		"negative backoff": func(c *consumer.Config) { c.Backoff = []time.Duration{time.Second, -1} },
		"negative pending": func(c *consumer.Config) { c.MaxAckPending = -1 },
		"negative workers": func(c *consumer.Config) { c.Workers = -1 },
	}
	for name, mutate := range bad {
		c := ok
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, consumer.ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := consumer.Start(context.Background(), nil, ok, nil); !errors.Is(err, consumer.ErrInvalidConfig) {
		t.Errorf("Start with nil handler = %v, want ErrInvalidConfig", err)
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("bad")
	err := fmt.Errorf("wrapped: %w", consumer.Permanent(base))
	if !errors.Is(err, consumer.ErrPermanent) || !errors.Is(err, base) {
		t.Errorf("Permanent error %v does not match ErrPermanent and its cause", err)
	}
	if errors.Is(base, consumer.ErrPermanent) {
		t.Error("plain error matches ErrPermanent")
	}
	if consumer.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
}

func TestConsumer_FailsTwiceThenSucceedsIsCalledThreeTimesAndAckedOnce(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	seq, err := store.Append(context.Background(), "r1", 0, received("a"))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	start(t, js, consumer.Config{Name: "flaky", MaxDeliver: 5}, func(context.Context, eventstore.Event) error {
		if calls.Add(1) <= 2 {
			return errors.New("transient")
		}
		return nil
	})
	testkit.Eventually(t, "event acked", settled(t, js, "flaky", seq))
	if c := calls.Load(); c != 3 {
		t.Errorf("handler called %d times, want 3", c)
	}
	if dls := deadLetters(t, js, ""); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none", dls)
	}
}

// TestConsumer_RedeliveredEventHandledOnce is the reference pattern for
// reactors. Delivery is at least once: a handler can do its work and then
// fail (crash, lost ack) and see the same event again. Two things make the
// second run harmless:
//
//  1. the reaction's event id is derived from the source event's id, so it
//     is the same on every run, and
//  2. decide looks for it in the freshly loaded history and appends nothing
//     if it is there (the Nats-Msg-Id dedupe also catches a quick retry,
//     but only within the stream's 2-minute window; the history check
//     holds forever).
func TestConsumer_RedeliveredEventHandledOnce(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	srcSeq, err := store.Append(ctx, "req-1", 0, received("new request"))
	if err != nil {
		t.Fatal(err)
	}

	var calls atomic.Int32
	acknowledge := func(ctx context.Context, ev eventstore.Event) error {
		n := calls.Add(1)
		ackID := eventstore.DerivedID(ev.ID, "notification.acknowledged")
		_, err := store.Update(ctx, ev.RequestID, func(h eventstore.History) ([]eventstore.Event, error) {
			for _, e := range h.Events {
				if e.ID == ackID {
					return nil, nil // already done by an earlier delivery
				}
			}
			return []eventstore.Event{{
				ID: ackID, Service: "notification", Name: "acknowledged",
				Payload: wrapperspb.String("acknowledgement sent"),
			}}, nil
		})
		if err != nil {
			return err
		}
		if n == 1 {
			return errors.New("simulated crash after the append, before the ack")
		}
		return nil
	}
	start(t, js, consumer.Config{Name: "acknowledger", FilterSubjects: []string{"ddr.req.*.intake.received"}}, acknowledge)

	testkit.Eventually(t, "source event acked", settled(t, js, "acknowledger", srcSeq))
	if c := calls.Load(); c != 2 {
		t.Fatalf("handler called %d times, want 2 (one redelivery)", c)
	}
	h, err := store.Load(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	var acks []eventstore.Event
	for _, e := range h.Events {
		if e.Service == "notification" && e.Name == "acknowledged" {
			acks = append(acks, e)
		}
	}
	if len(acks) != 1 {
		t.Fatalf("acknowledged events = %d, want exactly 1 (history %d events)", len(acks), len(h.Events))
	}
	if want := eventstore.DerivedID(h.Events[0].ID, "notification.acknowledged"); acks[0].ID != want {
		t.Errorf("acknowledged id = %s, want derived id %s", acks[0].ID, want)
	}
}

func TestConsumer_AlwaysFailingEndsInDLQAfterMaxDeliver(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	tctx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	bad := received("payload")
	bad.ID = "evt-bad"
	bad.Actor = "spiffe://ddr/intake"
	seq, err := store.Append(tctx, "r1", 0, bad)
	if err != nil {
		t.Fatal(err)
	}

	var badCalls, goodCalls atomic.Int32
	start(t, js, consumer.Config{Name: "doomed", MaxDeliver: 3}, func(_ context.Context, ev eventstore.Event) error {
		if ev.ID == "evt-bad" {
			badCalls.Add(1)
			return errors.New("downstream\nrefused")
		}
		goodCalls.Add(1)
		return nil
	})
	testkit.Eventually(t, "dead letter", func() bool { return len(deadLetters(t, js, "doomed")) == 1 })

	dl := deadLetters(t, js, "doomed")[0]
	if dl.Consumer != "doomed" || dl.Subject != "ddr.req.r1.intake.received" || dl.StreamSequence != seq ||
		dl.RequestID != "r1" || dl.EventID != "evt-bad" || dl.EventType != "google.protobuf.StringValue" ||
		dl.Reason != "max_deliver" || dl.Error != "downstream refused" || dl.Deliveries != 3 || dl.Time.IsZero() {
		t.Errorf("dead letter = %+v", dl)
	}
	for k, want := range map[string]string{
		"ce-source":      "ddr/intake",
		"ce-specversion": "1.0",
		"ddr-actor":      "spiffe://ddr/intake",
		"content-type":   "application/protobuf",
		"traceparent":    "00-4bf92f3577b34da6a3ce929d0e0e4736-", // producer span is a child of this trace
	} {
		if got := dl.Header.Get(k); len(got) < len(want) || got[:len(want)] != want {
			t.Errorf("dead letter header %s = %q, want prefix %q", k, got, want)
		}
	}
	st, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := st.GetMsg(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	if string(dl.Data) != string(orig.Data) {
		t.Error("dead letter body is not the original data")
	}

	// Not redelivered: the consumer settles it and moves on to the next
	// event, and the failing handler has still run exactly MaxDeliver times.
	next, err := store.Append(ctx, "r2", 0, received("fine"))
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "next event acked", settled(t, js, "doomed", next))
	if c := badCalls.Load(); c != 3 {
		t.Errorf("failing handler called %d times, want 3", c)
	}
	if c := goodCalls.Load(); c != 1 {
		t.Errorf("next event handled %d times, want 1", c)
	}
}

func TestConsumer_PermanentErrorGoesToDLQAtOnce(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	seq, err := store.Append(context.Background(), "r1", 0, received("x"))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	start(t, js, consumer.Config{Name: "strict"}, func(context.Context, eventstore.Event) error {
		calls.Add(1)
		return consumer.Permanent(errors.New("invariant broken"))
	})
	testkit.Eventually(t, "event settled", settled(t, js, "strict", seq))
	dls := deadLetters(t, js, "strict")
	if len(dls) != 1 || dls[0].Reason != "permanent" || dls[0].Deliveries != 1 || dls[0].Error != "invariant broken" {
		t.Fatalf("dead letters = %+v", dls)
	}
	if c := calls.Load(); c != 1 {
		t.Errorf("handler called %d times, want 1", c)
	}
}

func TestConsumer_UndecodableEventGoesToDLQWithoutHandler(t *testing.T) {
	js := newJS(t)
	m := nats.NewMsg("ddr.req.r1.legacy.thing")
	m.Header.Set("ce-id", "evt-legacy")
	m.Header.Set("ce-type", "ddr.legacy.v1.Gone")
	m.Header.Set("ce-specversion", "1.0")
	m.Header.Set("ce-time", time.Now().UTC().Format(time.RFC3339Nano))
	m.Data = []byte{1, 2, 3}
	ack, err := js.PublishMsg(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	start(t, js, consumer.Config{Name: "reader"}, func(context.Context, eventstore.Event) error {
		calls.Add(1)
		return nil
	})
	testkit.Eventually(t, "event settled", settled(t, js, "reader", ack.Sequence))
	dls := deadLetters(t, js, "reader")
	if len(dls) != 1 || dls[0].Reason != "undecodable" || string(dls[0].Data) != "\x01\x02\x03" || dls[0].StreamSequence != ack.Sequence {
		t.Fatalf("dead letters = %+v", dls)
	}
	if c := calls.Load(); c != 0 {
		t.Errorf("handler called %d times for an undecodable event", c)
	}
}

// With one worker, events are handled one at a time in stream order.
func TestConsumer_OneWorkerHandlesOneAtATimeInStreamOrder(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	heads := map[string]uint64{}
	var last uint64
	for i := range 20 {
		r := "r" + strconv.Itoa(i%3)
		seq, err := store.Append(ctx, r, heads[r], received(strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		heads[r], last = seq, seq
	}
	var mu sync.Mutex
	var inFlight, maxInFlight int
	var seen []uint64
	start(t, js, consumer.Config{Name: "serial", Workers: 1}, func(_ context.Context, ev eventstore.Event) error {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		seen = append(seen, ev.Sequence)
		mu.Unlock()
		time.Sleep(time.Millisecond) // widen the window for overlap
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	})
	testkit.Eventually(t, "all acked", settled(t, js, "serial", last))
	mu.Lock()
	defer mu.Unlock()
	if maxInFlight != 1 {
		t.Errorf("max handlers in flight = %d, want 1", maxInFlight)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("handled out of order: %v", seen)
		}
	}
	if len(seen) != 20 {
		t.Errorf("handled %d events, want 20", len(seen))
	}
}

// By default several requests are handled at once, each request's events
// in stream order.
func TestConsumer_RequestsInParallelEachInStreamOrder(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	heads := map[string]uint64{}
	var last uint64
	for i := range 64 {
		r := "r" + strconv.Itoa(i%16)
		seq, err := store.Append(ctx, r, heads[r], received(strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		heads[r], last = seq, seq
	}
	var mu sync.Mutex
	var inFlight, maxInFlight int
	seen := map[string][]uint64{}
	// The first handler waits until a second one runs beside it (or for
	// testkit.Patience, when nothing runs in parallel).
	overlap := make(chan struct{})
	var once sync.Once
	start(t, js, consumer.Config{Name: "parallel"}, func(_ context.Context, ev eventstore.Event) error {
		mu.Lock()
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		if inFlight >= 2 {
			once.Do(func() { close(overlap) })
		}
		seen[ev.RequestID] = append(seen[ev.RequestID], ev.Sequence)
		mu.Unlock()
		select {
		case <-overlap:
		case <-time.After(testkit.Patience):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	})
	testkit.Eventually(t, "all acked", settled(t, js, "parallel", last))
	mu.Lock()
	defer mu.Unlock()
	if maxInFlight < 2 {
		t.Errorf("max handlers in flight = %d, want several", maxInFlight)
	}
	total := 0
	for r, seqs := range seen {
		total += len(seqs)
		for i := 1; i < len(seqs); i++ {
			if seqs[i] <= seqs[i-1] {
				t.Errorf("request %s handled out of order: %v", r, seqs)
				break
			}
		}
	}
	if total != 64 {
		t.Errorf("handled %d events, want 64", total)
	}
}

// The runner pulls ahead of its workers. On Stop, what it pulled but did
// not start is handed back: the next run gets it at once, not after
// AckWait (ten minutes here), and the event in hand is settled.
func TestConsumer_StopHandsBackWhatItPulledButDidNotStart(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	var last uint64
	for i := range 20 {
		seq, err := store.Append(ctx, "r"+strconv.Itoa(i), 0, received(strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		last = seq
	}
	cfg := consumer.Config{Name: "handback", Workers: 1, AckWait: 10 * time.Minute}
	var mu sync.Mutex
	handled := map[uint64]int{}
	count := func(ev eventstore.Event) {
		mu.Lock()
		handled[ev.Sequence]++
		mu.Unlock()
	}
	inHand, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	first, err := consumer.Start(ctx, js, cfg, func(_ context.Context, ev eventstore.Event) error {
		count(ev)
		once.Do(func() { close(inHand) })
		<-release
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	<-inHand
	stopped := make(chan struct{})
	go func() { first.Stop(); close(stopped) }()
	close(release)
	<-stopped

	start(t, js, cfg, func(_ context.Context, ev eventstore.Event) error {
		count(ev)
		return nil
	})
	testkit.Eventually(t, "every event settled by the second run", settled(t, js, "handback", last))
	mu.Lock()
	defer mu.Unlock()
	for seq := uint64(1); seq <= last; seq++ {
		if handled[seq] != 1 {
			t.Errorf("event %d handled %d times, want once", seq, handled[seq])
		}
	}
}

func TestConsumer_SpanContinuesProducerTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })

	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx, root := tp.Tracer("test").Start(context.Background(), "rpc")
	seq, err := store.Append(ctx, "r1", 0, received("x"))
	root.End()
	if err != nil {
		t.Fatal(err)
	}
	handlerSpan := make(chan trace.SpanContext, 1)
	start(t, js, consumer.Config{Name: "traced"}, func(ctx context.Context, _ eventstore.Event) error {
		handlerSpan <- trace.SpanContextFromContext(ctx)
		return nil
	})
	testkit.Eventually(t, "event acked", settled(t, js, "traced", seq))
	got := <-handlerSpan

	var producer, consumerSpan tracetest.SpanStub
	testkit.Eventually(t, "consumer span ended", func() bool {
		for _, s := range exp.GetSpans() {
			switch s.SpanKind {
			case trace.SpanKindProducer:
				producer = s
			case trace.SpanKindConsumer:
				consumerSpan = s
			}
		}
		return consumerSpan.Name != ""
	})
	if consumerSpan.Name != "ddr.req.*.intake.received process" {
		t.Errorf("consumer span name = %q", consumerSpan.Name)
	}
	if consumerSpan.Parent.SpanID() != producer.SpanContext.SpanID() || consumerSpan.SpanContext.TraceID() != root.SpanContext().TraceID() {
		t.Errorf("consumer span parent %v, want producer %v in trace %v", consumerSpan.Parent, producer.SpanContext, root.SpanContext().TraceID())
	}
	if got.SpanID() != consumerSpan.SpanContext.SpanID() {
		t.Errorf("handler context span %v is not the consumer span", got)
	}
	attrs := map[string]string{}
	for _, kv := range consumerSpan.Attributes {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	for k, want := range map[string]string{
		"messaging.system": "nats", "messaging.destination.name": "ddr.req.*.intake.received",
		"messaging.consumer.group.name": "traced", "ddr.request_id": "r1",
	} {
		if attrs[k] != want {
			t.Errorf("consumer span %s = %q, want %q", k, attrs[k], want)
		}
	}
}

func TestRun_ReturnsWhenContextEnds(t *testing.T) {
	js := newJS(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- consumer.Run(ctx, js, consumer.Config{Name: "short"}, func(context.Context, eventstore.Event) error { return nil })
	}()
	testkit.Eventually(t, "consumer created", func() bool {
		_, err := js.Consumer(context.Background(), eventstore.StreamName, "short")
		return err == nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}
