package app

import (
	"time"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
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
