package service

import (
	"context"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// observeOverdue reports how many open cases are past their review
// deadline now (the counter ddr.assessment.cases_overdue counts them once
// as they pass it).
func observeOverdue(q *app.Queue, now func() time.Time) (unregister func(), err error) {
	return telemetry.ObserveGauges("github.com/ddrsuite/ddr/services/assessment",
		telemetry.Gauge{
			Name:        "ddr.assessment.cases_overdue_open",
			Description: "Open cases past their review deadline now",
			Observe:     func(context.Context) float64 { return float64(q.OverdueCount(now())) },
		},
	)
}
