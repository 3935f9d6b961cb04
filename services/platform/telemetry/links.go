package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Span attributes of ours. Only ids and names: never personal data.
const (
	// AttrRequestID is on every span that concerns one request, so its
	// traces are found by the request id (Jaeger: tag ddr.request_id=<id>).
	AttrRequestID = "ddr.request_id"
	// AttrLink says what a span link points to: "request" (the trace of
	// the request a call acted on) or "caller" (the call that caused an
	// event published into the request's trace).
	AttrLink = "ddr.link"
)

// LinkToRequest records on the span of ctx that it acted on the request
// whose trace root is: a staff call runs in a trace of its own and links to
// the request's. Nothing happens when the span is part of that trace
// already, is not recording, or has the link.
func LinkToRequest(ctx context.Context, root trace.SpanContext) {
	span := trace.SpanFromContext(ctx)
	if !root.IsValid() || !span.IsRecording() || span.SpanContext().TraceID() == root.TraceID() {
		return
	}
	if ro, ok := span.(sdktrace.ReadOnlySpan); ok {
		for _, l := range ro.Links() {
			if l.SpanContext.TraceID() == root.TraceID() {
				return
			}
		}
	}
	span.AddLink(trace.Link{SpanContext: root, Attributes: []attribute.KeyValue{attribute.String(AttrLink, "request")}})
}
