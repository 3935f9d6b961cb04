package service

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// The overdue counter counts each recorded case once, and carries nothing
// about whom the case is on: its only attribute is whether it is urgent.
func TestOverdueCounterCarriesOnlyUrgency(t *testing.T) {
	total := counted(t, "ddr.assessment.cases_overdue", "ddr.urgent", func(ctx context.Context) {
		countOverdue(ctx, true)
		countOverdue(ctx, false)
	})
	if total != 2 {
		t.Fatalf("cases_overdue counted %d, want 2", total)
	}
}

// counted runs count against a meter provider of its own and returns what
// the counter name summed; a data point with any attribute but allowed
// fails the test (a metric carries nothing about whom a request is on).
func counted(t *testing.T, name, allowed string, count func(context.Context)) int64 {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })

	ctx := context.Background()
	count(ctx)
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				total += dp.Value
				for _, kv := range dp.Attributes.ToSlice() {
					if string(kv.Key) != allowed {
						t.Errorf("%s carries attribute %s; only %s is allowed", name, kv.Key, allowed)
					}
				}
			}
		}
	}
	return total
}
