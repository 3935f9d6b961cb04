package telemetry

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Log attribute keys that join a log line to its trace and its request.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
	// RequestIDKey is the request a line is about: the same key as the
	// span attribute, so a line leads to the request's traces. The id is
	// opaque (a UUID); whom the request is about never goes to logs.
	RequestIDKey = AttrRequestID
)

// ContextWithRequestID marks ctx as working on request id: log lines
// written with it carry ddr.request_id.
func ContextWithRequestID(ctx context.Context, id string) context.Context {
	return requestIDKey.with(ctx, id)
}

// RequestIDFromContext returns the request id of ctx: the one
// ContextWithRequestID put there, else the ddr.request_id attribute of
// its recording span (a Submit learns its id only from the response, after
// the outer interceptors made their context), else "".
func RequestIDFromContext(ctx context.Context) string {
	if id, ok := requestIDKey.from(ctx); ok {
		return id
	}
	span, ok := trace.SpanFromContext(ctx).(interface{ Attributes() []attribute.KeyValue })
	if !ok {
		return ""
	}
	for _, kv := range span.Attributes() {
		if kv.Key == AttrRequestID {
			return kv.Value.AsString()
		}
	}
	return ""
}

// NewLogger returns a logger that adds trace_id and span_id to every record
// logged with a context holding a span, and ddr.request_id to every record
// logged with a context of a request (use the *Context methods, e.g.
// InfoContext). json selects JSON output for machines over text for people.
func NewLogger(w io.Writer, level slog.Level, json bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if json {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(TraceHandler(h))
}

// TraceHandler wraps h to add the trace and span ids of the record's
// context, unless the record already has a trace_id. Under WithGroup the ids
// land inside the group, so keep request loggers ungrouped. Wrapping twice is harmless: an already wrapped handler is
// returned as is, so libraries may wrap whatever logger they are given.
func TraceHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(traceHandler); ok {
		return h
	}
	return traceHandler{next: h}
}

type traceHandler struct{ next slog.Handler }

func (h traceHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	cloned := false
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && !hasAttr(r, TraceIDKey) {
		r, cloned = r.Clone(), true
		r.AddAttrs(slog.String(TraceIDKey, sc.TraceID().String()), slog.String(SpanIDKey, sc.SpanID().String()))
	}
	if id := RequestIDFromContext(ctx); id != "" && !hasAttr(r, RequestIDKey) {
		if !cloned {
			r = r.Clone()
		}
		r.AddAttrs(slog.String(RequestIDKey, id))
	}
	return h.next.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{next: h.next.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{next: h.next.WithGroup(name)}
}

// hasAttr reports whether the caller already logged key, e.g. a trace id it
// had to make up because there was no span; adding ours would duplicate it.
func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}
