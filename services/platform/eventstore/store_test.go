package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

func ev(service, name, text string) eventstore.Event {
	return eventstore.Event{Service: service, Name: name, Payload: wrapperspb.String(text)}
}

func texts(h eventstore.History) []string {
	var out []string
	for _, e := range h.Events {
		out = append(out, e.Payload.(*wrapperspb.StringValue).GetValue())
	}
	return out
}

func streamMsgs(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	st, err := js.Stream(context.Background(), eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	return st.CachedInfo().State.Msgs
}

func TestEnsureStreams_AppendOnlyConfigAndIdempotent(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{}); err != nil {
		t.Fatalf("second EnsureStreams: %v", err)
	}
	st, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	c := st.CachedInfo().Config
	if !c.DenyDelete || !c.DenyPurge || !c.AllowDirect || c.Storage != jetstream.FileStorage ||
		c.Duplicates != eventstore.DefaultDuplicates || c.MaxAge != 0 || c.Retention != jetstream.LimitsPolicy ||
		!cmp.Equal(c.Subjects, []string{"ddr.req.>"}) {
		t.Errorf("DDR config = %+v", c)
	}
	dlq, err := js.Stream(ctx, eventstore.DLQStreamName)
	if err != nil {
		t.Fatal(err)
	}
	if d := dlq.CachedInfo().Config; !cmp.Equal(d.Subjects, []string{"ddr.dlq.>"}) || d.Storage != jetstream.FileStorage {
		t.Errorf("DDR_DLQ config = %+v", d)
	}
}

func TestStreamOptions_Validate(t *testing.T) {
	for _, o := range []eventstore.StreamOptions{{Replicas: -1}, {Replicas: 6}, {Duplicates: -1}, {Storage: 7}} {
		if err := o.Validate(); !errors.Is(err, jetstream.ErrInvalidOption) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidOption", o, err)
		}
	}
}

func TestStream_RefusesDeleteAndPurge(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	store := eventstore.NewStore(js)
	if _, err := store.Append(ctx, "r1", 0, ev("intake", "received", "a")); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, 1); err == nil {
		t.Error("DeleteMsg succeeded on the record")
	}
	if err := st.SecureDeleteMsg(ctx, 1); err == nil {
		t.Error("SecureDeleteMsg succeeded on the record")
	}
	if err := st.Purge(ctx); err == nil {
		t.Error("Purge succeeded on the record")
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject("ddr.req.r1.>")); err == nil {
		t.Error("subject Purge succeeded on the record")
	}
	if got := streamMsgs(t, js); got != 1 {
		t.Errorf("messages = %d, want 1", got)
	}
}

func TestLoad_UnknownRequestIsEmpty(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	h, err := store.Load(context.Background(), "nobody")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != 0 || h.LastSeq != 0 {
		t.Errorf("Load = %+v, want empty", h)
	}
}

func TestLoad_OnlyThatRequestInOrder(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	ctx := context.Background()
	seqs := map[string]uint64{}
	for i := range 5 {
		for _, r := range []string{"r1", "r2", "r10"} {
			seq, err := store.Append(ctx, r, seqs[r], ev("intake", fmt.Sprintf("e%d", i), fmt.Sprintf("%s-%d", r, i)))
			if err != nil {
				t.Fatal(err)
			}
			seqs[r] = seq
		}
	}
	h, err := store.Load(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"r1-0", "r1-1", "r1-2", "r1-3", "r1-4"}, texts(h)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if h.LastSeq != seqs["r1"] {
		t.Errorf("LastSeq = %d, want %d", h.LastSeq, seqs["r1"])
	}
	for i, e := range h.Events {
		if e.RequestID != "r1" || e.Sequence == 0 || e.Subject != fmt.Sprintf("ddr.req.r1.intake.e%d", i) {
			t.Errorf("event %d = %+v", i, e)
		}
	}
}

