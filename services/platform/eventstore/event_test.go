package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

func samplePayload(t testing.TB) proto.Message {
	t.Helper()
	s, err := structpb.NewStruct(map[string]any{"country": "NL", "count": 3, "urgent": true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEnvelope_RoundTrip(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ts, _ := trace.ParseTraceState("ddr=abc")
	injected := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, TraceState: ts})
	ctx := trace.ContextWithSpanContext(context.Background(), injected)

	in := eventstore.Event{
		ID:        "evt-1",
		RequestID: "req-1",
		Service:   "intake",
		Name:      "received",
		Time:      time.Date(2026, 11, 28, 10, 11, 12, 123456789, time.FixedZone("CET", 3600)),
		Actor:     "spiffe://ddr/intake",
		Payload:   samplePayload(t),
	}
	m, err := eventstore.ToMsg(ctx, in)
	if err != nil {
		t.Fatal(err)
	}

	if m.Subject != "ddr.req.req-1.intake.received" {
		t.Errorf("subject = %q", m.Subject)
	}
	wantHeaders := map[string]string{
		"ce-id":          "evt-1",
		"Nats-Msg-Id":    "evt-1",
		"ce-type":        "google.protobuf.Struct",
		"ce-source":      "ddr/intake",
		"ce-time":        "2026-11-28T09:11:12.123456789Z",
		"ce-specversion": "1.0",
		"ddr-actor":      "spiffe://ddr/intake",
		"content-type":   "application/protobuf",
		"traceparent":    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"tracestate":     "ddr=abc",
	}
	for k, want := range wantHeaders {
		if got := m.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if _, ok := m.Header["Traceparent"]; ok {
		t.Error("trace header was canonicalised to Traceparent")
	}

	out, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, 42)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Source = "ddr/intake"
	want.Type = "google.protobuf.Struct"
	want.Time = in.Time.UTC()
	want.Sequence = 42
	want.Subject = "ddr.req.req-1.intake.received"
	if diff := cmp.Diff(want, out, protocmp.Transform()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	extracted := trace.SpanContextFromContext(eventstore.ContextFromHeaders(context.Background(), m.Header))
	if !extracted.IsRemote() {
		t.Error("extracted span context is not remote")
	}
	if !extracted.Equal(injected.WithRemote(true)) {
		t.Errorf("extracted span context %+v, want %+v", extracted, injected)
	}
}

func TestToMsg_FillsIDAndTime(t *testing.T) {
	before := time.Now().UTC()
	m, err := eventstore.ToMsg(context.Background(), eventstore.Event{RequestID: "r", Service: "s", Name: "n", Payload: wrapperspb.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	id := m.Header.Get("ce-id")
	if len(id) != 36 || id[14] != '7' {
		t.Errorf("generated id %q is not a UUIDv7", id)
	}
	ts, err := time.Parse(time.RFC3339Nano, m.Header.Get("ce-time"))
	if err != nil || ts.Before(before) || ts.Location() != time.UTC {
		t.Errorf("ce-time %q (%v) not a UTC time after %v", m.Header.Get("ce-time"), err, before)
	}
}

func TestToMsg_RejectsInvalidEvents(t *testing.T) {
	valid := eventstore.Event{RequestID: "r", Service: "s", Name: "n", Payload: wrapperspb.String("x")}
	tests := map[string]func(*eventstore.Event){
		"dotted request id":   func(e *eventstore.Event) { e.RequestID = "a.b" },
		"wildcard service":    func(e *eventstore.Event) { e.Service = "*" },
		"empty name":          func(e *eventstore.Event) { e.Name = "" },
		"no payload":          func(e *eventstore.Event) { e.Payload = nil },
		"nil typed payload":   func(e *eventstore.Event) { e.Payload = (*wrapperspb.StringValue)(nil) },
		"type mismatch":       func(e *eventstore.Event) { e.Type = "ddr.intake.v1.Other" },
		"subject mismatch":    func(e *eventstore.Event) { e.Subject = "ddr.req.other.s.n" },
		"actor with newline":  func(e *eventstore.Event) { e.Actor = "a\r\nNats-Msg-Id: x" },
		"id with space":       func(e *eventstore.Event) { e.ID = "a b" },
		"source with control": func(e *eventstore.Event) { e.Source = "a\x00" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			ev := valid
			mutate(&ev)
			if _, err := eventstore.ToMsg(context.Background(), ev); !errors.Is(err, eventstore.ErrInvalidEvent) {
				t.Errorf("ToMsg = %v, want ErrInvalidEvent", err)
			}
		})
	}
}

func TestFromMsg_TypedErrors(t *testing.T) {
	good, err := eventstore.ToMsg(context.Background(), eventstore.Event{RequestID: "r", Service: "s", Name: "n", Payload: wrapperspb.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		subject string
		mutate  func(h nats.Header) []byte
		want    error
	}{
		{"unknown type", good.Subject, func(h nats.Header) []byte { h.Set("ce-type", "ddr.nowhere.v1.Gone"); return good.Data }, eventstore.ErrUnknownType},
		{"missing type", good.Subject, func(h nats.Header) []byte { h.Del("ce-type"); return good.Data }, eventstore.ErrMalformed},
		{"missing id", good.Subject, func(h nats.Header) []byte { h.Del("ce-id"); return good.Data }, eventstore.ErrMalformed},
		{"bad time", good.Subject, func(h nats.Header) []byte { h.Set("ce-time", "yesterday"); return good.Data }, eventstore.ErrMalformed},
		{"bad spec version", good.Subject, func(h nats.Header) []byte { h.Set("ce-specversion", "0.3"); return good.Data }, eventstore.ErrMalformed},
		{"json content", good.Subject, func(h nats.Header) []byte { h.Set("content-type", "application/json"); return good.Data }, eventstore.ErrMalformed},
		{"garbage payload", good.Subject, func(nats.Header) []byte { return []byte{0xff, 0xff, 0xff} }, eventstore.ErrMalformed},
		{"bad subject", "ddr.req.r.s", func(nats.Header) []byte { return good.Data }, eventstore.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := nats.Header{}
			for k, v := range good.Header {
				h[k] = append([]string(nil), v...)
			}
			data := tt.mutate(h)
			_, err := eventstore.FromMsg(tt.subject, h, data, 9)
			if !errors.Is(err, tt.want) {
				t.Fatalf("FromMsg = %v, want %v", err, tt.want)
			}
			var de *eventstore.DecodeError
			if !errors.As(err, &de) || de.Sequence != 9 || de.Subject != tt.subject {
				t.Errorf("FromMsg error %v is not a DecodeError for seq 9", err)
			}
		})
	}
}
