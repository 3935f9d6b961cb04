package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// A request is one trace. Its first event (RequestReceived) carries the
// trace of the call that submitted it: the request's root. Reactors
// continue the trace of the event they handle, so they stay in it. A later
// call on the request (a staff review, an approval) starts a trace of its
// own; it links to the root ([telemetry.LinkToRequest]), and the events it
// appends are published into the root trace, their producer spans linking
// back to the call. The reactions to those events, in other services, then
// join the request's trace too: one trace per request, found by its id,
// holding every service it went through.

// rootCacheSize bounds the cache of request roots. The first event of a
// request never changes (the stream is append-only), so a cached root
// cannot be stale; the bound only caps memory.
const rootCacheSize = 10000

type rootCache struct {
	mu    sync.Mutex
	roots map[string]trace.SpanContext
}

func (c *rootCache) get(requestID string) (trace.SpanContext, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc, ok := c.roots[requestID]
	return sc, ok
}

func (c *rootCache) put(requestID string, sc trace.SpanContext) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.roots == nil || len(c.roots) >= rootCacheSize {
		c.roots = map[string]trace.SpanContext{}
	}
	c.roots[requestID] = sc
}

// traceOf is the trace context stored in an event's headers; invalid if
// it has none.
func traceOf(h nats.Header) trace.SpanContext {
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), HeaderCarrier(h)))
}

// requestRoot returns the trace context of the request's first event.
func (s *Store) requestRoot(ctx context.Context, requestID string) (trace.SpanContext, error) {
	if sc, ok := s.roots.get(requestID); ok {
		return sc, nil
	}
	m, err := firstMsg(ctx, s, RequestFilter(requestID))
	if errors.Is(err, ErrNotFound) {
		return trace.SpanContext{}, nil
	}
	if err != nil {
		return trace.SpanContext{}, err
	}
	sc := traceOf(m.Header)
	s.roots.put(requestID, sc)
	return sc, nil
}

// firstMsg fetches the first message matching filter with one direct get.
func firstMsg(ctx context.Context, s *Store, filter string) (RawMsg, error) {
	ctx, cancel := withDefaultTimeout(ctx, defaultReadTimeout)
	defer cancel()
	req, _ := json.Marshal(directGetRequest{Seq: 1, NextFor: filter})
	m, err := s.js.Conn().RequestWithContext(ctx, apiPrefix(s.js)+"DIRECT.GET."+StreamName, req)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return RawMsg{}, errNoResponders
		}
		return RawMsg{}, fmt.Errorf("eventstore: direct get first of %s: %w", filter, err)
	}
	switch status := m.Header.Get(hdrStatus); status {
	case "":
	case "404":
		return RawMsg{}, fmt.Errorf("%w: %s", ErrNotFound, filter)
	default:
		return RawMsg{}, fmt.Errorf("eventstore: direct get first of %s: status %s %s", filter, status, m.Header.Get(hdrDescription))
	}
	return RawMsg{Subject: m.Header.Get(hdrNatsSubject), Header: m.Header, Data: m.Data}, nil
}

// publishContext is the context a producer span starts from: the caller's,
// or, when the caller works outside the request's trace, the request's
// root, with a link back to the caller.
func publishContext(ctx context.Context, root trace.SpanContext) (context.Context, []trace.SpanStartOption) {
	cur := trace.SpanContextFromContext(ctx)
	if !root.IsValid() || cur.TraceID() == root.TraceID() {
		return ctx, nil
	}
	telemetry.LinkToRequest(ctx, root)
	var opts []trace.SpanStartOption
	if cur.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: cur, Attributes: []attribute.KeyValue{attribute.String(telemetry.AttrLink, "caller")}}))
	}
	return trace.ContextWithRemoteSpanContext(ctx, root), opts
}

// Metrics of the event store. Labels name services and events, never a
// request.
type storeMetrics struct {
	published metric.Int64Counter
	refused   metric.Int64Counter
}

var instruments = telemetry.Instruments(TracerName, func(m metric.Meter) storeMetrics {
	return storeMetrics{
		published: telemetry.Counter(m, "ddr.events.published",
			"Events appended to the DDR stream, by emitting service, event name and outcome (written, duplicate, conflict, error)"),
		refused: telemetry.Counter(m, "ddr.events.refused",
			"Stored events a reader refused, by reader (load, projection, consumer), kind (forged, malformed, unknown_type) and the subject's service"),
	}
})

func countPublish(ctx context.Context, ev Event, outcome string) {
	instruments().published.Add(ctx, 1, metric.WithAttributes(
		attribute.String("service", ev.Service), attribute.String("event", ev.Name), attribute.String("outcome", outcome)))
}

// CountRefused counts a stored event that reader (load, projection,
// consumer) refused to use; err is the [*DecodeError]. Labels carry the
// subject's service, never the request.
func CountRefused(ctx context.Context, reader string, err error) {
	kind := "malformed"
	switch {
	case errors.Is(err, ErrForged):
		kind = "forged"
	case errors.Is(err, ErrUnknownType):
		kind = "unknown_type"
	}
	svc := ""
	var de *DecodeError
	if errors.As(err, &de) {
		_, svc, _, _ = ParseSubject(de.Subject)
	}
	instruments().refused.Add(ctx, 1, metric.WithAttributes(
		attribute.String("reader", reader), attribute.String("kind", kind), attribute.String("service", svc)))
}

// MessagingAttributes are the OpenTelemetry messaging attributes of a span
// about one event on the stream (publish, process), written once so that
// the producer's and the consumers' spans name the system, the operation,
// the subject pattern and the event id alike; more are appended.
func MessagingAttributes(opType, opName, pattern, eventID string, more ...attribute.KeyValue) []attribute.KeyValue {
	return append([]attribute.KeyValue{
		attribute.String("messaging.system", "nats"),
		attribute.String("messaging.operation.type", opType),
		attribute.String("messaging.operation.name", opName),
		attribute.String("messaging.destination.name", pattern),
		attribute.String("messaging.message.id", eventID),
	}, more...)
}
