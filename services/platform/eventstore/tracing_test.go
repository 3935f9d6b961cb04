package eventstore_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

func useTracer(t *testing.T) (*tracetest.InMemoryExporter, trace.Tracer) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })
	return exp, tp.Tracer("test")
}

func spanNamed(t *testing.T, exp *tracetest.InMemoryExporter, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q", name)
	return tracetest.SpanStub{}
}

func producerOf(t *testing.T, exp *tracetest.InMemoryExporter, service, name string) tracetest.SpanStub {
	t.Helper()
	return spanNamed(t, exp, eventstore.SubjectPattern(service, name)+" publish")
}

func linksTo(s tracetest.SpanStub, id trace.TraceID, kind string) int {
	n := 0
	for _, l := range s.Links {
		for _, a := range l.Attributes {
			if l.SpanContext.TraceID() == id && a.Key == "ddr.link" && a.Value.AsString() == kind {
				n++
			}
		}
	}
	return n
}

// A later call on a request runs in its own trace, links to the request's
// and publishes its events into the request's trace (linking back), so the
// reactions to them, which continue the event's trace, stay in one trace
// per request.
func TestLaterCallsPublishIntoTheRequestsTraceAndLinkBothWays(t *testing.T) {
	exp, tracer := useTracer(t)
	js := newJS(t)
	store := eventstore.NewStore(js)

	ctx, submit := tracer.Start(context.Background(), "submit")
	if _, err := store.Append(ctx, "req-1", 0, ev("intake", "received", "r")); err != nil {
		t.Fatal(err)
	}
	submit.End()
	root := submit.SpanContext().TraceID()

	ctx, approve := tracer.Start(context.Background(), "approve")
	out, err := store.Update(ctx, "req-1", func(eventstore.History) ([]eventstore.Event, error) {
		return []eventstore.Event{ev("assessment", "decided", "d")}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	approve.End()

	// Another store (another process, nothing cached), appending directly.
	ctx, seal := tracer.Start(context.Background(), "seal")
	if _, err := eventstore.NewStore(js).Append(ctx, "req-1", out[0].Sequence, ev("reporting", "disposition_recorded", "x")); err != nil {
		t.Fatal(err)
	}
	seal.End()

	for _, call := range []struct{ span, service, event string }{
		{"approve", "assessment", "decided"},
		{"seal", "reporting", "disposition_recorded"},
	} {
		s := spanNamed(t, exp, call.span)
		if s.SpanContext.TraceID() == root {
			t.Errorf("%s runs in the request's trace; want its own", call.span)
		}
		if n := linksTo(s, root, "request"); n != 1 {
			t.Errorf("%s has %d links to the request's trace, want 1 (links %v)", call.span, n, s.Links)
		}
		p := producerOf(t, exp, call.service, call.event)
		if p.SpanContext.TraceID() != root {
			t.Errorf("%s.%s published in trace %s, want the request's %s", call.service, call.event, p.SpanContext.TraceID(), root)
		}
		if n := linksTo(p, s.SpanContext.TraceID(), "caller"); n != 1 {
			t.Errorf("%s.%s publish has %d links to its caller, want 1", call.service, call.event, n)
		}
	}

	// A reactor handling the decided event continues its trace: the
	// request's, without links.
	raw, err := js.Stream(context.Background(), eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := raw.GetMsg(context.Background(), out[0].Sequence)
	if err != nil {
		t.Fatal(err)
	}
	rctx, react := tracer.Start(eventstore.ContextFromHeaders(context.Background(), m.Header), "react")
	if _, err := store.Update(rctx, "req-1", func(eventstore.History) ([]eventstore.Event, error) {
		return []eventstore.Event{ev("notification", "plan_derived", "p")}, nil
	}); err != nil {
		t.Fatal(err)
	}
	react.End()
	r := spanNamed(t, exp, "react")
	if r.SpanContext.TraceID() != root || len(r.Links) != 0 {
		t.Errorf("reactor span in trace %s with links %v, want the request's trace and no links", r.SpanContext.TraceID(), r.Links)
	}
	if p := producerOf(t, exp, "notification", "plan_derived"); p.Parent.SpanID() != r.SpanContext.SpanID() || len(p.Links) != 0 {
		t.Errorf("reactor's publish is not its plain child: parent %v links %v", p.Parent, p.Links)
	}
}
