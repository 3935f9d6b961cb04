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
	reader := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })

	ctx := context.Background()
	countOverdue(ctx, true)
	countOverdue(ctx, false)
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "ddr.assessment.cases_overdue" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				total += dp.Value
				for _, kv := range dp.Attributes.ToSlice() {
					if kv.Key != "ddr.urgent" {
						t.Errorf("metric carries attribute %s; only non-personal attributes are allowed", kv.Key)
					}
				}
			}
		}
	}
	if total != 2 {
		t.Fatalf("cases_overdue counted %d, want 2", total)
	}
}
