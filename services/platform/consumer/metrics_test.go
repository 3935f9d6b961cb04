package consumer_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// value sums the data points of metric name whose attributes include want.
func value(t *testing.T, r *sdkmetric.ManualReader, name string, want ...attribute.KeyValue) (int64, bool) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var sum int64
	found := false
	match := func(set attribute.Set) bool {
		for _, kv := range want {
			if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
				return false
			}
		}
		return true
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					if match(dp.Attributes) {
						sum, found = sum+dp.Value, true
					}
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					if match(dp.Attributes) {
						sum, found = sum+dp.Value, true
					}
				}
			}
		}
	}
	return sum, found
}

// What SRE see of reactors: outcomes, redeliveries, lag and dead letters,
// per consumer.
func TestMetricsCountOutcomesRedeliveriesLagAndDeadLetters(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	t.Cleanup(func() { otel.SetMeterProvider(prev); _ = mp.Shutdown(context.Background()) })

	js := newJS(t)
	unobserve, err := consumer.ObserveDeadLetters(js)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unobserve)
	seq, err := eventstore.NewStore(js).Append(context.Background(), "r1", 0, received("a"))
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	start(t, js, consumer.Config{Name: "flaky"}, func(context.Context, eventstore.Event) error {
		if calls.Add(1) <= 2 {
			return errors.New("transient")
		}
		return nil
	})
	start(t, js, consumer.Config{Name: "strict"}, func(context.Context, eventstore.Event) error {
		return consumer.Permanent(errors.New("invariant broken"))
	})
	testkit.Eventually(t, "flaky settled", settled(t, js, "flaky", seq))
	testkit.Eventually(t, "strict settled", settled(t, js, "strict", seq))

	c := func(k, v string) attribute.KeyValue { return attribute.String(k, v) }
	for _, want := range []struct {
		metric string
		attrs  []attribute.KeyValue
		n      int64
	}{
		{"ddr.events.consumed", []attribute.KeyValue{c("consumer", "flaky"), c("outcome", "retry"), c("service", "intake"), c("event", "received")}, 2},
		{"ddr.events.consumed", []attribute.KeyValue{c("consumer", "flaky"), c("outcome", "acked")}, 1},
		{"ddr.events.consumed", []attribute.KeyValue{c("consumer", "strict"), c("outcome", "dead_lettered")}, 1},
		{"ddr.events.redelivered", []attribute.KeyValue{c("consumer", "flaky")}, 2},
		{"ddr.events.redelivered", []attribute.KeyValue{c("consumer", "strict")}, 0},
		{"ddr.consumer.pending", []attribute.KeyValue{c("consumer", "flaky")}, 0},
		{"ddr.consumer.ack_floor", []attribute.KeyValue{c("consumer", "flaky")}, int64(seq)},
		{"ddr.dead_letters", []attribute.KeyValue{c("consumer", "strict")}, 1},
		{"ddr.dead_letters", []attribute.KeyValue{c("consumer", "flaky")}, 0},
	} {
		got, ok := value(t, reader, want.metric, want.attrs...)
		if !ok || got != want.n {
			t.Errorf("%s%v = %d (present %v), want %d", want.metric, want.attrs, got, ok, want.n)
		}
	}
}
