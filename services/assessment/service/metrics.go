package service

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

const meterScope = "github.com/ddrsuite/ddr/services/assessment"

var instruments = telemetry.Instruments(meterScope, func(m metric.Meter) metric.Int64Counter {
	return telemetry.Counter(m, "ddr.assessment.cases_overdue", "Cases that passed their review deadline undecided")
})

// countOverdue counts a case as it is recorded overdue, once. Its only
// attribute says whether the case is urgent: nothing about whom it is on.
func countOverdue(ctx context.Context, urgent bool) {
	instruments().Add(ctx, 1, metric.WithAttributes(attribute.Bool("ddr.urgent", urgent)))
}

// observeOverdue reports how many open cases are past their review
// deadline now (the counter ddr.assessment.cases_overdue counts them once
// as they pass it).
func observeOverdue(q *app.Queue, now func() time.Time) (unregister func(), err error) {
	return telemetry.ObserveGauges(meterScope,
		telemetry.Gauge{
			Name:        "ddr.assessment.cases_overdue_open",
			Description: "Open cases past their review deadline now",
			Observe:     func(context.Context) float64 { return float64(q.OverdueCount(now())) },
		},
	)
}
