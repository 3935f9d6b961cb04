package telemetry

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Config describes where traces go.
type Config struct {
	// ServiceName becomes the resource attribute service.name. Required.
	ServiceName    string
	ServiceVersion string
	// OTLPEndpoint is the host:port of an OTLP gRPC collector. Empty means
	// spans are created (so trace ids reach logs and peers) but not exported.
	OTLPEndpoint string
	// Insecure sends to the collector without TLS.
	Insecure bool
	// SampleRatio is the share of new traces recorded, in [0, 1]. The zero
	// value records every trace, which suits our low request volume.
	// Traces started elsewhere follow the caller's decision.
	SampleRatio float64
	// Exporter, when set, receives every span synchronously as it ends, in
	// addition to OTLP. Tests use it to inspect spans.
	Exporter sdktrace.SpanExporter
}

// Setup installs a global TracerProvider and the W3C TraceContext + Baggage
// propagator. Call the returned shutdown after the gRPC server and consumers
// have stopped, or their last spans are lost; it flushes pending spans.
func Setup(ctx context.Context, cfg Config) (shutdown func(context.Context) error, err error) {
	if cfg.ServiceName == "" {
		return nil, errors.New("telemetry: ServiceName is required")
	}
	if cfg.SampleRatio < 0 || cfg.SampleRatio > 1 {
		return nil, fmt.Errorf("telemetry: SampleRatio %v is outside [0, 1]", cfg.SampleRatio)
	}
	ratio := cfg.SampleRatio
	if ratio == 0 {
		ratio = 1
	}

	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(cfg.ServiceVersion)),
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}

	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	}
	if cfg.OTLPEndpoint != "" {
		exp, err := newExporter(ctx, cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	if cfg.Exporter != nil {
		opts = append(opts, sdktrace.WithSyncer(cfg.Exporter))
	}
	tp := sdktrace.NewTracerProvider(opts...)

	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, nil
}

func newExporter(ctx context.Context, cfg Config) (sdktrace.SpanExporter, error) {
	opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(cfg.OTLPEndpoint)}
	if cfg.Insecure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	exp, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTLP exporter for %s: %w", cfg.OTLPEndpoint, err)
	}
	return exp, nil
}
