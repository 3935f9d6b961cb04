package app

import (
	"context"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// The two-person safeguards of issue 15: one person proposes a lift (an
// exemption, a consultation outcome, a manual dispatch, a weakening), a
// second person with the role confirms it. The domain holds the rules; these
// commands only run them through the command template.

// Proposed is a plan after a proposal, with the lift a second person is to
// confirm.
type Proposed struct {
	PlanView
	LiftID string
}

// propose runs one proposal and names the lift it recorded. A retried
// proposal records nothing; its lift is the caller's pending one.
func (n *Notification) propose(ctx context.Context, requestID, actor string, do func(p *domain.Plan, now time.Time) ([]domain.Event, error)) (Proposed, error) {
	var id string
	v, err := n.command(ctx, requestID, actor, func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		evs, err := do(p, now)
		id = liftOf(evs)
		return evs, err
	})
	if err != nil {
		return Proposed{}, err
	}
	if id == "" {
		id = pendingLiftOf(v.Plan, actor)
	}
	return Proposed{PlanView: v, LiftID: id}, nil
}

func liftOf(evs []domain.Event) string {
	for _, e := range evs {
		switch e := e.(type) {
		case domain.ExemptionProposed:
			return e.Lift.ID
		case domain.ConsultationOutcomeProposed:
			return e.Lift.ID
		case domain.ManualDispatchProposed:
			return e.Lift.ID
		case domain.WeakeningProposed:
			return e.Lift.ID
		}
	}
	return ""
}

// pendingLiftOf is the latest unconfirmed lift actor recorded.
func pendingLiftOf(p *domain.Plan, actor string) string {
	ls := p.Lifts()
	for i := len(ls) - 1; i >= 0; i-- {
		if ls[i].RecordedBy == actor && !ls[i].Confirmed() {
			return ls[i].ID
		}
	}
	return ""
}

// proposal runs one of the domain's proposals (a method expression of
// *domain.Plan) for actor.
func proposal[X any](ctx context.Context, n *Notification, actor, requestID string, x X, do func(*domain.Plan, X, string, time.Time) ([]domain.Event, error)) (Proposed, error) {
	return n.propose(ctx, requestID, actor, func(p *domain.Plan, now time.Time) ([]domain.Event, error) { return do(p, x, actor, now) })
}

// ProposeExemption records one person's exemption of a notice or the hold;
// it lifts nothing until confirmed.
func (n *Notification) ProposeExemption(ctx context.Context, actor, requestID string, x domain.ExemptionProposal) (Proposed, error) {
	return proposal(ctx, n, actor, requestID, x, (*domain.Plan).ProposeExemption)
}

// ProposeConsultationOutcome records one person's record of a DPA's answer.
func (n *Notification) ProposeConsultationOutcome(ctx context.Context, actor, requestID string, c domain.Consultation) (Proposed, error) {
	return proposal(ctx, n, actor, requestID, c, (*domain.Plan).ProposeConsultationOutcome)
}

// ProposeManualDispatch records one person's record of a packet sent by
// hand.
func (n *Notification) ProposeManualDispatch(ctx context.Context, actor, requestID string, m domain.ManualDispatch) (Proposed, error) {
	return proposal(ctx, n, actor, requestID, m, (*domain.Plan).ProposeManualDispatch)
}

// Weakening is a proposal to drop a step the changed facts would drop.
type Weakening struct {
	Step            domain.StepKind
	Basis, Evidence string
}

// ProposeWeakening records one person's proposal to drop a step the
// changed facts would drop.
func (n *Notification) ProposeWeakening(ctx context.Context, actor, requestID string, w Weakening) (Proposed, error) {
	return proposal(ctx, n, actor, requestID, w, func(p *domain.Plan, w Weakening, by string, at time.Time) ([]domain.Event, error) {
		return p.ProposeWeakening(w.Step, w.Basis, w.Evidence, by, at)
	})
}

// ConfirmLift is the second person confirming a lift, with the roles the
// authorization policy gave them.
func (n *Notification) ConfirmLift(ctx context.Context, by policy.Person, requestID, liftID string) (PlanView, error) {
	return n.command(ctx, requestID, by.ID, func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		return p.ConfirmLift(liftID, by, now)
	})
}

// CheckDisclosure is the gate at a disclosure date (zero: now), not after
// now. When adequacy was lost by then, the events that re-make the plan (a
// hold) are recorded although the disclosure is refused, so the refusal and
// the record agree.
func (n *Notification) CheckDisclosure(ctx context.Context, actor, requestID string, at time.Time) (PlanView, error) {
	var refusal error
	v, err := n.command(ctx, requestID, actor, func(p *domain.Plan, now time.Time) ([]domain.Event, error) {
		if at.IsZero() {
			at = now
		}
		if at.After(now) {
			return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "disclosure_time", Description: "must not be in the future"})
		}
		evs, err := p.CheckDisclosure(n.cfg.Registry, at)
		refusal = err
		if err != nil && len(evs) == 0 {
			return nil, err
		}
		return evs, nil
	})
	if err != nil {
		return PlanView{}, err
	}
	return v, refusal
}
