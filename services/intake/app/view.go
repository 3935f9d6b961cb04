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
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

// View is a request as intake knows it, folded from its events: what its
// group member sees, and what staff review.
//
// Erasure: the view holds intake's events as opened (their personal data
// in clear) and renders them at each read, so that when it folds
// TargetsErased it can forget, in the events themselves, every field
// marked SUBJECT (platform/seal.Forget), and every read from then on shows
// what a view folded after the erasure shows: the key is gone, so those
// fields open empty. Folding is the same on every replica and at every
// rebuild, so all show the same. Nothing personal is kept outside these
// events (the lifecycle is told when an amendment was made, not what it
// said).
type View struct {
	received  *intakev1.RequestReceived
	lifecycle *domain.Lifecycle
	// amends are the amendments as recorded, oldest first.
	amends []amended
	// erased is when the targets were erased, nil before.
	erased *intakev1.TargetsErased
	// withdrawn is the withdrawal, nil before.
	withdrawn *intakev1.RequestWithdrawn
	// reveals are the recorded reveals of the targets, oldest first.
	reveals []*intakev1.TargetsRevealed
	// receivedSeq is the stream sequence of RequestReceived.
	receivedSeq uint64
}

// amended is a RequestAmended as the view keeps it, with its sequence.
type amended struct {
	p   *intakev1.RequestAmended
	seq uint64
}

// forget clears every SUBJECT field of the events the view keeps, as
// opening them after the erasure of the request's SUBJECT key would; see
// [View].
func (v *View) forget() {
	seal.Forget(v.received, keys.Subject)
	for _, a := range v.amends {
		seal.Forget(a.p, keys.Subject)
	}
	seal.Forget(v.withdrawn, keys.Subject)
	for _, r := range v.reveals {
		seal.Forget(r, keys.Subject)
	}
	seal.Forget(v.erased, keys.Subject)
}

// GroupMember is the receiving group member, or "" before receipt.
func (v *View) GroupMember() string { return v.received.GetGroupMember() }

// Lifecycle is the domain state, nil before receipt.
func (v *View) Lifecycle() *domain.Lifecycle { return v.lifecycle }

// SubmitTime is when intake accepted the request.
func (v *View) SubmitTime() time.Time { return v.received.GetSubmitTime().AsTime() }

// viewEvents routes every event a view folds to the view at(ev) picks (nil:
// no view, the event is skipped), by type: intake's own events and the
// facts other services record that move the request (platform/lifecycle's
// triggers). Nothing else is read, and of what is read only the trigger,
// its time and the Privacy Team's question reach the member's view, so
// nothing of the Privacy Team's deliberations can. A fact the lifecycle
// refuses is reported, and the view stays as it was (the record is the
// truth; a view never fails on it).
func viewEvents(at func(ev eventstore.Event) *View) (filters []string, apply projection.Apply) {
	// fact folds another service's fact into a received request's view.
	fact := func(ev eventstore.Event) error {
		v := at(ev)
		if v == nil || v.lifecycle == nil {
			return nil // a fact before receipt: cannot happen in stream order
		}
		f, ok := factOf(v.lifecycle, ev)
		if !ok {
			return nil
		}
		return v.lifecycle.Apply(f)
	}
	return projection.Dispatch(
		projection.On(func(ev eventstore.Event, p *intakev1.RequestReceived) error {
			if v := at(ev); v != nil {
				v.received, v.receivedSeq = p, ev.Sequence
				v.lifecycle = domain.NewLifecycle(p.GetRequest().GetReceivedAt().AsTime())
				v.forgetIfErased()
			}
			return nil
		}),
		projection.On(func(ev eventstore.Event, p *intakev1.RequestAmended) error {
			v := at(ev)
			if v == nil || v.lifecycle == nil {
				return nil
			}
			// The lifecycle needs when, not what: the text and the
			// attachments stay in the event, where forget reaches them.
			if err := v.lifecycle.Amend(domain.Amendment{At: protoconv.Time(p.GetAmendTime())}); err != nil {
				return err
			}
			v.amends = append(v.amends, amended{p: p, seq: ev.Sequence})
			v.forgetIfErased()
			return nil
		}),
		projection.On(func(ev eventstore.Event, p *intakev1.RequestWithdrawn) error {
			if v := at(ev); v != nil && v.lifecycle != nil {
				if err := v.lifecycle.Withdraw(p.GetWithdrawTime().AsTime()); err != nil {
					return err
				}
				v.withdrawn = p
				v.forgetIfErased()
			}
			return nil
		}),
		projection.On(func(ev eventstore.Event, p *intakev1.TargetsErased) error {
			if v := at(ev); v != nil {
				v.erased = p
				v.forget()
				if v.lifecycle != nil {
					v.lifecycle.Erased()
				}
			}
			return nil
		}),
		projection.On(func(ev eventstore.Event, p *intakev1.TargetsRevealed) error {
			if v := at(ev); v != nil {
				v.reveals = append(v.reveals, p)
				v.forgetIfErased()
			}
			return nil
		}),
		projection.On(func(ev eventstore.Event, _ *assessmentv1.CaseOpened) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *assessmentv1.AssessmentDecided) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *assessmentv1.InformationRequested) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *assessmentv1.CaseReopened) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *assessmentv1.WithdrawalAcknowledged) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *notificationv1.HoldPlaced) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *notificationv1.HoldLifted) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *notificationv1.RequestCleared) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *notificationv1.RequestRedirected) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *notificationv1.StepsStopped) error { return fact(ev) }),
		projection.On(func(ev eventstore.Event, _ *reportingv1.DispositionRecorded) error { return fact(ev) }),
	)
}

