package app

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

// Index is the in-memory read model of every plan, rebuilt from the stream
// at start: ListHolds reads it, and the delivery worker finds its work in
// it (a gag that lifted, a retry whose backoff ran out).
type Index struct {
	mu       sync.RWMutex
	plans    map[string]*domain.Plan
	folded   map[string]*folded
	onChange func(requestID string)
}

// folded is what the index keeps of a request to fold it again when its
// SUBJECT key is erased (issue 14): the index lives as long as the process
// and folded the events opened (the customer ids and the imminent-risk
// basis of PlanDerived), while a restarted notification opens them empty.
// Forgetting those fields in the kept events and folding them again gives
// exactly the plan a restart gives, whatever the domain makes of the
// missing values; after the erasure the events are no longer kept, and
// each later one is folded forgotten.
type folded struct {
	events []eventstore.Event
	erased bool
}

// NewIndex returns an empty index. onChange, if set, is called after each
// event is folded in.
func NewIndex(onChange func(requestID string)) *Index {
	return &Index{plans: map[string]*domain.Plan{}, folded: map[string]*folded{}, onChange: onChange}
}

// Projection is what the index folds, for projection.Start: the filters
// of notification's plan events (those decodeEvent reads), each typed, so
// renaming an event breaks the build instead of the index.
func (x *Index) Projection() (filters []string, apply projection.Apply) {
	return projection.Dispatch(
		indexOn[*notificationv1.PlanDerived](x),
		indexOn[*notificationv1.HoldPlaced](x),
		indexOn[*notificationv1.HoldLifted](x),
		indexOn[*notificationv1.RedirectOutcomeRecorded](x),
		indexOn[*notificationv1.NoticeDelivered](x),
		indexOn[*notificationv1.NoticeFailed](x),
		indexOn[*notificationv1.ExemptionRecorded](x),
		indexOn[*notificationv1.DpaConsulted](x),
		indexOn[*notificationv1.WaiverEffortRecorded](x),
		indexOn[*notificationv1.RequestCleared](x),
		indexOn[*notificationv1.ExemptionProposed](x),
		indexOn[*notificationv1.ConsultationOutcomeProposed](x),
		indexOn[*notificationv1.ManualDispatchProposed](x),
		indexOn[*notificationv1.WeakeningProposed](x),
		indexOn[*notificationv1.LiftConfirmed](x),
		indexOn[*notificationv1.AdequacyLost](x),
		indexOn[*notificationv1.StepsStopped](x),
		indexOn[*notificationv1.DpaObjected](x),
		indexOn[*notificationv1.NoticeOverdue](x),
		// The lifecycle events of other services (lifecycle.go): a
		// withdrawal or a reopening stops the delivery worker at once, a
		// recorded disclosure starts an owed notice's clock.
		indexOn[*intakev1.RequestWithdrawn](x),
		indexOn[*assessmentv1.CaseReopened](x),
		indexOn[*reportingv1.DispositionRecorded](x),
		// Intake's record that it erased the request's SUBJECT key: the
		// plan forgets what it can no longer open (issue 14).
		indexOn[*intakev1.TargetsErased](x),
	)
}

func indexOn[T proto.Message](x *Index) projection.TypedApply {
	return projection.On(func(ev eventstore.Event, _ T) error { return x.Apply(ev) })
}

// Apply folds one event in (a projection.Apply).
func (x *Index) Apply(ev eventstore.Event) error {
	if _, ok := ev.Payload.(*intakev1.TargetsErased); ok {
		x.erase(ev.RequestID)
		if x.onChange != nil {
			x.onChange(ev.RequestID)
		}
		return nil
	}
	x.mu.Lock()
	f := x.folded[ev.RequestID]
	if f != nil && f.erased {
		// Opened before the key went (a projection behind the erasure),
		// or not: folded as a restart reads it.
		ev.Payload = proto.Clone(ev.Payload)
		seal.Forget(ev.Payload, keys.Subject)
	}
	x.mu.Unlock()
	de, ok, err := decodeEvent(ev)
	if err != nil {
		return err
	}
	if !ok {
		if de, ok = decodeLifecycle(ev); !ok {
			return nil
		}
	}
	x.mu.Lock()
	p, found := x.plans[ev.RequestID]
	if !found {
		p = &domain.Plan{}
	}
	err = p.Apply(de)
	if err == nil && !found {
		x.plans[ev.RequestID] = p
	}
	if err == nil {
		if f == nil {
			f = &folded{}
			x.folded[ev.RequestID] = f
		}
		if !f.erased {
			f.events = append(f.events, ev)
		}
	}
	x.mu.Unlock()
	if err == nil && x.onChange != nil {
		x.onChange(ev.RequestID)
	}
	return err
}

// erase forgets every SUBJECT field of the request's kept events
// (seal.Forget, driven by the marks, on copies: the events may be shared)
// and folds them again into a new plan, the one a restarted notification
// folds from the same events opened without the key.
func (x *Index) erase(requestID string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	f := x.folded[requestID]
	if f == nil {
		// No plan event yet: those to come are folded forgotten.
		x.folded[requestID] = &folded{erased: true}
		return
	}
	if f.erased {
		return
	}
	p := &domain.Plan{}
	for _, ev := range f.events {
		ev.Payload = proto.Clone(ev.Payload)
		seal.Forget(ev.Payload, keys.Subject)
		de, ok, err := decodeEvent(ev)
		if err == nil && !ok {
			de, ok = decodeLifecycle(ev)
		}
		if err != nil || !ok {
			continue
		}
		// An event the first fold took can only fail here if the domain
		// refuses what the missing values leave; a restart skips it too.
		_ = p.Apply(de)
	}
	x.plans[requestID] = p
	f.events, f.erased = nil, true
}

// Select returns the ids of the plans for which keep is true, in id order.
// keep runs under the index's lock and must not keep the plan.
func (x *Index) Select(keep func(p *domain.Plan) bool) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var ids []string
	for id, p := range x.plans {
		if keep(p) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Holds lists the standing holds at now, oldest first, starting after the
// request id after, at most limit; next is the cursor of the next page.
func (x *Index) Holds(now time.Time, after string, limit int) (holds []domain.OpenHold, next string) {
	x.mu.RLock()
	var all []domain.OpenHold
	for _, p := range x.plans {
		if h, ok := p.OpenHold(now); ok {
			all = append(all, h)
		}
	}
	x.mu.RUnlock()
	slices.SortFunc(all, func(a, b domain.OpenHold) int {
		return cmp.Or(a.PlacedAt.Compare(b.PlacedAt), cmp.Compare(a.RequestID, b.RequestID))
	})
	start := 0
	if after != "" {
		// The cursor is a position, not an element, so a hold lifted
		// between two pages does not end the listing.
		start = len(all)
		for i, h := range all {
			if holdCursor(h) > after {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(all))
	holds = all[start:end]
	if end < len(all) && len(holds) > 0 {
		next = holdCursor(holds[len(holds)-1])
	}
	return holds, next
}

// holdCursor orders like the listing: placement time, then request id.
func holdCursor(h domain.OpenHold) string {
	return fmt.Sprintf("%020d|%s", h.PlacedAt.UnixNano(), h.RequestID)
}

// OverdueNotices counts the owed notices past their due date and still
// undelivered at now, over every plan.
func (x *Index) OverdueNotices(now time.Time) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := 0
	for _, p := range x.plans {
		n += p.OverdueCount(now)
	}
	return n
}
