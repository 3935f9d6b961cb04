package service

import (
	"context"
	"math"
	"time"

	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// observeHolds reports the standing holds from the index at each scrape:
// how many, and how long the oldest has stood. A hold blocks a disclosure
// until a DPA answers or a redirect succeeds (clauses 2.2, 4.2.1), so SRE
// watch both. No request ids: they would be unbounded labels.
func observeHolds(index *app.Index, now func() time.Time) (unregister func(), err error) {
	holds := func() (n int, oldest time.Duration) {
		hs, _ := index.Holds(now(), "", math.MaxInt32)
		if len(hs) > 0 {
			oldest = hs[0].Age // oldest first
		}
		return len(hs), oldest
	}
	return telemetry.ObserveGauges("github.com/ddrsuite/ddr/services/notification",
		telemetry.Gauge{
			Name:        "ddr.notification.holds_open",
			Description: "Requests whose disclosure is on hold now (clauses 2.2, 4.2.1)",
			Observe:     func(context.Context) float64 { n, _ := holds(); return float64(n) },
		},
		telemetry.Gauge{
			// Alert DDRNoticeOverdue: a gauge, so it is served (0) before
			// the first overdue notice, and clears once delivered.
			Name:        "ddr.notification.notices_overdue_open",
			Description: "Owed customer notices (after an emergency disclosure, after a gag) past their due date and undelivered now (clause 4.1.2)",
			Observe:     func(context.Context) float64 { return float64(index.OverdueNotices(now())) },
		},
		telemetry.Gauge{
			Name:        "ddr.notification.hold_oldest_age",
			Description: "Age of the oldest standing hold; 0 when there is none",
			Unit:        "s",
			Observe:     func(context.Context) float64 { _, d := holds(); return d.Seconds() },
		},
	)
}
