package projection_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/projection"
)

func newJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	env := natstest.Start(t)
	if err := eventstore.EnsureStreams(context.Background(), env.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return env.JS
}

// readModel is the smallest useful projection: event texts in order.
type readModel struct {
	mu    sync.Mutex
	texts []string
}

func (m *readModel) apply(ev eventstore.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.texts = append(m.texts, ev.Payload.(*wrapperspb.StringValue).GetValue())
	return nil
}

func (m *readModel) snapshot() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.texts...)
}

func appendN(t *testing.T, store *eventstore.Store, requestID, service string, from, to int) uint64 {
	t.Helper()
	h, err := store.Load(context.Background(), requestID)
	if err != nil {
		t.Fatal(err)
	}
	seq := h.LastSeq
	for i := from; i < to; i++ {
		seq, err = store.Append(context.Background(), requestID, seq,
			eventstore.Event{Service: service, Name: "noted", Payload: wrapperspb.String(fmt.Sprintf("%s-%d", service, i))})
		if err != nil {
			t.Fatal(err)
		}
	}
	return seq
}

func start(t *testing.T, js jetstream.JetStream, filters []string, apply projection.Apply) *projection.Projection {
	t.Helper()
	p, err := projection.Start(context.Background(), js, filters, apply, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

func TestProjection_CatchesUpBeforeStartReturnsThenFollows(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	last := appendN(t, store, "r1", "intake", 0, 50)

	var m readModel
	p := start(t, js, nil, m.apply)
	if got := len(m.snapshot()); got != 50 {
		t.Fatalf("after Start, applied %d events, want all 50", got)
	}
	if p.LastApplied() != last {
		t.Errorf("LastApplied = %d, want %d", p.LastApplied(), last)
	}

	last = appendN(t, store, "r1", "intake", 50, 60)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	want := make([]string, 60)
	for i := range want {
		want[i] = fmt.Sprintf("intake-%d", i)
	}
	if diff := cmp.Diff(want, m.snapshot()); diff != "" {
		t.Errorf("read model (-want +got):\n%s", diff)
	}
}

func TestProjection_EmptyStreamStartsAtOnce(t *testing.T) {
	js := newJS(t)
	var m readModel
	p := start(t, js, nil, m.apply)
	if p.LastApplied() != 0 || len(m.snapshot()) != 0 {
		t.Errorf("empty stream: LastApplied %d, %d events", p.LastApplied(), len(m.snapshot()))
	}
}

func TestProjection_FiltersSelectEvents(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	appendN(t, store, "r1", "intake", 0, 3)
	appendN(t, store, "r1", "assessment", 0, 3)
	appendN(t, store, "r2", "intake", 3, 5)

	var m readModel
	start(t, js, []string{"ddr.req.*.intake.>"}, m.apply)
	if diff := cmp.Diff([]string{"intake-0", "intake-1", "intake-2", "intake-3", "intake-4"}, m.snapshot()); diff != "" {
		t.Errorf("read model (-want +got):\n%s", diff)
	}
}

func TestProjection_SkipsUndecodableEvents(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	appendN(t, store, "r1", "intake", 0, 1)
	bad := nats.NewMsg("ddr.req.r2.legacy.thing")
	bad.Header.Set("ce-type", "ddr.legacy.v1.Gone")
	if _, err := js.PublishMsg(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	last := appendN(t, store, "r3", "intake", 1, 2)

	var m readModel
	p := start(t, js, nil, m.apply)
	if diff := cmp.Diff([]string{"intake-0", "intake-1"}, m.snapshot()); diff != "" {
		t.Errorf("read model (-want +got):\n%s", diff)
	}
	if p.LastApplied() != last {
		t.Errorf("LastApplied = %d, want %d", p.LastApplied(), last)
	}
}

func TestProjection_WaitFor(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	var m readModel
	p := start(t, js, nil, m.apply)

	// Already applied: returns at once even with a canceled context.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.WaitFor(done, 0); err != nil {
		t.Errorf("WaitFor(0) = %v", err)
	}

	// Not yet written: blocks until the context ends.
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := p.WaitFor(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor(unwritten) = %v, want DeadlineExceeded", err)
	}

	// Written while waiting: returns once applied, and the write is visible.
	result := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		result <- p.WaitFor(ctx, 3)
	}()
	appendN(t, store, "r1", "intake", 0, 3)
	if err := <-result; err != nil {
		t.Fatalf("WaitFor(3) = %v", err)
	}
	if got := len(m.snapshot()); got != 3 {
		t.Errorf("after WaitFor(3), %d events applied, want 3", got)
	}

	// Stopped: waiting for the future fails instead of hanging.
	p.Stop()
	if err := p.WaitFor(context.Background(), 100); !errors.Is(err, projection.ErrStopped) {
		t.Errorf("WaitFor after Stop = %v, want ErrStopped", err)
	}
}

func TestProjection_ApplyErrorSkipsEvent(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	last := appendN(t, store, "r1", "intake", 0, 3)
	var m readModel
	p := start(t, js, nil, func(ev eventstore.Event) error {
		if ev.Sequence == 2 {
			return errors.New("bug in read model")
		}
		return m.apply(ev)
	})
	if diff := cmp.Diff([]string{"intake-0", "intake-2"}, m.snapshot()); diff != "" {
		t.Errorf("read model (-want +got):\n%s", diff)
	}
	if p.LastApplied() != last {
		t.Errorf("LastApplied = %d, want %d", p.LastApplied(), last)
	}
}

func TestStart_RejectsInvalidArguments(t *testing.T) {
	js := newJS(t)
	if _, err := projection.Start(context.Background(), js, nil, nil, nil); !errors.Is(err, projection.ErrInvalidArgument) {
		t.Errorf("nil apply: %v", err)
	}
	if _, err := projection.Start(context.Background(), js, []string{"other.>"}, func(eventstore.Event) error { return nil }, nil); !errors.Is(err, projection.ErrInvalidArgument) {
		t.Errorf("foreign filter: %v", err)
	}
}

func TestRun_ReturnsWhenContextEnds(t *testing.T) {
	js := newJS(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- projection.Run(ctx, js, nil, func(eventstore.Event) error { return nil }, nil) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}
