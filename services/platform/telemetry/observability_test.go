package telemetry_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

func start(t *testing.T, exp *tracetest.InMemoryExporter) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.Start(t.Context(), telemetry.Config{ServiceName: "ddr", Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

// In the all-in-one, each service's spans are reported as that service:
// Jaeger shows the four services of one process apart.
func TestSpansAreReportedAsTheComponentOfTheirContext(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	start(t, exp)

	ctx := telemetry.WithComponent(t.Context(), "assessment")
	ctx, parent := otel.Tracer("test").Start(ctx, "open case")
	_, child := otel.Tracer("test").Start(ctx, "publish")
	child.End()
	parent.End()
	_, other := otel.Tracer("test").Start(t.Context(), "process work")
	other.End()

	want := map[string]string{"open case": "assessment", "publish": "assessment", "process work": "ddr"}
	for _, s := range exp.GetSpans() {
		var service, process string
		for _, kv := range s.Resource.Attributes() {
			switch kv.Key {
			case "service.name":
				service = kv.Value.AsString()
			case "ddr.process":
				process = kv.Value.AsString()
			}
		}
		if service != want[s.Name] || process != "ddr" {
			t.Errorf("span %q: service.name %q, ddr.process %q; want %q, ddr", s.Name, service, process, want[s.Name])
		}
	}
	if n := len(exp.GetSpans()); n != 3 {
		t.Errorf("%d spans exported, want 3", n)
	}
	if p, c := exp.GetSpans()[1], exp.GetSpans()[0]; c.Parent.SpanID() != p.SpanContext.SpanID() {
		t.Errorf("parenting lost across the component's provider")
	}
}

func TestComponentOfMethod(t *testing.T) {
	for method, want := range map[string]string{
		"/ddr.intake.v1.IntakeService/Submit":          "intake",
		"/ddr.reporting.v1.ReportingService/GetRecord": "reporting",
		"/grpc.health.v1.Health/Check":                 "",
		"bogus":                                        "",
	} {
		if got := telemetry.ComponentOfMethod(method); got != want {
			t.Errorf("ComponentOfMethod(%q) = %q, want %q", method, got, want)
		}
	}
}

// withRequestID builds a message type with a request_id field, like every
// request message of ours about one request.
func withRequestID(t *testing.T, id string) *dynamicpb.Message {
	t.Helper()
	fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: new("t.proto"), Package: new("t"), Syntax: new("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: new("GetRequest"),
			Field: []*descriptorpb.FieldDescriptorProto{{
				Name: new("request_id"), JsonName: new("requestId"), Number: new(int32(1)),
				Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			}},
		}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	md := fd.Messages().Get(0)
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByName("request_id"), protoreflect.ValueOfString(id))
	return m
}

func TestServerSpanCarriesTheRequestIDOfRequestOrResponse(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	start(t, exp)
	icpt := telemetry.UnaryServerRequestID()
	call := func(name string, req, resp any) {
		ctx, span := otel.Tracer("test").Start(t.Context(), name)
		_, _ = icpt(ctx, req, &grpc.UnaryServerInfo{}, func(context.Context, any) (any, error) { return resp, nil })
		span.End()
	}
	call("get", withRequestID(t, "req-1"), wrapperspb.String("x"))
	call("submit", wrapperspb.String("personal@example.org"), withRequestID(t, "req-2"))
	call("list", wrapperspb.String("x"), wrapperspb.String("y"))

	want := map[string]string{"get": "req-1", "submit": "req-2", "list": ""}
	for _, s := range exp.GetSpans() {
		got := ""
		for _, kv := range s.Attributes {
			if kv.Key == telemetry.AttrRequestID {
				got = kv.Value.AsString()
			}
		}
		if got != want[s.Name] {
			t.Errorf("span %q: ddr.request_id = %q, want %q", s.Name, got, want[s.Name])
		}
	}
}

// Instruments made before another provider was installed must follow it,
// or a second process in a test binary would lose its metrics.
func TestInstrumentsFollowTheCurrentMeterProvider(t *testing.T) {
	get := telemetry.Instruments("test", func(m metric.Meter) metric.Int64Counter {
		return telemetry.Counter(m, "ddr.test.things", "things")
	})
	for _, n := range []string{"first", "second"} {
		tel := start(t, tracetest.NewInMemoryExporter())
		get().Add(t.Context(), 1)
		rec := httptest.NewRecorder()
		tel.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Body)
		if !strings.Contains(string(body), "ddr_test_things_total 1\n") {
			t.Errorf("%s provider's metrics lack ddr_test_things_total 1:\n%s", n, body)
		}
	}
}
