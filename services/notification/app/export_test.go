package app

import (
	"errors"
	"fmt"
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
	return d.due(d.idx.SelectLive, now, nil), d.late(d.idx.SelectLive, now)
}

// ScannedSweepSelections are [Deliverer.SweepSelections] made over every
// plan of the index.
func (d *Deliverer) ScannedSweepSelections(now time.Time) (due, late []string) {
	return d.due(d.idx.Select, now, nil), d.late(d.idx.Select, now)
}

// ScannedHolds is [Index.Holds] over every plan.
func (x *Index) ScannedHolds(now time.Time, after string, limit int) ([]domain.OpenHold, string) {
	return x.holdsAmong(x.plans, now, after, limit)
}

// ScannedOverdueNotices is [Index.OverdueNotices] over every plan.
func (x *Index) ScannedOverdueNotices(now time.Time) int { return x.overdueAmong(x.plans, now) }

// Live returns the ids of the plans the index keeps as possibly owing
// work, in id order.
func (x *Index) Live() []string { return x.SelectLive(func(*domain.Plan) bool { return true }) }

// CheckSets reports how the index's sets differ from what its plans say
// they should hold: every plan that may owe work among the live ones,
// every held one among the held, each as the very plan the index keeps,
// and nothing else in either.
func (x *Index) CheckSets() error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var errs []error
	check := func(name string, set map[string]*domain.Plan, in func(p *domain.Plan) bool) {
		for id, p := range x.plans {
			if q, ok := set[id]; ok != in(p) || (ok && q != p) {
				errs = append(errs, fmt.Errorf("%s: plan %s in the set %v (the very plan: %v), should be %v", name, id, ok, q == p, in(p)))
			}
		}
		for id := range set {
			if _, ok := x.plans[id]; !ok {
				errs = append(errs, fmt.Errorf("%s: %s in the set without a plan", name, id))
			}
		}
	}
	check("live", x.live, x.mayOweWork)
	check("held", x.held, func(p *domain.Plan) bool { return p.Hold().Open() })
	return errors.Join(errs...)
}
