package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	optionsv1 "github.com/ddrsuite/ddr/gen/ddr/options/v1"
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
//
// It keeps the plans, not the events they were folded from (issue 19:
// kept for the life of the process, the events took more memory per
// request than the plan itself; BenchmarkIndexHeapPerRequest). When
// intake erases a request's SUBJECT key (TargetsErased), a plan that
// folded SUBJECT values is folded again from the stream, with those
// fields forgotten: exactly the plan a restarted notification folds,
// which can no longer open them (issue 14).
//
// Beside every plan it keeps two smaller sets, so that what the delivery
// worker and the staff read every few seconds costs what the open work
// costs, not what the whole record does (issue 19: the record only grows
// for years, the open work does not): the plans that may still owe work
// ([domain.Plan.MayOweWork]: the only ones the worker's sweep can find
// anything to do in, or the overdue gauge count) and the plans with a
// standing hold (the only ones ListHolds lists). Membership follows the
// plan's events only, never the time, so it is settled wherever a plan
// changes (place): after each event folded, also a refused one, and when
// an erasure folds a plan again or drops it.
type Index struct {
	mu    sync.RWMutex
	plans map[string]*domain.Plan
	// live: the plans that may still owe work, less those every worker
	// on the index finds settled for its contacts (settled).
	live map[string]*domain.Plan
	// settled are the workers' checks ([Index.settleWith]): a plan
	// leaves the live ones only if each of them finds it settled.
	settled []func(p *domain.Plan) bool
	// held: the plans whose hold stands ([domain.Hold.Open]).
	held map[string]*domain.Plan
	// opened holds the requests whose plan folded a SUBJECT value: only
	// those are folded again at an erasure. The others (most, when the
	// index is rebuilt at a start: the key of an old request is long gone
	// and its events open without those values) need no read of the
	// stream.
	opened map[string]struct{}
	// erased holds the requests whose SUBJECT key is gone: each later
	// event is folded with those fields forgotten.
	erased map[string]struct{}
	// stale holds the erased requests whose plan could not be folded again
	// from the stream (see refold): their plan is dropped, not kept with
	// what the erasure took, and folded again at their next event.
	stale map[string]struct{}

	history Histories
	// types are the event types the index folds, each true if its
	// payload has SUBJECT-marked fields (false: folded all the same).
	types    map[string]bool
	filters  []string
	apply    projection.Apply
	onChange func(requestID string)
}

// Histories reads a request's events: notification's event store, which
// opens their sealed fields as the projection does.
type Histories interface {
	Load(ctx context.Context, requestID string) (eventstore.History, error)
}

// Bounds of a refold's read, which holds up the projection's single
// goroutine (it must: later events fold onto the refolded plan): a read of
// one request's events takes milliseconds, and a stream gone for longer
// than the attempts leaves the plan stale rather than the index stopped.
const (
	refoldAttempts = 5
	refoldTimeout  = 5 * time.Second
)

