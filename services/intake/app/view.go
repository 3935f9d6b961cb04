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
)

// ViewSubjects are the events a group member's view is folded from: intake's
// own, and the stage changes other services report. Nothing else is read, so
// nothing of the Privacy Team's deliberations can reach the view.
var ViewSubjects = []string{
	eventstore.ServicePattern(Service),
	eventstore.PatternOf[*assessmentv1.CaseOpened](),
	eventstore.PatternOf[*assessmentv1.AssessmentDecided](),
	eventstore.PatternOf[*notificationv1.HoldPlaced](),
	eventstore.PatternOf[*notificationv1.RequestCleared](),
	eventstore.PatternOf[*notificationv1.RequestRedirected](),
	eventstore.PatternOf[*reportingv1.DispositionRecorded](),
}

// View is a request as its group member sees it, folded from its events.
type View struct {
	received  *intakev1.RequestReceived
	lifecycle *domain.Lifecycle
	amends    []*intakev1.Amendment
	// LastSeq is the stream sequence of the last event folded in.
	LastSeq uint64
}

// GroupMember is the receiving group member, or "" before receipt.
func (v *View) GroupMember() string { return v.received.GetGroupMember() }

// Lifecycle is the domain state, nil before receipt.
func (v *View) Lifecycle() *domain.Lifecycle { return v.lifecycle }

// SubmitTime is when intake accepted the request.
func (v *View) SubmitTime() time.Time { return v.received.GetSubmitTime().AsTime() }

// Apply folds one event in. Events of other requests' kinds that the view
// does not know are ignored; a stage change the lifecycle refuses is
// reported, and the view stays as it was (the record is the truth; a view
// never fails on it).
func (v *View) Apply(ev eventstore.Event) error {
	v.LastSeq = ev.Sequence
	switch p := ev.Payload.(type) {
	case *intakev1.RequestReceived:
		v.received = p
		v.lifecycle = domain.NewLifecycle(p.GetRequest().GetReceivedAt().AsTime())
		return nil
	}
	if v.lifecycle == nil {
		return nil // stage reported before receipt is folded: cannot happen in stream order
	}
	switch p := ev.Payload.(type) {
	case *intakev1.RequestAmended:
		a := &intakev1.Amendment{AmendmentId: p.GetAmendmentId(), Information: p.GetInformation(), Attachments: p.GetAttachments(), AmendTime: p.GetAmendTime()}
		if err := v.lifecycle.Amend(domain.Amendment{At: p.GetAmendTime().AsTime(), Information: p.GetInformation(), Attachments: attachmentsToDomain(p.GetAttachments())}); err != nil {
			return err
		}
		v.amends = append(v.amends, a)
	case *intakev1.RequestWithdrawn:
		return v.lifecycle.Withdraw(p.GetWithdrawTime().AsTime())
	default:
		if c, ok := stageChange(ev); ok {
			return v.lifecycle.ApplyStageChange(c)
		}
	}
	return nil
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
			out.Timeline = append(out.Timeline, &intakev1.TimelineEntry{Stage: s, Time: ts(e.At)})
		}
	}
	return out
}
