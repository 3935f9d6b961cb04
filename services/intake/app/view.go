package app

import (
	"slices"
	"time"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// View is a request as its group member sees it, folded from its events.
type View struct {
	received  *intakev1.RequestReceived
	lifecycle *domain.Lifecycle
	amends    []Amended
	// erased is when the targets were erased, nil before.
	erased *intakev1.TargetsErased
	// receivedSeq is the stream sequence of RequestReceived.
	receivedSeq uint64
}

// GroupMember is the receiving group member, or "" before receipt.
func (v *View) GroupMember() string { return v.received.GetGroupMember() }

// Lifecycle is the domain state, nil before receipt.
func (v *View) Lifecycle() *domain.Lifecycle { return v.lifecycle }

// SubmitTime is when intake accepted the request.
func (v *View) SubmitTime() time.Time { return v.received.GetSubmitTime().AsTime() }

// viewEvents routes every event a view folds to the view at(ev) picks (nil:
// no view, the event is skipped), by type: intake's own events and the stage
// changes other services report. Nothing else is read, so nothing of the
// Privacy Team's deliberations can reach the view. A stage change the
// lifecycle refuses is reported, and the view stays as it was (the record is
// the truth; a view never fails on it).
func viewEvents(at func(ev eventstore.Event) *View) (filters []string, apply projection.Apply) {
	// stage folds a stage change into a received request's view.
	stage := func(ev eventstore.Event) error {
		v := at(ev)
		if v == nil || v.lifecycle == nil {
			return nil // stage reported before receipt: cannot happen in stream order
		}
		if c, ok := stageChange(ev); ok {
			return v.lifecycle.ApplyStageChange(c)
		}
		return nil
	}
	return projection.Dispatch(
		projection.On(func(ev eventstore.Event, p *intakev1.RequestReceived) error {
			if v := at(ev); v != nil {
				v.received, v.receivedSeq = p, ev.Sequence
				v.lifecycle = domain.NewLifecycle(p.GetRequest().GetReceivedAt().AsTime())
			}
			return nil
		}),
		projection.On(func(ev eventstore.Event, p *intakev1.RequestAmended) error {
			v := at(ev)
			if v == nil || v.lifecycle == nil {
				return nil
			}
			a := domain.Amendment{At: protoconv.Time(p.GetAmendTime()), Information: p.GetInformation(), Attachments: DecodeAttachments(p.GetAttachments())}
			if err := v.lifecycle.Amend(a); err != nil {
				return err
			}
			v.amends = append(v.amends, Amended{ID: p.GetAmendmentId(), Amendment: a, Sequence: ev.Sequence})
			return nil
		}),
		projection.On(func(ev eventstore.Event, p *intakev1.RequestWithdrawn) error {
			if v := at(ev); v != nil && v.lifecycle != nil {
				return v.lifecycle.Withdraw(p.GetWithdrawTime().AsTime())
			}
			return nil
		}),
		projection.On(func(ev eventstore.Event, p *intakev1.TargetsErased) error {
			if v := at(ev); v != nil {
				v.erased = p
			}
			return nil
		}),
		projection.On(func(ev eventstore.Event, _ *assessmentv1.CaseOpened) error { return stage(ev) }),
		projection.On(func(ev eventstore.Event, _ *assessmentv1.AssessmentDecided) error { return stage(ev) }),
		projection.On(func(ev eventstore.Event, _ *notificationv1.HoldPlaced) error { return stage(ev) }),
		projection.On(func(ev eventstore.Event, _ *notificationv1.RequestCleared) error { return stage(ev) }),
		projection.On(func(ev eventstore.Event, _ *notificationv1.RequestRedirected) error { return stage(ev) }),
		projection.On(func(ev eventstore.Event, _ *reportingv1.DispositionRecorded) error { return stage(ev) }),
	)
}

// foldView folds one request's history into its view.
func foldView(h eventstore.History) (*View, error) {
	v := &View{}
	_, apply := viewEvents(func(eventstore.Event) *View { return v })
	for _, ev := range h.Events {
		_ = apply(ev) // a refused stage change leaves the view as it was
	}
	return v, nil
}

// stageChange maps another service's event onto the stage a group member
// may see; the decision's content stays out, only its consequence shows.
func stageChange(ev eventstore.Event) (domain.StageChange, bool) {
	c := domain.StageChange{At: ev.Time}
	switch ev.Payload.(type) {
	case *assessmentv1.CaseOpened:
		c.Stage = domain.StageUnderReview
	case *assessmentv1.AssessmentDecided:
		d, _ := ev.Payload.(*assessmentv1.AssessmentDecided)
		switch d.GetDecision().GetKind() {
		case assessmentv1.DecisionKind_DECISION_KIND_REJECT:
			c.Stage, c.Outcome = domain.StageClosed, domain.OutcomeRejected
		case assessmentv1.DecisionKind_DECISION_KIND_CHALLENGE:
			c.Stage, c.Outcome = domain.StageClosed, domain.OutcomeChallenged
		case assessmentv1.DecisionKind_DECISION_KIND_REQUEST_MORE_INFORMATION:
			return c, false
		default:
			c.Stage = domain.StageDecided
		}
	case *notificationv1.HoldPlaced:
		c.Stage = domain.StageOnHold
	case *notificationv1.RequestCleared:
		c.Stage = domain.StageCleared
	case *notificationv1.RequestRedirected:
		c.Stage, c.Outcome = domain.StageClosed, domain.OutcomeRedirected
	case *reportingv1.DispositionRecorded:
		d, _ := ev.Payload.(*reportingv1.DispositionRecorded)
		o, ok := dispositionOutcomes[d.GetDisposition().GetOutcome()]
		if d.GetDisposition().GetDisclosure() != nil {
			o, ok = domain.OutcomeDisclosed, true
		}
		if !ok {
			return c, false
		}
		c.Stage, c.Outcome = domain.StageClosed, o
	default:
		return c, false
	}
	return c, true
}

// dispositionOutcomes maps how reporting recorded a request's end onto what
// its group member sees: the outcome, not who decided it or why.
var dispositionOutcomes = map[reportingv1.TerminalOutcome]domain.Outcome{
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REJECTED:      domain.OutcomeRejected,
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_CHALLENGED:    domain.OutcomeChallenged,
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REDIRECTED:    domain.OutcomeRedirected,
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_WITHDRAWN:     domain.OutcomeWithdrawn,
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_NO_DATA_FOUND: domain.OutcomeNoData,
}

// Request is a request as its group member sees it: the demand, what was
// added to it since, and where it stands. The targets are kept apart from
// the demand (Content.Targets is empty): the record holds them sealed, and
// only [Intake.Reveal] opens them, for their own member.
type Request struct {
	ID              string
	GroupMember     string
	Content         domain.Request
	Targets         []Target
	Amendments      []Amended
	SubmitTime      time.Time
	ForwardingDelay time.Duration
	LateForwarding  bool
	Stage           domain.Stage
	Outcome         domain.Outcome
	// Timeline is the domain's, amendment entries included.
	Timeline []domain.TimelineEntry
}

// Target is a target as recorded: sealed under the label of its Ref, or,
// once revealed, its Value or Erased. A target of a request recorded before
// sealing has its Value and nothing sealed.
type Target struct {
	Ref    string
	Kind   domain.TargetKind
	Value  string
	Sealed []byte
	Erased bool
}

// Request is the view as its member reads it: a fresh copy, so that
// revealing its targets leaves the view sealed.
func (v *View) Request() Request {
	r := v.received
	out := Request{
		ID:              r.GetRequestId(),
		GroupMember:     r.GetGroupMember(),
		Content:         DecodeRequest(r.GetGroupMember(), "", r.GetRequest()),
		Amendments:      slices.Clone(v.amends),
		SubmitTime:      protoconv.Time(r.GetSubmitTime()),
		ForwardingDelay: r.GetForwardingDelay().AsDuration(),
		LateForwarding:  r.GetLateForwarding(),
		Stage:           v.lifecycle.Stage(),
		Outcome:         v.lifecycle.Outcome(),
		Timeline:        v.lifecycle.Timeline(),
	}
	out.Content.Targets = nil
	for _, t := range r.GetRequest().GetTargets() {
		out.Targets = append(out.Targets, Target{
			Ref:    t.GetRef(),
			Kind:   decodeTargetKind(t.GetKind()),
			Value:  t.GetValue(),
			Sealed: slices.Clone(t.GetSealedValue()),
			Erased: t.GetErased(),
		})
	}
	return out
}
