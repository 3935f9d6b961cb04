package service

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// The legal-deadline counter counts each deadline recorded overdue once
// and carries only the deadline's id: nothing about whom the request is on.
func TestDeadlineOverdueCounterCarriesOnlyTheDeadlineID(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })

	ctx := context.Background()
	countDeadlineOverdue(ctx, "epoc/transmit")
	countDeadlineOverdue(ctx, "authority")
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "ddr.assessment.deadlines_overdue" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				total += dp.Value
				for _, kv := range dp.Attributes.ToSlice() {
					if kv.Key != "ddr.deadline" {
						t.Errorf("metric carries attribute %s; only the deadline's id is allowed", kv.Key)
					}
				}
			}
		}
	}
	if total != 2 {
		t.Fatalf("deadlines_overdue counted %d, want 2", total)
	}
}