// forgetIfErased forgets what an event folded after the erasure brought
// (nothing, as a rule: no SUBJECT field can be sealed once its key is
// gone; an event written before sealing could).
func (v *View) forgetIfErased() {
	if v.erased != nil {
		v.forget()
	}
}

// foldView folds one request's history into its view.
func foldView(h eventstore.History) (*View, error) {
	v := &View{}
	_, apply := viewEvents(func(eventstore.Event) *View { return v })
	for _, ev := range h.Events {
		_ = apply(ev) // a refused fact leaves the view as it was
	}
	return v, nil
}

// decided maps a decision onto the lifecycle's trigger.
var decided = map[assessmentv1.DecisionKind]lifecycle.Trigger{
	assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE:             lifecycle.DecidedDisclose,
	assessmentv1.DecisionKind_DECISION_KIND_REJECT:               lifecycle.DecidedReject,
	assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER: lifecycle.DecidedRedirect,
	assessmentv1.DecisionKind_DECISION_KIND_CHALLENGE:            lifecycle.DecidedChallenge,
	// Written before issue 16 (InformationRequested since): the member is
	// asked for more, without a question the view could show.
	assessmentv1.DecisionKind_DECISION_KIND_REQUEST_MORE_INFORMATION: lifecycle.InformationAsked,
}

// reopened maps why assessment reopened a case onto the lifecycle's
// trigger.
var reopened = map[assessmentv1.ReopenTrigger]lifecycle.Trigger{
	assessmentv1.ReopenTrigger_REOPEN_TRIGGER_AMENDED:              lifecycle.Amended,
	assessmentv1.ReopenTrigger_REOPEN_TRIGGER_INFORMATION_SUPPLIED: lifecycle.Amended,
	assessmentv1.ReopenTrigger_REOPEN_TRIGGER_REDIRECT_DECLINED:    lifecycle.RedirectDeclined,
	assessmentv1.ReopenTrigger_REOPEN_TRIGGER_DPA_OBJECTED:         lifecycle.DPAObjected,
	assessmentv1.ReopenTrigger_REOPEN_TRIGGER_CHALLENGE_OUTCOME:    lifecycle.ChallengeOutcome,
	assessmentv1.ReopenTrigger_REOPEN_TRIGGER_FACT_CORRECTED:       lifecycle.FactCorrected,
}

// reopen is the trigger of a reopening in state l: its own trigger where
// the table has it from there, else a corrected fact's, which reaches
// every state a case can be reopened from. The view sees a coarser state
// than assessment (no proposals, no redirect outcome), so the cause's own
// row may not match, while "back in review" is what assessment recorded.
func reopen(l *domain.Lifecycle, t lifecycle.Trigger) lifecycle.Trigger {
	if _, err := lifecycle.Next(l.State(), t); err == nil {
		return t
	}
	return lifecycle.FactCorrected
}

