package telemetry_test

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// collector is a minimal OTLP trace receiver: it proves spans really leave
// the process over gRPC, with our resource attributes.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu       sync.Mutex
	requests []*collectortrace.ExportTraceServiceRequest
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, req)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func startCollector(t *testing.T) (*collector, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	s := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(s, c)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	return c, lis.Addr().String()
}

func TestSetupExportsSpansWithServiceNameOnShutdown(t *testing.T) {
	c, addr := startCollector(t)
	shutdown, err := telemetry.Setup(t.Context(), telemetry.Config{
		ServiceName: "intake", ServiceVersion: "v0.0.1", OTLPEndpoint: addr, Insecure: true,
	})
	if err != nil {
		t.Fatal(err)
	}

	_, span := otel.Tracer("test").Start(t.Context(), "decide")
	span.End()
	if err := shutdown(t.Context()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	var service string
	for _, req := range c.requests {
		for _, rs := range req.GetResourceSpans() {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					names = append(names, s.GetName())
				}
			}
		}
	}
	if len(names) != 1 || names[0] != "decide" {
		t.Errorf("collector got spans %q, want [decide]", names)
	}
	if service != "intake" {
		t.Errorf("service.name = %q, want intake", service)
	}
}

func TestSetupWithoutEndpointStillCreatesTraceIDsAndPropagatesW3C(t *testing.T) {
	shutdown, err := telemetry.Setup(t.Context(), telemetry.Config{ServiceName: "intake"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(context.Background()) })

	ctx, span := otel.Tracer("test").Start(t.Context(), "decide")
	defer span.End()
	if !span.SpanContext().IsValid() {
		t.Fatal("span context is not valid: no real TracerProvider installed")
	}

	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	if carrier.Get("traceparent") == "" {
		t.Errorf("injected headers %v lack traceparent", carrier)
	}
	fields := otel.GetTextMapPropagator().Fields()
	if !slices.Contains(fields, "baggage") {
		t.Errorf("propagator fields %v lack baggage", fields)
	}
}

func TestSetupRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]telemetry.Config{
		"no service name": {},
		"ratio above one": {ServiceName: "x", SampleRatio: 1.5},
		"negative ratio":  {ServiceName: "x", SampleRatio: -0.1},
	} {
		if _, err := telemetry.Setup(t.Context(), cfg); err == nil {
			t.Errorf("%s: Setup() error = nil", name)
		}
	}
}
