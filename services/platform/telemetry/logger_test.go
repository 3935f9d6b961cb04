package telemetry_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

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