// factOf maps another service's event onto the fact the member's view
// folds; the decision's content stays out, only its consequence shows.
// false: the event moves nothing the member sees.
func factOf(l *domain.Lifecycle, ev eventstore.Event) (domain.Fact, bool) {
	f := domain.Fact{At: ev.Time}
	switch p := ev.Payload.(type) {
	case *assessmentv1.CaseOpened:
		f.Trigger = lifecycle.CaseOpened
	case *assessmentv1.AssessmentDecided:
		t, ok := decided[p.GetDecision().GetKind()]
		if !ok {
			return f, false
		}
		f.Trigger = t
	case *assessmentv1.InformationRequested:
		f.Trigger, f.Question = lifecycle.InformationAsked, p.GetQuestion()
		if t := protoconv.Time(p.GetAskTime()); !t.IsZero() {
			f.At = t
		}
	case *assessmentv1.CaseReopened:
		t, ok := reopened[p.GetTrigger()]
		if !ok {
			t = lifecycle.FactCorrected
		}
		f.Trigger = reopen(l, t)
	case *assessmentv1.WithdrawalAcknowledged:
		if p.GetAfterDisclosure() {
			return f, false // recorded; it undoes nothing
		}
		f.Trigger = lifecycle.WithdrawalAcknowledged
	case *notificationv1.HoldPlaced:
		f.Trigger = lifecycle.HoldPlaced
	case *notificationv1.HoldLifted:
		f.Trigger = lifecycle.DPANoObjection
	case *notificationv1.RequestCleared:
		f.Trigger = lifecycle.StepsDone
	case *notificationv1.RequestRedirected:
		f.Trigger = lifecycle.RedirectAgreed
	case *notificationv1.StepsStopped:
		// A withdrawal's stop follows the withdrawal the view already
		// folded; a reopening's follows assessment's CaseReopened, and
		// shows the member the case back in review if that came later.
		if p.GetReason() != notificationv1.StopReason_STOP_REASON_REOPENED || l.Stage() == domain.StageUnderReview {
			return f, false
		}
		f.Trigger = reopen(l, lifecycle.FactCorrected)
	case *reportingv1.DispositionRecorded:
		d := p.GetDisposition()
		o, ok := dispositionOutcomes[d.GetOutcome()]
		if d.GetDisclosure() != nil {
			o, ok = policy.OutcomeDisclosed, true
		}
		if !ok {
			return f, false
		}
		f.Trigger, f.Outcome = domain.TriggerClosed, o
		switch o {
		case policy.OutcomeDisclosed:
			f.Trigger, f.Outcome = lifecycle.DisclosureRecorded, ""
		case policy.OutcomeNoDataFound:
			f.Trigger, f.Outcome = lifecycle.NoDataRecorded, ""
		}
		if _, err := lifecycle.Next(l.State(), f.Trigger); f.Outcome == "" && err != nil {
			// Recorded where the table has no row (the view missed a
			// step): the record is the truth, the request closed.
			f.Trigger, f.Outcome = domain.TriggerClosed, o
		}
	default:
		return f, false
	}
	return f, true
}

// dispositionOutcomes maps how reporting recorded a request's end onto what
// its group member sees: the outcome, not who decided it or why.
var dispositionOutcomes = map[reportingv1.TerminalOutcome]policy.Outcome{
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REJECTED:      policy.OutcomeRejected,
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_CHALLENGED:    policy.OutcomeChallenged,
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REDIRECTED:    policy.OutcomeRedirected,
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_WITHDRAWN:     policy.OutcomeWithdrawn,
	reportingv1.TerminalOutcome_TERMINAL_OUTCOME_NO_DATA_FOUND: policy.OutcomeNoDataFound,
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
	Outcome         policy.Outcome
	// Timeline is the domain's, amendment entries included.
	Timeline []domain.TimelineEntry
	// Question is the Privacy Team's question while information is
	// requested, nil otherwise.
	Question *domain.Question
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
		Amendments:      make([]Amended, 0, len(v.amends)),
		SubmitTime:      protoconv.Time(r.GetSubmitTime()),
		ForwardingDelay: r.GetForwardingDelay().AsDuration(),
		LateForwarding:  r.GetLateForwarding(),
		Stage:           v.lifecycle.Stage(),
		Outcome:         v.lifecycle.Outcome(),
		Timeline:        v.lifecycle.Timeline(),
		Question:        v.lifecycle.Question(),
	}
	for _, a := range v.amends {
		out.Amendments = append(out.Amendments, Amended{
			ID:        a.p.GetAmendmentId(),
			Amendment: domain.Amendment{At: protoconv.Time(a.p.GetAmendTime()), Information: a.p.GetInformation(), Attachments: DecodeAttachments(a.p.GetAttachments())},
			Sequence:  a.seq,
		})
	}
	out.Content.Targets = nil
	for _, t := range r.GetRequest().GetTargets() {
		out.Targets = append(out.Targets, Target{
			Ref:    t.GetRef(),
			Kind:   decodeTargetKind(t.GetKind()),
			Value:  t.GetValue(),
			Sealed: slices.Clone(t.GetSealedValue()),
			// A target recorded before sealing has nothing to open: once
			// forgotten, only the view knows it was erased.
			Erased: t.GetErased() || (v.erased != nil && len(t.GetSealedValue()) == 0),
		})
	}
	return out
}
