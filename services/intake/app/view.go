package app

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

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
	amends    []*intakev1.Amendment
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
			if err := v.lifecycle.Amend(domain.Amendment{At: p.GetAmendTime().AsTime(), Information: p.GetInformation(), Attachments: DecodeAttachments(p.GetAttachments())}); err != nil {
				return err
			}
			v.amends = append(v.amends, &intakev1.Amendment{AmendmentId: p.GetAmendmentId(), Information: p.GetInformation(), Attachments: p.GetAttachments(), AmendTime: p.GetAmendTime()})
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

var stages = map[domain.Stage]intakev1.Stage{
	domain.StageReceived:    intakev1.Stage_STAGE_RECEIVED,
	domain.StageUnderReview: intakev1.Stage_STAGE_UNDER_REVIEW,
	domain.StageDecided:     intakev1.Stage_STAGE_DECIDED,
	domain.StageOnHold:      intakev1.Stage_STAGE_ON_HOLD,
	domain.StageCleared:     intakev1.Stage_STAGE_CLEARED,
	domain.StageClosed:      intakev1.Stage_STAGE_CLOSED,
	domain.StageWithdrawn:   intakev1.Stage_STAGE_WITHDRAWN,
}

var outcomes = map[domain.Outcome]intakev1.Outcome{
	domain.OutcomeDisclosed:  intakev1.Outcome_OUTCOME_DISCLOSED,
	domain.OutcomeRedirected: intakev1.Outcome_OUTCOME_REDIRECTED,
	domain.OutcomeRejected:   intakev1.Outcome_OUTCOME_REJECTED,
	domain.OutcomeChallenged: intakev1.Outcome_OUTCOME_CHALLENGED,
	domain.OutcomeWithdrawn:  intakev1.Outcome_OUTCOME_WITHDRAWN,
	domain.OutcomeNoData:     intakev1.Outcome_OUTCOME_NO_DATA,
}

// Proto renders the view. Amendment entries of the domain timeline are left
// out of the stage timeline: the amendments list shows them.
func (v *View) Proto() *intakev1.Request {
	r := v.received
	out := &intakev1.Request{
		RequestId:       r.GetRequestId(),
		GroupMember:     r.GetGroupMember(),
		Content:         proto.CloneOf(r.GetRequest()),
		Amendments:      v.amends,
		SubmitTime:      r.GetSubmitTime(),
		ForwardingDelay: durationpb.New(r.GetForwardingDelay().AsDuration()),
		LateForwarding:  r.GetLateForwarding(),
		Stage:           stages[v.lifecycle.Stage()],
		Outcome:         outcomes[v.lifecycle.Outcome()],
	}
	for _, e := range v.lifecycle.Timeline() {
		if s, ok := stages[e.Stage]; ok {
			out.Timeline = append(out.Timeline, &intakev1.TimelineEntry{Stage: s, Time: protoconv.Timestamp(e.At)})
		}
	}
	return out
}
