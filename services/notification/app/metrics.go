package app

import (
	"go.opentelemetry.io/otel/metric"

	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// deliveries counts notice delivery attempts by channel and outcome
// (delivered, failed): the notice delivery success SLO (RUNBOOK.md).
var deliveries = telemetry.Instruments("github.com/ddrsuite/ddr/services/notification", func(m metric.Meter) metric.Int64Counter {
	return telemetry.Counter(m, "ddr.notification.deliveries", "Notice delivery attempts by channel and outcome")
})
