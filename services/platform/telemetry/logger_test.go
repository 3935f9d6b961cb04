package telemetry_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

func TestLogLineInsideSpanCarriesItsTraceAndSpanID(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })

	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, slog.LevelInfo, true)

	ctx, span := tp.Tracer("test").Start(t.Context(), "work")
	log.InfoContext(ctx, "inside")
	span.End()

	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("exported %d spans, want 1", len(spans))
	}
	line := decode(t, buf.Bytes())
	if got, want := line[telemetry.TraceIDKey], spans[0].SpanContext.TraceID().String(); got != want {
		t.Errorf("trace_id = %v, want %v", got, want)
	}
	if got, want := line[telemetry.SpanIDKey], spans[0].SpanContext.SpanID().String(); got != want {
		t.Errorf("span_id = %v, want %v", got, want)
	}
}

func TestLogLineWithoutSpanHasNoTraceID(t *testing.T) {
	var buf bytes.Buffer
	telemetry.NewLogger(&buf, slog.LevelInfo, true).InfoContext(t.Context(), "outside")

	if line := decode(t, buf.Bytes()); line[telemetry.TraceIDKey] != nil {
		t.Errorf("trace_id = %v, want absent", line[telemetry.TraceIDKey])
	}
}

func TestTraceHandlerWrapsOnlyOnce(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })

	var buf bytes.Buffer
	once := telemetry.NewLogger(&buf, slog.LevelInfo, true)
	twice := slog.New(telemetry.TraceHandler(once.With("svc", "intake").Handler()))

	ctx, span := tp.Tracer("test").Start(t.Context(), "work")
	defer span.End()
	twice.InfoContext(ctx, "hello")

	// A duplicate key would still decode, so count occurrences in the raw line.
	if n := bytes.Count(buf.Bytes(), []byte(`"`+telemetry.TraceIDKey+`"`)); n != 1 {
		t.Errorf("trace_id appears %d times in %s, want once", n, buf.Bytes())
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("log line %q is not one JSON object: %v", b, err)
	}
	return m
}

func TestExplicitTraceIDIsNotDuplicated(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })

	var buf bytes.Buffer
	ctx, span := tp.Tracer("test").Start(t.Context(), "work")
	defer span.End()
	telemetry.NewLogger(&buf, slog.LevelInfo, true).InfoContext(ctx, "x", telemetry.TraceIDKey, "given")

	if n := bytes.Count(buf.Bytes(), []byte(`"`+telemetry.TraceIDKey+`"`)); n != 1 {
		t.Errorf("trace_id appears %d times in %s, want once", n, buf.Bytes())
	}
	if got := decode(t, buf.Bytes())[telemetry.TraceIDKey]; got != "given" {
		t.Errorf("trace_id = %v, want the caller's", got)
	}
}

// A log line in a call or a handler names the request, from the context or
// from the span's ddr.request_id (Submit sets it only from its response).
func TestLogLineInsideARequestCarriesItsRequestID(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	var buf bytes.Buffer
	log := telemetry.NewLogger(&buf, slog.LevelInfo, true)

	ctx, span := tp.Tracer("test").Start(t.Context(), "work")
	defer span.End()
	log.InfoContext(telemetry.ContextWithRequestID(ctx, "req-1"), "from context")
	span.SetAttributes(attribute.String(telemetry.AttrRequestID, "req-2"))
	log.InfoContext(ctx, "from span")
	log.InfoContext(telemetry.ContextWithRequestID(ctx, "req-3"), "explicit", telemetry.RequestIDKey, "req-4")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3: %s", len(lines), buf.Bytes())
	}
	for i, want := range []string{"req-1", "req-2", "req-4"} {
		line := decode(t, lines[i])
		if line[telemetry.RequestIDKey] != want || line[telemetry.TraceIDKey] == nil {
			t.Errorf("line %d: ddr.request_id %v, trace_id %v; want %s and a trace id", i, line[telemetry.RequestIDKey], line[telemetry.TraceIDKey], want)
		}
	}
	if n := bytes.Count(lines[2], []byte(`"`+telemetry.RequestIDKey+`"`)); n != 1 {
		t.Errorf("ddr.request_id appears %d times in %s, want once", n, lines[2])
	}
}

func TestLogLineOutsideARequestHasNoRequestID(t *testing.T) {
	var buf bytes.Buffer
	telemetry.NewLogger(&buf, slog.LevelInfo, true).InfoContext(t.Context(), "outside")
	if line := decode(t, buf.Bytes()); line[telemetry.RequestIDKey] != nil {
		t.Errorf("ddr.request_id = %v, want absent", line[telemetry.RequestIDKey])
	}
}
