package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
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

// Telemetry is what [Start] installed.
type Telemetry struct {
	// Metrics serves every metric of the process in the Prometheus text
	// format (mount it on /metrics).
	Metrics http.Handler

	shutdown func(context.Context) error
}

// Shutdown flushes pending spans and stops the providers. Call it after
// the gRPC server and consumers have stopped, or their last spans are lost.
func (t *Telemetry) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// Setup is [Start] for callers that need only the shutdown.
func Setup(ctx context.Context, cfg Config) (shutdown func(context.Context) error, err error) {
	t, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return t.Shutdown, nil
}

// Start installs the global TracerProvider, the W3C TraceContext + Baggage
// propagator and the global MeterProvider, whose metrics [Telemetry.Metrics]
// serves.
//
// Spans started under [WithComponent] are reported as that component's
// service (service.name = "intake", ...), with ddr.process naming the
// process; the others as ServiceName. One process hosting four services
// thus shows four services in Jaeger.
func Start(ctx context.Context, cfg Config) (*Telemetry, error) {
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
	res, err := newResource(ctx, cfg, cfg.ServiceName)
	if err != nil {
		return nil, err
	}

	var procs []sdktrace.SpanProcessor
	if cfg.OTLPEndpoint != "" {
		exp, err := newExporter(ctx, cfg)
		if err != nil {
			return nil, err
		}
		procs = append(procs, sdktrace.NewBatchSpanProcessor(exp))
	}
	if cfg.Exporter != nil {
		procs = append(procs, sdktrace.NewSimpleSpanProcessor(cfg.Exporter))
	}
	sampler := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
	newProvider := func(res *resource.Resource) *sdktrace.TracerProvider {
		opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(sampler)}
		for _, p := range procs {
			opts = append(opts, sdktrace.WithSpanProcessor(shared{p}))
		}
		return sdktrace.NewTracerProvider(opts...)
	}
	rp := &routingProvider{
		name: cfg.ServiceName,
		byName: map[string]*sdktrace.TracerProvider{
			cfg.ServiceName: newProvider(res),
		},
		build: func(component string) *sdktrace.TracerProvider {
			r, err := newResource(context.Background(), cfg, component)
			if err != nil {
				otel.Handle(err)
				r = res
			}
			return newProvider(r)
		},
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pexp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("telemetry: prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(pexp),
		// otelgrpc's per-call histogram, moved into our namespace.
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Name: "rpc.server.call.duration"},
			sdkmetric.Stream{Name: "ddr.rpc.server.call.duration"},
		)),
	)

	otel.SetTracerProvider(rp)
	otel.SetMeterProvider(mp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return &Telemetry{
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		shutdown: func(ctx context.Context) error {
			errs := []error{rp.shutdown(ctx)}
			for _, p := range procs {
				errs = append(errs, p.Shutdown(ctx))
			}
			errs = append(errs, mp.Shutdown(ctx))
			return errors.Join(errs...)
		},
	}, nil
}

func newResource(ctx context.Context, cfg Config, service string) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(
			semconv.ServiceName(service), semconv.ServiceVersion(cfg.ServiceVersion),
			attribute.String("ddr.process", cfg.ServiceName),
		),
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return res, nil
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

// shared lets one span processor serve several providers: a provider's
// shutdown only flushes it; Start's shutdown stops it once, last.
type shared struct{ sdktrace.SpanProcessor }

func (s shared) Shutdown(ctx context.Context) error { return s.ForceFlush(ctx) }

// routingProvider hands each span to the provider of the component in its
// context, made on first use. One provider per component is what gives
// each its own resource.
type routingProvider struct {
	embedded.TracerProvider
	name   string
	build  func(component string) *sdktrace.TracerProvider
	mu     sync.Mutex
	byName map[string]*sdktrace.TracerProvider
}

func (p *routingProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return routingTracer{p: p, name: name, opts: opts}
}

func (p *routingProvider) provider(component string) *sdktrace.TracerProvider {
	if component == "" {
		component = p.name
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tp, ok := p.byName[component]
	if !ok {
		tp = p.build(component)
		p.byName[component] = tp
	}
	return tp
}

func (p *routingProvider) shutdown(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, tp := range p.byName {
		errs = append(errs, tp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

type routingTracer struct {
	embedded.Tracer
	p    *routingProvider
	name string
	opts []trace.TracerOption
}

func (t routingTracer) Start(ctx context.Context, spanName string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return t.p.provider(ComponentFromContext(ctx)).Tracer(t.name, t.opts...).Start(ctx, spanName, opts...)
}