// NewIndex returns an empty index. history is where an erased request's
// plan is folded again from (nil: an erasure drops the plan until its next
// event). onChange, if set, is called after each event the index is
// handed, once it is folded in (or refused).
func NewIndex(history Histories, onChange func(requestID string)) *Index {
	x := &Index{
		plans:    map[string]*domain.Plan{},
		live:     map[string]*domain.Plan{},
		held:     map[string]*domain.Plan{},
		opened:   map[string]struct{}{},
		erased:   map[string]struct{}{},
		stale:    map[string]struct{}{},
		history:  history,
		types:    map[string]bool{},
		onChange: onChange,
	}
	x.filters, x.apply = projection.Dispatch(
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
	return x
}

// Projection is what the index folds, for projection.Start: the filters
// of notification's plan events (those decodeEvent reads), each typed, so
// renaming an event breaks the build instead of the index.
func (x *Index) Projection() (filters []string, apply projection.Apply) {
	return x.filters, x.apply
}

// indexOn is the apply of T; it also records T among the types a refold
// reads from a request's history, so that it folds what the projection
// delivers and nothing else.
func indexOn[T proto.Message](x *Index) projection.TypedApply {
	var zero T
	x.types[eventstore.Kind[T]().Type] = slices.ContainsFunc(seal.MarkedFields(zero.ProtoReflect().Descriptor()), func(fd protoreflect.FieldDescriptor) bool {
		return seal.KindOf(fd) == optionsv1.PersonalKind_PERSONAL_KIND_SUBJECT
	})
	return projection.On(func(ev eventstore.Event, _ T) error { return x.Apply(ev) })
}

// Apply folds one event in (a projection.Apply). It is called from the
// projection's one goroutine; an erasure reads the request's history from
// the stream (refold), without holding the lock.
func (x *Index) Apply(ev eventstore.Event) error {
	err := x.fold(ev)
	if x.onChange != nil {
		x.onChange(ev.RequestID)
	}
	return err
}

func (x *Index) fold(ev eventstore.Event) error {
	id := ev.RequestID
	x.mu.RLock()
	_, erased := x.erased[id]
	_, stale := x.stale[id]
	_, opened := x.opened[id]
	x.mu.RUnlock()
	if _, ok := ev.Payload.(*intakev1.TargetsErased); ok {
		x.mu.Lock()
		x.erased[id] = struct{}{}
		x.mu.Unlock()
		if stale || opened {
			return x.refold(id, ev.Sequence)
		}
		// The plan holds nothing the key opened (none folded yet, or
		// only events opened without it, or forgotten at an earlier
		// erasure): the events to come are folded forgotten.
		return nil
	}
	if stale {
		// The erasure's refold failed: this event is in the history it
		// reads again, up to and including it.
		return x.refold(id, ev.Sequence)
	}
	if erased {
		// Opened before the key went (a projection behind the erasure),
		// or not: folded as a restart reads it. On a copy: the payload
		// may be shared.
		ev.Payload = proto.Clone(ev.Payload)
		seal.Forget(ev.Payload, keys.Subject)
	}
	de, ok, err := decodeIndexed(ev)
	if err != nil || !ok {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	// Placed again even when the plan refuses the event: a plan must never
	// be read from the wrong set.
	defer x.place(id)
	if !erased && !opened && x.types[ev.Type] && seal.Holds(ev.Payload, keys.Subject) {
		// Marked even if the plan refuses the event below: a refold
		// costs one read, a missed one keeps what the erasure took.
		x.opened[id] = struct{}{}
	}
	p, found := x.plans[id]
	if !found {
		p = &domain.Plan{}
	}
	if err := p.Apply(de); err != nil {
		return err
	}
	x.plans[id] = p
	return nil
}

// decodeIndexed maps an event the index folds to the domain; ok is false
// for one the plan does not read.
func decodeIndexed(ev eventstore.Event) (domain.Event, bool, error) {
	de, ok, err := decodeEvent(ev)
	if err != nil || ok {
		return de, ok, err
	}
	de, ok = decodeLifecycle(ev)
	return de, ok, nil
}

// refold replaces the request's plan with one folded from its history up
// to and including the event at sequence through, every SUBJECT field
// forgotten: the plan a restarted notification folds from the same events
// (opened without the key, which intake destroyed before recording
// TargetsErased; forgotten here too, so the plan does not depend on that
// order). Events after through are not folded here: the projection, which
// may be behind the stream, hands them in next, and they are folded
// forgotten.
//
// If the history cannot be read, the plan is dropped rather than kept
// with the values the erasure took, and the request is folded again at
// its next event (or at the next start); the error goes to the
// projection's log.
func (x *Index) refold(requestID string, through uint64) error {
	p, err := x.foldStored(requestID, through)
	x.mu.Lock()
	defer x.mu.Unlock()
	defer x.place(requestID)
	if err != nil {
		delete(x.plans, requestID)
		delete(x.opened, requestID)
		x.stale[requestID] = struct{}{}
		return fmt.Errorf("notification index: plan of %s dropped at the erasure, not folded again: %w", requestID, err)
	}
	delete(x.stale, requestID)
	delete(x.opened, requestID)
	if p == nil {
		delete(x.plans, requestID)
	} else {
		x.plans[requestID] = p
	}
	return nil
}

// foldStored folds the request's stored events up to through, SUBJECT
// fields forgotten; nil if none of them folds into a plan. An event the
// domain refuses is skipped, as the projection skips it.
func (x *Index) foldStored(requestID string, through uint64) (*domain.Plan, error) {
	h, err := x.load(requestID, through)
	if err != nil {
		return nil, err
	}
	var p *domain.Plan
	for _, ev := range h.Events {
		if ev.Sequence > through {
			break
		}
		if _, folds := x.types[ev.Type]; !folds {
			continue
		}
		// On a copy: a store may share what it reads (a refold is rare).
		ev.Payload = proto.Clone(ev.Payload)
		seal.Forget(ev.Payload, keys.Subject)
		de, ok, err := decodeIndexed(ev)
		if err != nil || !ok {
			continue
		}
		next := p
		if next == nil {
			next = &domain.Plan{}
		}
		if next.Apply(de) == nil {
			p = next
		}
	}
	return p, nil
}

// load reads the request's history through sequence through at least,
// retrying a failed or lagging read a few times.
func (x *Index) load(requestID string, through uint64) (eventstore.History, error) {
	if x.history == nil {
		return eventstore.History{}, errors.New("no history to read")
	}
	var err error
	for attempt := range refoldAttempts {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		}
		var h eventstore.History
		ctx, cancel := context.WithTimeout(context.Background(), refoldTimeout)
		h, err = x.history.Load(ctx, requestID)
		cancel()
		if err == nil && h.LastSeq < through {
			// A read behind the event that asked for it (a replica
			// not yet there): what it lacks would be lost.
			err = fmt.Errorf("history read through sequence %d, before %d", h.LastSeq, through)
		}
		if err == nil {
			return h, nil
		}
		var p interface{ Permanent() bool }
		if errors.As(err, &p) && p.Permanent() {
			break
		}
	}
	return eventstore.History{}, err
}

// place puts the request's plan in the sets it belongs to now, and out of
// the others (out of all when the index has no plan of it). Called with
// the lock held.
func (x *Index) place(requestID string) {
	p, ok := x.plans[requestID]
	member := func(set map[string]*domain.Plan, in bool) {
		if ok && in {
			set[requestID] = p
		} else {
			delete(set, requestID)
		}
	}
	member(x.live, ok && x.mayOweWork(p))
	member(x.held, ok && p.Hold().Open())
}

// mayOweWork is [domain.Plan.MayOweWork], less what the workers on the
// index know for their contacts: a plan is live unless it owes nothing, or
// nothing but customer notices every worker found delivered to each
// address it has.
func (x *Index) mayOweWork(p *domain.Plan) bool {
	// domain.Plan.MayOweWork in its two parts, each computed once: this
	// runs for every event folded, at every start too.
	if p.MayOweWorkBesidesNotices() {
		return true
	}
	if len(p.NoticeRecipientsEver()) == 0 {
		return false
	}
	if len(x.settled) == 0 {
		return true
	}
	for _, settled := range x.settled {
		if !settled(p) {
			return true
		}
	}
	return false
}

// settleWith adds a worker's check of whether a plan owing no work but
// customer notices has delivered them all, and places every plan again.
func (x *Index) settleWith(settled func(p *domain.Plan) bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.settled = append(x.settled, settled)
	for id := range x.plans {
		x.place(id)
	}
}

// Select returns the ids of the plans for which keep is true, in id order.
// keep runs under the index's lock and must not keep the plan.
func (x *Index) Select(keep func(p *domain.Plan) bool) []string {
	return x.selectAmong(x.plans, keep)
}

// SelectLive is [Index.Select] over the plans that may still owe work
// ([domain.Plan.MayOweWork]): for a keep that can only be true of those.
func (x *Index) SelectLive(keep func(p *domain.Plan) bool) []string {
	return x.selectAmong(x.live, keep)
}

func (x *Index) selectAmong(plans map[string]*domain.Plan, keep func(p *domain.Plan) bool) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var ids []string
	for id, p := range plans {
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
	return x.holdsAmong(x.held, now, after, limit)
}

func (x *Index) holdsAmong(plans map[string]*domain.Plan, now time.Time, after string, limit int) (holds []domain.OpenHold, next string) {
	x.mu.RLock()
	var all []domain.OpenHold
	for _, p := range plans {
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
// undelivered at now, over every plan: a plan with one may still owe work
// (its deadline pending or overdue), so it is among the live ones.
func (x *Index) OverdueNotices(now time.Time) int {
	return x.overdueAmong(x.live, now)
}

func (x *Index) overdueAmong(plans map[string]*domain.Plan, now time.Time) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := 0
	for _, p := range plans {
		n += p.OverdueCount(now)
	}
	return n
}