func TestLoad_ReadsPastOnePage(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	ctx := context.Background()
	const n = 1100 // more than two direct-get pages
	batch := make([]eventstore.Event, n)
	for i := range batch {
		batch[i] = ev("intake", "note", fmt.Sprint(i))
	}
	last, err := store.Append(ctx, "big", 0, batch...)
	if err != nil {
		t.Fatal(err)
	}
	h, err := store.Load(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != n || h.LastSeq != last {
		t.Fatalf("loaded %d events up to %d, want %d up to %d", len(h.Events), h.LastSeq, n, last)
	}
	for i, e := range h.Events {
		if got := e.Payload.(*wrapperspb.StringValue).GetValue(); got != fmt.Sprint(i) {
			t.Fatalf("event %d = %q: out of order", i, got)
		}
	}
}

func TestAppend_StaleExpectedSequenceConflicts(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	ctx := context.Background()
	s1, err := store.Append(ctx, "r1", 0, ev("intake", "received", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "r1", s1, ev("intake", "checked", "b")); err != nil {
		t.Fatal(err)
	}
	_, err = store.Append(ctx, "r1", s1, ev("intake", "checked", "c"))
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("append with stale sequence = %v, want ErrConflict", err)
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != jetstream.JSErrCodeStreamWrongLastSequence {
		t.Errorf("conflict does not carry the JetStream API error: %v", err)
	}
	h, _ := store.Load(ctx, "r1")
	if diff := cmp.Diff([]string{"a", "b"}, texts(h)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func TestAppend_FreshRequestTwiceWithZeroConflicts(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	ctx := context.Background()
	if _, err := store.Append(ctx, "r1", 0, ev("intake", "received", "first")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "r1", 0, ev("intake", "received", "second")); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("second create = %v, want ErrConflict", err)
	}
}

func TestAppend_OtherRequestsDoNotConflict(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	ctx := context.Background()
	for _, r := range []string{"r1", "r2", "r1x"} {
		if _, err := store.Append(ctx, r, 0, ev("intake", "received", r)); err != nil {
			t.Errorf("create %s: %v", r, err)
		}
	}
}

func TestAppend_ChainsExpectedSequenceAcrossEvents(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	last, err := store.Append(ctx, "r1", 0, ev("intake", "a", "1"), ev("intake", "b", "2"), ev("intake", "c", "3"))
	if err != nil {
		t.Fatal(err)
	}
	if last != 3 {
		t.Errorf("lastSeq = %d, want 3", last)
	}
}

func TestAppend_ValidatesAllBeforeWritingAny(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	bad := ev("intake", "b", "2")
	bad.RequestID = "r2"
	if _, err := store.Append(ctx, "r1", 0, ev("intake", "a", "1"), bad); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("append with an event of another request = %v, want ErrInvalidEvent", err)
	}
	if _, err := store.Append(ctx, "r.1", 0, ev("intake", "a", "1")); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("append to request id with a dot = %v, want ErrInvalidEvent", err)
	}
	if got := streamMsgs(t, js); got != 0 {
		t.Errorf("messages = %d, want 0", got)
	}
}

func TestAppend_DuplicateIDIsSuccessWithoutSecondMessage(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	e := ev("notification", "sent", "once")
	e.ID = "fixed-id"
	s1, err := store.Append(ctx, "r1", 0, e)
	if err != nil {
		t.Fatal(err)
	}
	// A retry that re-emits the same event at the current head.
	s2, err := store.Append(ctx, "r1", s1, e)
	if err != nil {
		t.Fatalf("duplicate append = %v, want success", err)
	}
	if s2 != s1 {
		t.Errorf("lastSeq after duplicate = %d, want %d (unchanged head)", s2, s1)
	}
	// The returned head is usable: the next append does not conflict.
	if _, err := store.Append(ctx, "r1", s2, ev("notification", "confirmed", "next")); err != nil {
		t.Errorf("append after duplicate: %v", err)
	}
	if got := streamMsgs(t, js); got != 2 {
		t.Errorf("messages = %d, want 2", got)
	}
}

func TestUpdate_RacingWritersBothSucceedOnce(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	ctx := context.Background()
	if _, err := store.Append(ctx, "r1", 0, ev("intake", "received", "start")); err != nil {
		t.Fatal(err)
	}
	// Both writers must have loaded the same history before either appends,
	// so one of them is guaranteed to hit a conflict.
	var loaded sync.WaitGroup
	loaded.Add(2)
	var calls atomic.Int32
	writer := func(text string) func(eventstore.History) ([]eventstore.Event, error) {
		first := true
		return func(h eventstore.History) ([]eventstore.Event, error) {
			calls.Add(1)
			if first {
				first = false
				loaded.Done()
				loaded.Wait()
			}
			for _, t := range texts(h) {
				if t == text {
					return nil, nil
				}
			}
			return []eventstore.Event{ev("assessment", "noted", text)}, nil
		}
	}
	errs := make(chan error, 2)
	for _, text := range []string{"left", "right"} {
		go func() {
			_, err := store.Update(ctx, "r1", writer(text))
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	h, err := store.Load(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	got := texts(h)
	if len(got) != 3 || got[0] != "start" || (got[1] != "left" || got[2] != "right") && (got[1] != "right" || got[2] != "left") {
		t.Errorf("history = %v, want start then left and right once each", got)
	}
	if c := calls.Load(); c != 3 {
		t.Errorf("decide called %d times, want 3 (one retry after the conflict)", c)
	}
}

func TestUpdate_DecideErrorReturnedAsIs(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	refusal := errors.New("policy says no")
	_, err := store.Update(context.Background(), "r1", func(eventstore.History) ([]eventstore.Event, error) { return nil, refusal })
	if !errors.Is(err, refusal) {
		t.Errorf("Update = %v, want the decide error itself", err)
	}
}

func TestUpdate_NothingToAppend(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	out, err := store.Update(context.Background(), "r1", func(eventstore.History) ([]eventstore.Event, error) { return nil, nil })
	if err != nil || out != nil {
		t.Errorf("Update = %v, %v; want nil, nil", out, err)
	}
	if got := streamMsgs(t, js); got != 0 {
		t.Errorf("messages = %d, want 0", got)
	}
}

func TestUpdate_ReturnsAppendedEvents(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	out, err := store.Update(context.Background(), "r1", func(eventstore.History) ([]eventstore.Event, error) {
		return []eventstore.Event{ev("intake", "received", "a"), ev("intake", "validated", "b")}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Sequence != 1 || out[1].Sequence != 2 || out[0].ID == "" || out[1].RequestID != "r1" ||
		out[1].Subject != "ddr.req.r1.intake.validated" || out[0].Type != "google.protobuf.StringValue" {
		t.Errorf("Update returned %+v", out)
	}
}

// Another writer that loads a request between two events of a decision
// appended one by one waits for the rest, and decides on the whole
// decision. Deciding on half of it made the next event conflict, and the
// first writer, deciding again, saw its own first event and refused: a
// forgery recorded without its incident and breach clocks (CI, stop 31).
func TestUpdate_AnotherWriterWaitsForADecisionAppendedOneByOne(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	other := eventstore.NewStore(js)
	var (
		armed   = false // set once the request exists: the next append is interrupted
		done    = make(chan error, 1)
		sawHalf = make(chan bool, 1)
	)
	store := eventstore.NewStore(js, eventstore.WithOneByOne(), eventstore.WithAfterSend(func(requestID string, i int) {
		if i != 0 || !armed {
			return
		}
		armed = false
		h, err := other.Load(ctx, requestID)
		if err != nil {
			t.Error(err)
		}
		sawHalf <- h.Unfinished(time.Now(), time.Minute)
		go func() {
			_, err := other.Update(ctx, requestID, func(h eventstore.History) ([]eventstore.Event, error) {
				if got := texts(h); got[len(got)-1] != "breach" {
					return nil, fmt.Errorf("decided on %v, half of the forgery", got)
				}
				return []eventstore.Event{ev("notification", "StepsStopped", "other")}, nil
			})
			done <- err
		}()
		// Room for the other writer to get in, as a reactor under load does.
		time.Sleep(100 * time.Millisecond)
	}))
	if _, err := store.Append(ctx, "r1", 0, ev("intake", "received", "start")); err != nil {
		t.Fatal(err)
	}
	armed = true
	calls := 0
	_, err := store.Update(ctx, "r1", func(h eventstore.History) ([]eventstore.Event, error) {
		calls++
		if slices.Contains(texts(h), "forged") {
			return nil, errors.New("already confirmed forged")
		}
		return []eventstore.Event{ev("assessment", "RequesterVerified", "forged"), ev("assessment", "SecurityIncidentOpened", "incident"), ev("assessment", "BreachOpened", "breach")}, nil
	})
	if err != nil {
		t.Fatalf("Update = %v, want the whole decision written", err)
	}
	if !<-sawHalf {
		t.Error("the history after the first of three events is not Unfinished")
	}
	if err := <-done; err != nil {
		t.Fatalf("the other writer: %v", err)
	}
	if calls != 1 {
		t.Errorf("decide called %d times, want once", calls)
	}
	h, err := store.Load(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"start", "forged", "incident", "breach", "other"}, texts(h)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if h.Unfinished(time.Now(), time.Minute) {
		t.Error("a finished history reads as Unfinished")
	}
	if e := h.Events[2]; e.Part != 2 || e.Parts != 3 {
		t.Errorf("the second event of the decision is part %d of %d, want 2 of 3", e.Part, e.Parts)
	}
}

// A decision whose writer died part way is never finished: once its last
// event is older than the patience, the request's next command goes on.
func TestUpdate_ADecisionLeftHalfWrittenLongAgoDoesNotStallTheRequest(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	store := eventstore.NewStore(js)
	first := ev("assessment", "CaseOpened", "opened")
	first.Part, first.Parts, first.Time = 1, 3, time.Now().Add(-time.Minute)
	if _, err := store.Append(ctx, "r1", 0, first); err != nil {
		t.Fatal(err)
	}
	h, err := store.Load(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if e := h.Events[0]; e.Part != 1 || e.Parts != 3 {
		t.Fatalf("the stored event is part %d of %d, want 1 of 3", e.Part, e.Parts)
	}
	if h.Unfinished(time.Now(), time.Second) || !h.Unfinished(first.Time, time.Second) {
		t.Error("Unfinished does not go by the age of the last event")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := store.Update(ctx, "r1", func(eventstore.History) ([]eventstore.Event, error) {
		return []eventstore.Event{ev("assessment", "CaseClaimed", "next")}, nil
	}); err != nil {
		t.Fatalf("Update after a decision abandoned long ago = %v", err)
	}
}

func TestUpdate_GivesUpAfterMaxRetries(t *testing.T) {
	store := eventstore.NewStore(newJS(t), eventstore.WithMaxRetries(2))
	ctx := context.Background()
	calls := 0
	_, err := store.Update(ctx, "r1", func(h eventstore.History) ([]eventstore.Event, error) {
		calls++
		// Another writer always gets in between load and append.
		if _, err := store.Append(ctx, "r1", h.LastSeq, ev("intake", "interloper", fmt.Sprint(calls))); err != nil {
			return nil, err
		}
		return []eventstore.Event{ev("intake", "mine", "x")}, nil
	})
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("Update = %v, want ErrConflict", err)
	}
	if calls != 3 {
		t.Errorf("decide called %d times, want 3 (first attempt + 2 retries)", calls)
	}
}

func TestUpdate_RespectsCanceledContext(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := store.Update(ctx, "r1", func(eventstore.History) ([]eventstore.Event, error) {
		t.Error("decide called with a canceled context")
		return nil, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update = %v, want context.Canceled", err)
	}
}

func TestGetBySequence(t *testing.T) {
	store := eventstore.NewStore(newJS(t))
	ctx := context.Background()
	if _, err := store.Append(ctx, "r1", 0, ev("intake", "received", "a"), ev("intake", "checked", "b")); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetBySequence(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sequence != 2 || got.Name != "checked" || got.Payload.(*wrapperspb.StringValue).GetValue() != "b" {
		t.Errorf("GetBySequence(2) = %+v", got)
	}
	for _, seq := range []uint64{0, 99} {
		if _, err := store.GetBySequence(ctx, seq); !errors.Is(err, eventstore.ErrNotFound) {
			t.Errorf("GetBySequence(%d) = %v, want ErrNotFound", seq, err)
		}
	}
}

func TestAppend_ProducerSpanPerEvent(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })

	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	e := ev("intake", "received", "secret-target@example.org")
	e.ID = "evt-1"
	if _, err := store.Append(ctx, "req-9", 0, e); err != nil {
		t.Fatal(err)
	}

	var span tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.SpanKind == trace.SpanKindProducer {
			span = s
		}
	}
	if span.Name != "ddr.req.*.intake.received publish" {
		t.Fatalf("producer span name = %q", span.Name)
	}
	attrs := map[attribute.Key]string{}
	for _, kv := range span.Attributes {
		attrs[kv.Key] = kv.Value.String()
		if kv.Value.String() == "secret-target@example.org" {
			t.Errorf("payload content in span attribute %s", kv.Key)
		}
	}
	for k, want := range map[attribute.Key]string{
		"messaging.system":           "nats",
		"messaging.destination.name": "ddr.req.*.intake.received",
		"messaging.message.id":       "evt-1",
		"ddr.request_id":             "req-9",
	} {
		if attrs[k] != want {
			t.Errorf("attribute %s = %q, want %q", k, attrs[k], want)
		}
	}
	raw, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := raw.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	parent := trace.SpanContextFromContext(eventstore.ContextFromHeaders(ctx, m.Header))
	if parent.SpanID() != span.SpanContext.SpanID() || parent.TraceID() != span.SpanContext.TraceID() {
		t.Errorf("stored traceparent %v is not the producer span %v", parent, span.SpanContext)
	}
}
