package eventstore_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// gaugeOf returns the value of gauge name for stream at a collection.
func gaugeOf(t *testing.T, r *sdkmetric.ManualReader, name, stream string) (int64, bool) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			g, ok := m.Data.(metricdata.Gauge[int64])
			if m.Name != name || !ok {
				continue
			}
			for _, dp := range g.DataPoints {
				if v, ok := dp.Attributes.Value("stream"); ok && v == attribute.StringValue(stream) {
					return dp.Value, true
				}
			}
		}
	}
	return 0, false
}

// The storage alerts read the record's size: it is reported per stream at
// each scrape and grows with every event appended.
func TestObserveStorage_ReportsTheRecordsSizePerStream(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	t.Cleanup(func() { otel.SetMeterProvider(prev); _ = mp.Shutdown(context.Background()) })

	js := newJS(t)
	unobserve, err := eventstore.ObserveStorage(js)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unobserve)
	if n, ok := gaugeOf(t, reader, "ddr.stream.messages", eventstore.StreamName); !ok || n != 0 {
		t.Fatalf("messages of an empty record = %d, %v; want 0, true", n, ok)
	}
	if n, ok := gaugeOf(t, reader, "ddr.stream.bytes", eventstore.DLQStreamName); !ok || n != 0 {
		t.Fatalf("bytes of an empty dead-letter stream = %d, %v; want 0, true", n, ok)
	}
	store := eventstore.NewStore(js)
	if _, err := store.Append(context.Background(), "r1", 0, ev("intake", "noted", "one"), ev("intake", "noted", "two")); err != nil {
		t.Fatal(err)
	}
	if n, ok := gaugeOf(t, reader, "ddr.stream.messages", eventstore.StreamName); !ok || n != 2 {
		t.Errorf("messages after two appends = %d, %v; want 2, true", n, ok)
	}
	if n, ok := gaugeOf(t, reader, "ddr.stream.bytes", eventstore.StreamName); !ok || n <= 0 {
		t.Errorf("bytes after two appends = %d, %v; want > 0", n, ok)
	}
}
