package eventstore_test

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

func TestMain(m *testing.M) {
	// The global default propagator is a no-op; telemetry setup installs
	// W3C trace context in the binaries, the tests do it here.
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	os.Exit(m.Run())
}

// newJS starts a real embedded JetStream server with the DDR streams.
func newJS(tb testing.TB) jetstream.JetStream {
	tb.Helper()
	env := natstest.Start(tb)
	if err := eventstore.EnsureStreams(context.Background(), env.JS, eventstore.StreamOptions{}); err != nil {
		tb.Fatalf("EnsureStreams: %v", err)
	}
	return env.JS
}
