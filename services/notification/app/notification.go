// Package app runs notification's commands and queries: it folds a
// request's events into the domain plan, lets the domain decide, and writes
// what it decided to the record, with optimistic concurrency over the
// request. It also owns the delivery worker that sends customer notices and
// DPA consultation packets (see [Deliverer]).
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/viewcache"
)

// Service is the event-source name of notification's events.
const Service = "notification"

// DefaultActor names notification itself as the cause of the events its
// reactor and delivery worker write.
const DefaultActor = "spiffe://ddr.local/service/notification"

// Store is the part of the event store notification uses.
type Store interface {
	Load(ctx context.Context, requestID string) (eventstore.History, error)
	Update(ctx context.Context, requestID string, decide eventstore.Decide) ([]eventstore.Event, error)
}

// Config tunes notification.
type Config struct {
	// DPAs names the lead and other data protection authorities.
	DPAs domain.Config
	// Registry judges adequacy; default the embedded one.
	Registry *policy.AdequacyRegistry
	// Actor is recorded on events nobody but the service caused.
	Actor string
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Notification runs the commands and queries.
type Notification struct {
	cfg   Config
	store Store
	// plans keeps the requests GetPlan folded (platform/viewcache).
	plans *viewcache.Cache[*Request]
}

// New returns a Notification.
func New(cfg Config, store Store) (*Notification, error) {
	if cfg.Registry == nil {
		reg, err := policy.DefaultAdequacy()
		if err != nil {
			return nil, err
		}
		cfg.Registry = reg
	}
	if cfg.DPAs.LeadDPA == "" {
		return nil, fmt.Errorf("notification: no lead DPA configured")
	}
	if cfg.Actor == "" {
		cfg.Actor = DefaultActor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Notification{cfg: cfg, store: store, plans: viewcache.For[*Request](store, 0)}, nil
}

// Request is what notification knows of a request: its plan and, for the
// notices, the demand as intake recorded it.
type Request struct {
	Plan     *domain.Plan
	Received *intakev1.RequestReceived
	// lastDecided is the sequence of the latest assessment.decided event.
	lastDecided uint64
}

// Fold reads a request's history. Events of other services are read only
// for what notification needs: the demand (for the notice's details) and
// the decisions.
func Fold(h eventstore.History) (*Request, error) {
	r := &Request{Plan: &domain.Plan{}}
	for _, ev := range h.Events {
		switch m := ev.Payload.(type) {
		case *intakev1.RequestReceived:
			r.Received = m
			continue
		case *assessmentv1.AssessmentDecided:
			r.lastDecided = ev.Sequence
			continue
		}
		if de, ok := decodeLifecycle(ev); ok {
			if err := r.Plan.Apply(de); err != nil {
				return nil, fmt.Errorf("notification: fold request %s at sequence %d: %w", ev.RequestID, ev.Sequence, err)
			}
			continue
		}
		if ev.Service != Service {
			continue
		}
		de, ok, err := decodeEvent(ev)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if err := r.Plan.Apply(de); err != nil {
			return nil, fmt.Errorf("notification: fold request %s at sequence %d: %w", ev.RequestID, ev.Sequence, err)
		}
	}
	return r, nil
}

// Decided is assessment's decision as the reaction to it needs it, in
// domain terms (the event codec's DecodeDecided makes it from the event).
type Decided struct {
	// EventID is the assessment.decided event's id: the ids of the events
	// derived from it derive from it.
	EventID string
	// Sequence is its place in the request's history: a decision older than
	// the latest one is ignored.
	Sequence     uint64
	Requirements domain.Requirements
}

// Derive is the reaction to assessment.decided: it derives the plan (or
// re-plans on a new decision) and appends only what is missing, with event
// ids derived from the decided event's, so a redelivered event appends
// nothing twice. A decision older than the request's latest one is ignored:
// the latest decides.
func (n *Notification) Derive(ctx context.Context, d Decided) error {
	req := d.Requirements
	call := command.Call{RequestID: req.RequestID, Actor: n.cfg.Actor, Now: n.cfg.Now().UTC(), Trigger: d.EventID}
	_, err := command.Run(ctx, n.store, plans, call, func(r *Request, c command.Call) ([]domain.Event, error) {
		if r.lastDecided > d.Sequence {
			return nil, nil
		}
		r.Plan.UseRegistry(n.cfg.Registry)
		evs, err := r.Plan.Derive(req, n.cfg.Registry, n.cfg.DPAs, c.Now)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			evs = r.Plan.Settle(c.Now)
		}
		return evs, nil
	})
	return err
}

// plans is notification's command template (platform/command): the state
// is the folded Request, and the encoder applies each event to the plan as
// it encodes it, so the state after a command needs no second fold.
var plans = command.Spec[*Request, domain.Event]{
	Fold: Fold,
	Encode: func(r *Request, c command.Call, evs []domain.Event) ([]eventstore.Event, error) {
		return encoder{requestID: c.RequestID, trigger: c.Trigger, actor: c.Actor, at: c.Now, p: r.Plan}.encode(evs)
	},
	Apply: func(r *Request, _ eventstore.Event) (*Request, error) { return r, nil },
}

// Get returns a request's plan.
func (n *Notification) Get(ctx context.Context, requestID string) (*Request, error) {
	h, err := n.store.Load(ctx, requestID)
	if err != nil {
		return nil, err
	}
	r, err := Fold(h)
	if err != nil {
		return nil, err
	}
	if !r.Plan.Derived() {
		return nil, fmt.Errorf("%w: no notification plan for request %s (no decision yet)", ddrerr.ErrNotFound, requestID)
	}
	return r, nil
}

// PlanView is a plan as a command or query leaves it, in domain terms: the
// plan and the time its blockers are judged at. Ports turn it into the RPC
// message (ports/convert.go).
type PlanView struct {
	Plan *domain.Plan
	At   time.Time
}

// GetPlan returns a request's plan as callers see it. The plan folded by
// an earlier call is served again while the request has no new event
// (platform/viewcache): it is shared between calls, read it, never change
// it.
func (n *Notification) GetPlan(ctx context.Context, requestID string) (PlanView, error) {
	r, err := n.plans.Get(ctx, requestID, func(ctx context.Context) (*Request, uint64, error) {
		h, err := n.store.Load(ctx, requestID)
		if err != nil {
			return nil, 0, err
		}
		r, err := Fold(h)
		return r, h.LastSeq, err
	})
	if err != nil {
		return PlanView{}, err
	}
	if !r.Plan.Derived() {
		return PlanView{}, fmt.Errorf("%w: no notification plan for request %s (no decision yet)", ddrerr.ErrNotFound, requestID)
	}
	return PlanView{Plan: r.Plan, At: n.cfg.Now().UTC()}, nil
}

// Now is the service clock.
func (n *Notification) Now() time.Time { return n.cfg.Now().UTC() }

// command runs one domain command with load, decide, append and retry on
// conflict, and returns the plan after it. Event ids derive from one id per
// call, so a retry after a conflict writes the same ids.
func (n *Notification) command(ctx context.Context, requestID, actor string, do func(p *domain.Plan, now time.Time) ([]domain.Event, error)) (PlanView, error) {
	call := command.NewCall(requestID, actor, n.cfg.Now())
	res, err := command.Run(ctx, n.store, plans, call,
		func(r *Request, c command.Call) ([]domain.Event, error) {
			// Adequacy is judged again, with the process's registry, by
			// every command that can clear the request.
			r.Plan.UseRegistry(n.cfg.Registry)
			return do(r.Plan, c.Now)
		})
	if err != nil {
		return PlanView{}, err
	}
	return PlanView{Plan: res.State.Plan, At: call.Now}, nil
}

// RecordRedirectOutcome records the authority's answer to the redirect
// request (4.1.1).
func (n *Notification) RecordRedirectOutcome(ctx context.Context, actor, requestID string, o domain.RedirectOutcome, support string) (PlanView, error) {
	return n.RecordRedirectOutcomeFor(ctx, actor, requestID, "", o, support)
}

// RecordRedirectOutcomeFor records the answer for the controller customer
// customerRef ("c1", ...; required when the request has several).
func (n *Notification) RecordRedirectOutcomeFor(ctx context.Context, actor, requestID, customerRef string, o domain.RedirectOutcome, support string) (PlanView, error) {
	return n.command(ctx, requestID, actor, func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		return p.RecordRedirectOutcomeFor(customerRef, o, support, actor, now)
	})
}

