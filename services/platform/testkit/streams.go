package testkit

import (
	"context"
	"os"
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

// MainTraced is the TestMain of a package whose tests check the trace an
// event carries: it installs the W3C trace-context and baggage propagator
// and runs the tests. The global default propagator is a no-op; telemetry
// setup installs this one in the binaries.
func MainTraced(m *testing.M) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	os.Exit(m.Run())
}
