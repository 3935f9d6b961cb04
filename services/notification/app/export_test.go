package app

import (
	"time"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/domain"
)

// PlanOf is the index's plan of the request as GetPlan would render it at
// at, for tests comparing the long-lived index with a fresh one.
func (x *Index) PlanOf(requestID string, at time.Time) (*notificationv1.Plan, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	p, ok := x.plans[requestID]
	if !ok {
		return nil, false
	}
	return EncodePlan(PlanView{Plan: p, At: at}), true
}

// SweepSelections are the two selections [Deliverer.Sweep] makes at now:
// the requests with deliveries or a clearance due, and those owing a
// NoticeOverdue.
func (d *Deliverer) SweepSelections(now time.Time) (due, late []string) {
	due = d.idx.Select(func(p *domain.Plan) bool { return len(d.ready(p, now, false)) > 0 || clearable(p, now) })
	late = d.idx.Select(func(p *domain.Plan) bool { return len(p.OverdueNotices(now)) > 0 })
	return due, late
}