// RecordExemption is the one-person exemption of old: the domain refuses
// it (4.1.2/4.2.1 NEEDS_TWO_PEOPLE); kept for the RPC until it is removed.
func (n *Notification) RecordExemption(ctx context.Context, actor, requestID string, step domain.StepKind, reason domain.SkipReason, basis string) (PlanView, error) {
	return n.command(ctx, requestID, actor, func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		return p.RecordExemption(step, reason, basis, actor, now)
	})
}

// RecordConsultation is the one-person consultation outcome of old: the
// domain refuses it (NEEDS_TWO_PEOPLE); kept for the RPC until removed.
func (n *Notification) RecordConsultation(ctx context.Context, actor, requestID, authority string, o domain.ConsultationOutcome, summary string) (PlanView, error) {
	return n.command(ctx, requestID, actor, func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		return p.RecordConsultation(domain.Consultation{Authority: authority, Outcome: o, Summary: summary, By: actor, At: now})
	})
}

// LiftHold lifts a hold on the lead DPA's recorded answer.
func (n *Notification) LiftHold(ctx context.Context, actor, requestID string) (PlanView, error) {
	return n.command(ctx, requestID, actor, func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		return p.LiftHold(actor, now)
	})
}

// RecordWaiverEffort adds to the 4.2.2 written record. person defaults to
// the caller, at to now; an effort cannot be dated in the future.
func (n *Notification) RecordWaiverEffort(ctx context.Context, actor, requestID string, e domain.WaiverEffort) (PlanView, error) {
	return n.command(ctx, requestID, actor, func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		if e.Person == "" {
			e.Person = actor
		}
		if e.At.IsZero() {
			e.At = now
		}
		if e.At.After(now) {
			return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "effort_time", Description: "must not be in the future"})
		}
		return p.RecordWaiverEffort(e)
	})
}

