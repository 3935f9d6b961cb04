package service

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/ports"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Issue 18's legal clocks in the process: the calendars loaded at start,
// the ClocksService, the overdue sweep and its metrics.

// clocks is the component's part of the legal clocks.
type clocks struct {
	srv       *ports.ClocksServer
	unobserve func()
}

// loadCalendars reads the calendars file (the embedded one when path is
// empty). An invalid file stops startup with the problems it has, rather
// than counting deadlines on wrong holidays.
func loadCalendars(path string) (deadline.Calendars, error) {
	cals, err := deadline.LoadCalendars(path)
	if err != nil {
		return nil, fmt.Errorf("assessment calendars (--assessment-calendars): %w", err)
	}
	return cals, nil
}

var clockInstruments = telemetry.Instruments(meterScope, func(m metric.Meter) metric.Int64Counter {
	return telemetry.Counter(m, "ddr.assessment.deadlines_overdue", "Legal deadlines (the authority's, an EPOC's, ...) that passed unmet, counted once per due time")
})

// fireClocks records every deadline passed unmet, once per due time
// (app.FireDeadlines derives the event ids, so replicas write each once),
// and counts it. Its only attribute is the deadline's id, e.g.
// "epoc/transmit": nothing about whom the request is on.
func (c *Component) fireClocks(ctx context.Context) {
	for _, id := range c.queue.Owed(c.cfg.Now()) {
		fired, err := c.app.FireDeadlines(ctx, id)
		if err != nil && ctx.Err() == nil {
			c.log.WarnContext(ctx, "recording a deadline overdue failed", "request_id", id, "error", err)
		}
		for _, f := range fired {
			c.log.InfoContext(ctx, "deadline overdue", "request_id", id, "deadline", f.DeadlineID, "due", f.Due)
			countDeadlineOverdue(ctx, f.DeadlineID)
		}
	}
}

// countDeadlineOverdue counts a deadline as it is recorded overdue, once.
// Its only attribute is the deadline's id ("epoc/transmit", "authority"),
// a name the code gives, never anything from the request.
func countDeadlineOverdue(ctx context.Context, deadlineID string) {
	clockInstruments().Add(ctx, 1, metric.WithAttributes(attribute.String("ddr.deadline", deadlineID)))
}

// maxNearest caps the nearest-due gauge: with no legal deadline open it
// reads 30 days, "nothing due soon", rather than no value at all.
const maxNearest = 30 * 24 * time.Hour

// observeClocks reports the open legal deadlines past due and the time to
// the nearest one. The counter starts at 0 so that its increase is seen
// from the first deadline passed.
func observeClocks(q *app.Queue, now func() time.Time) (unregister func(), err error) {
	clockInstruments().Add(context.Background(), 0)
	return telemetry.ObserveGauges(meterScope,
		telemetry.Gauge{
			Name:        "ddr.assessment.deadlines_overdue_open",
			Description: "Open legal deadlines past their due time now",
			Observe:     func(context.Context) float64 { return float64(q.ClockStats(now()).Overdue) },
		},
		telemetry.Gauge{
			Name:        "ddr.assessment.deadline_nearest_due",
			Description: "Time to the nearest open legal deadline (negative once passed; 30 days when none is open)",
			Unit:        "s",
			Observe: func(context.Context) float64 {
				s := q.ClockStats(now())
				if !s.HasNearest {
					return maxNearest.Seconds()
				}
				return min(s.NearestDue, maxNearest.Seconds())
			},
		},
	)
}
