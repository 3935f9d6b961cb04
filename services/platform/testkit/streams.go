package testkit

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

// Streams starts a real embedded JetStream server with the DDR streams
// and returns its JetStream handle; the server stops with the test.
func Streams(tb testing.TB) jetstream.JetStream {
	tb.Helper()
	env := natstest.Start(tb)
	if err := eventstore.EnsureStreams(context.Background(), env.JS, eventstore.StreamOptions{}); err != nil {
		tb.Fatalf("EnsureStreams: %v", err)
	}
	return env.JS
}

// PropagateTraceContext installs the W3C trace-context and baggage
// propagator. The global default is a no-op; telemetry setup installs
// this one in the binaries, and a TestMain calls this so that the tests
// see the trace an event carries as the services do.
func PropagateTraceContext() {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}