// clear records RequestCleared when nothing blocks any more (a notice
// period of a stricter law has run out, 1.2).
func (n *Notification) clear(ctx context.Context, requestID string) error {
	_, err := command.Run(ctx, n.store, clears, command.NewCall(requestID, n.cfg.Actor, n.cfg.Now()),
		func(r *Request, c command.Call) ([]domain.Event, error) {
			if r.Plan.Cleared() || r.Plan.Outcome() != domain.OutcomeOpen || len(domain.Blockers(r.Plan, c.Now)) > 0 {
				return nil, nil
			}
			r.Plan.UseRegistry(n.cfg.Registry)
			return r.Plan.Clear(c.Now)
		})
	return err
}

// clears is [plans] with the clearance's event id derived from the decision
// it clears rather than from the call: two workers clearing the same
// request at once write one RequestCleared.
var clears = command.Spec[*Request, domain.Event]{
	Fold: plans.Fold,
	Encode: func(r *Request, c command.Call, evs []domain.Event) ([]eventstore.Event, error) {
		trigger := r.Plan.RequestID() + "/" + r.Plan.Requirements().DecisionID + "/clear"
		return encoder{requestID: c.RequestID, trigger: trigger, actor: c.Actor, at: c.Now, p: r.Plan}.encode(evs)
	},
	Apply: plans.Apply,
}
