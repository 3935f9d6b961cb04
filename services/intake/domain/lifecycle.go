package domain

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Stage is where a request stands as its group member sees it: the
// member's stage of platform/lifecycle ([lifecycle.StageOf]) in intake's
// words, which are the proto's (STAGE_UNDER_REVIEW). None of them carries
// anything of the Privacy Team's deliberations: the group member learns
// that the request moved and when, not what was weighed; the one thing the
// Privacy Team says to the member is its question when it asks for more
// information.
type Stage string

// Stages.
const (
	StageReceived             Stage = "received"
	StageUnderReview          Stage = "under_review"
	StageInformationRequested Stage = "information_requested"
	StageOnHold               Stage = "on_hold"
	StageCleared              Stage = "cleared"
	StageClosed               Stage = "closed"
	// StageAmended is a timeline entry only; the stage does not change.
	StageAmended Stage = "amended"
)

// Stages lists the stages a request can be in (not the amended entry).
func Stages() []Stage {
	return []Stage{StageReceived, StageUnderReview, StageInformationRequested, StageOnHold, StageCleared, StageClosed}
}

// memberStage is a lifecycle stage in intake's words.
func memberStage(s lifecycle.Stage) Stage {
	switch s {
	case lifecycle.StageReceived:
		return StageReceived
	case lifecycle.StageInformationRequested:
		return StageInformationRequested
	case lifecycle.StageOnHold:
		return StageOnHold
	case lifecycle.StageCleared:
		return StageCleared
	case lifecycle.StageClosed:
		return StageClosed
	}
	return StageUnderReview
}

// Errors of the lifecycle. Each matches ddrerr.ErrFailedPrecondition.
var (
	ErrClosed      = fmt.Errorf("%w: request is closed", ddrerr.ErrFailedPrecondition)
	ErrWithdrawn   = fmt.Errorf("%w: request was withdrawn", ddrerr.ErrFailedPrecondition)
	ErrStageChange = fmt.Errorf("%w: stage change not allowed", ddrerr.ErrFailedPrecondition)
)

// TriggerClosed is a fact intake adds to the lifecycle's triggers: the
// record was closed with an outcome (reporting's disposition) where the
// table has no transition for it, e.g. a challenge that ended the demand.
// The record is the truth: the view closes with the recorded outcome.
const TriggerClosed lifecycle.Trigger = "closed_recorded"

// Fact is something another service recorded about a request, as the
// member's view reads it: the trigger it carries, when, the outcome of a
// closing fact, and the question of an information request. Nothing else
// of the Privacy Team's work has room here.
type Fact struct {
	Trigger lifecycle.Trigger
	At      time.Time
	// Outcome is set on [TriggerClosed] and only there.
	Outcome policy.Outcome
	// Question is set on [lifecycle.InformationAsked] only: the one thing
	// the Privacy Team says to the member.
	Question string
}

// TimelineEntry is one line of the group member's status timeline.
type TimelineEntry struct {
	Stage   Stage
	Outcome policy.Outcome // set on the closed entry only
	At      time.Time
}

// Amendment adds information or attachments to a request. It never
// replaces anything: the original request and earlier amendments stay as
// they were, and every amendment is kept in order.
type Amendment struct {
	At          time.Time    // when intake accepted it
	Information string       // information
	Attachments []Attachment // attachments
}

// Validate checks an amendment's content; field paths are relative to the
// amendment ("information", "attachments[0].sha256").
func (a Amendment) Validate(limits Limits) error {
	l := limits.withDefaults()
	v := newViolations(l.MaxViolations)
	if v.text("information", a.Information, l.MaxTextLen, false) && blank(a.Information) && len(a.Attachments) == 0 {
		v.add("information", "information or at least one attachment is required")
	}
	v.attachments("attachments", a.Attachments, l)
	return v.err()
}

// ContentDigest digests an amendment's content (not its time), so that an
// amendment retried with the same idempotency key can be told apart from a
// different one; see [Request.ContentDigest].
func (a Amendment) ContentDigest() Digest {
	var e canon
	e.str("ddr.intake.amendment.v1")
	e.field("information", a.Information)
	e.attachments("attachments", a.Attachments)
	return sha256.Sum256(e.b)
}

// Question is the Privacy Team's open question to the member.
type Question struct {
	Text string
	At   time.Time
}

// Lifecycle is a request's state as intake knows it, folded from its
// facts: receipt, amendments, withdrawal, and what the other services
// recorded. It walks the one state machine of platform/lifecycle: each
// fact is a trigger of its table. Commands check it before appending an
// event; a fold applies the same methods to recorded events.
//
// The view sees fewer events than the table names: not the Privacy
// Team's proposals (deliberations), not the lift of every hold. A fact
// the table allows only after such an unseen one (a decision, which
// implies it was proposed; a clearance after a hold, which implies the
// hold lifted) takes that step first. Any other fact the table refuses is
// refused, and the view stays as it was.
type Lifecycle struct {
	state      lifecycle.State
	outcome    policy.Outcome // overrides the state's outcome (a challenge that closed the demand)
	withdrawn  bool
	erased     bool
	question   *Question
	amendments []Amendment
	timeline   []TimelineEntry
}

// NewLifecycle starts the lifecycle of a request received at receivedAt.
func NewLifecycle(receivedAt time.Time) *Lifecycle {
	return &Lifecycle{
		state:    lifecycle.Received,
		timeline: []TimelineEntry{{Stage: StageReceived, At: receivedAt}},
	}
}

// State is the request's state in the lifecycle table.
func (l *Lifecycle) State() lifecycle.State { return l.state }

// Stage is the member's stage; amendments do not change it by themselves.
func (l *Lifecycle) Stage() Stage { return memberStage(lifecycle.StageOf(l.state)) }

// Outcome is set once the request is closed to the member.
func (l *Lifecycle) Outcome() policy.Outcome {
	if l.outcome != "" {
		return l.outcome
	}
	if l.state == lifecycle.WithdrawalPending {
		return policy.OutcomeWithdrawn // every step stopped: closed to the member
	}
	return lifecycle.End(l.state)
}

// Question is the Privacy Team's question while information is requested,
// nil otherwise.
func (l *Lifecycle) Question() *Question {
	if l.state != lifecycle.InformationRequested || l.question == nil {
		return nil
	}
	q := *l.question
	return &q
}

// Withdrawn reports whether the authority withdrew the request.
func (l *Lifecycle) Withdrawn() bool { return l.withdrawn }

// Closed reports whether the request is closed to its member.
func (l *Lifecycle) Closed() bool { return l.Stage() == StageClosed }

// Amendments returns the amendments in the order they were made.
func (l *Lifecycle) Amendments() []Amendment { return slices.Clone(l.amendments) }

// Timeline returns the group member's status timeline, oldest first.
func (l *Lifecycle) Timeline() []TimelineEntry { return slices.Clone(l.timeline) }

// ErrTargetsErased refuses to add to a request whose targets were erased
// at the end of its retention. Their erasure shredded the customers too
// (intake's targets and assessment's customers share the SUBJECT key), so
// a request sent back to review then would be decided, and a disclosure
// planned, with no customer left to ask for the redirect (4.1.1) or to
// notify before the disclosure (4.1.2).
var ErrTargetsErased = ddrerr.Policy(policy.Clause4_1_2, policy.RuleTargetsErased,
	"the request's targets were erased at the end of its retention, and with them the customers it concerns: it can no longer be amended or reopened, since a new decision would skip the customer's redirect ask and notice; send the information as a new request")

// Erased records that the request's targets were erased (intake's
// TargetsErased). It changes no stage: only an erasure of a closed request
// is recorded.
func (l *Lifecycle) Erased() { l.erased = true }

// CanAmend returns nil while the member may amend: before the request is
// closed or withdrawn, or to reopen a rejection (the table's "an amendment
// can reopen a rejection: the facts it rested on changed"). While
// information is requested, an amendment is how the member answers.
func (l *Lifecycle) CanAmend() error {
	switch {
	case l.withdrawn:
		return fmt.Errorf("%w; it can no longer be amended", ErrWithdrawn)
	case l.Closed() && !l.reopens(lifecycle.Amended):
		return fmt.Errorf("%w; it can no longer be amended", ErrClosed)
	}
	return nil
}

// reopens reports whether trigger takes a closed request out of its state.
func (l *Lifecycle) reopens(trigger lifecycle.Trigger) bool {
	t, err := lifecycle.Next(l.state, trigger)
	return err == nil && t.To != l.state && l.outcome == ""
}

// ErrTooManyAmendments refuses an amendment past [Limits.MaxAmendments].
var ErrTooManyAmendments = fmt.Errorf("%w: the request has the most amendments it may have", ddrerr.ErrFailedPrecondition)

// CanAmendWithin is [Lifecycle.CanAmend] for a new amendment: it also
// refuses one past limits.MaxAmendments, and any once the targets were
// erased ([ErrTargetsErased]). The fold checks neither, so a recorded
// amendment always folds, whatever the limit became, and one an older
// intake recorded after an erasure shows as recorded.
func (l *Lifecycle) CanAmendWithin(limits Limits) error {
	if l.erased {
		return ErrTargetsErased
	}
	if err := l.CanAmend(); err != nil {
		return err
	}
	if max := limits.withDefaults().MaxAmendments; len(l.amendments) >= max {
		return fmt.Errorf("%w (%d); send further information as a new request", ErrTooManyAmendments, max)
	}
	return nil
}

// Amend records an amendment if [Lifecycle.CanAmend] allows it. Validate
// the amendment first; Amend checks only the state. Where the table says
// an amendment sends the request back to review (information supplied, a
// decision not yet carried out, a rejection), the member sees it in
// review at once; assessment's reopening confirms it.
func (l *Lifecycle) Amend(a Amendment) error {
	if err := l.CanAmend(); err != nil {
		return err
	}
	a.Attachments = slices.Clone(a.Attachments)
	l.amendments = append(l.amendments, a)
	l.timeline = append(l.timeline, TimelineEntry{Stage: StageAmended, At: a.At})
	if t, err := lifecycle.Next(l.state, lifecycle.Amended); err == nil {
		l.move(t.To, a.At)
	}
	return nil
}

// CanWithdraw returns nil while the table lets a withdrawal in: before the
// request ended, or after a disclosure (recorded; it undoes nothing).
func (l *Lifecycle) CanWithdraw() error {
	if l.withdrawn {
		return fmt.Errorf("%w already", ErrWithdrawn)
	}
	if _, err := lifecycle.Next(l.state, lifecycle.WithdrawalReported); err != nil || l.outcome != "" {
		return fmt.Errorf("%w; it can no longer be withdrawn", ErrClosed)
	}
	return nil
}

// Withdraw records that the authority withdrew the request: every pending
// step stops and the member sees it closed as withdrawn, unless the data
// had already left (then it is recorded and the outcome stays).
func (l *Lifecycle) Withdraw(at time.Time) error {
	if err := l.CanWithdraw(); err != nil {
		return err
	}
	t, _ := lifecycle.Next(l.state, lifecycle.WithdrawalReported)
	l.withdrawn = true
	l.move(t.To, at)
	return nil
}

// implied are the triggers the view does not see that the table needs
// before another: a decision was proposed first; a hold lifted before the
// steps were done.
var implied = map[lifecycle.Trigger]lifecycle.Trigger{
	lifecycle.DecidedDisclose:  lifecycle.DecisionProposed,
	lifecycle.DecidedReject:    lifecycle.DecisionProposed,
	lifecycle.DecidedRedirect:  lifecycle.DecisionProposed,
	lifecycle.DecidedChallenge: lifecycle.DecisionProposed,
	lifecycle.StepsDone:        lifecycle.DPANoObjection,
}

// Apply records a fact another service recorded. A fact the table refuses
// in the current state wraps [ErrStageChange] (or [ErrClosed]) and changes
// nothing; a fact that moves nothing (a redelivery, a reopening the view
// already showed) is no error.
func (l *Lifecycle) Apply(f Fact) error {
	if f.Trigger == TriggerClosed {
		return l.close(f)
	}
	if f.Outcome != "" {
		return fmt.Errorf("%w: only a closing fact carries an outcome", ErrStageChange)
	}
	if f.Trigger == lifecycle.WithdrawalReported {
		return fmt.Errorf("%w: a withdrawal is intake's own fact", ErrStageChange)
	}
	t, err := lifecycle.Next(l.state, f.Trigger)
	if err != nil {
		p, ok := implied[f.Trigger]
		if !ok {
			return l.refuse(f.Trigger, err)
		}
		first, perr := lifecycle.Next(l.state, p)
		if perr != nil {
			return l.refuse(f.Trigger, err)
		}
		if t, err = lifecycle.Next(first.To, f.Trigger); err != nil {
			return l.refuse(f.Trigger, err)
		}
	}
	if f.Trigger == lifecycle.InformationAsked {
		l.question = &Question{Text: f.Question, At: f.At}
	}
	if l.outcome != "" && t.To != l.state {
		l.outcome = ""
	}
	l.move(t.To, f.At)
	return nil
}

// refuse wraps a refusal of the table.
func (l *Lifecycle) refuse(trigger lifecycle.Trigger, err error) error {
	if l.Closed() {
		return fmt.Errorf("%w; %s does not apply: %w", ErrClosed, trigger, err)
	}
	return fmt.Errorf("%w: %w", ErrStageChange, err)
}

// close records that the request ended with f.Outcome. Where the table
// leads there (a disclosure or no data recorded after clearance) it is
// that transition; otherwise the record says so and the view closes.
func (l *Lifecycle) close(f Fact) error {
	if !f.Outcome.Valid() {
		return fmt.Errorf("%w: closing needs a known outcome", ErrStageChange)
	}
	if l.Closed() {
		if l.Outcome() == f.Outcome || (l.withdrawn && f.Outcome == policy.OutcomeWithdrawn) {
			return nil // the end already shown, recorded again
		}
		return fmt.Errorf("%w; it cannot close again as %s", ErrClosed, f.Outcome)
	}
	if f.Outcome == policy.OutcomeChallenged {
		// The demand ended on the challenge: refused, as the member sees it.
		l.outcome = policy.OutcomeChallenged
		l.move(lifecycle.Rejected, f.At)
		return nil
	}
	to, _ := lifecycle.EndState(f.Outcome) // every end but challenged has one
	l.move(to, f.At)
	return nil
}

// move puts the request in state to at time at, and adds a timeline entry
// when the member's stage (or a closed request's outcome) changes.
func (l *Lifecycle) move(to lifecycle.State, at time.Time) {
	before, beforeOutcome := l.Stage(), l.Outcome()
	l.state = to
	if s, o := l.Stage(), l.Outcome(); s != before || (s == StageClosed && o != beforeOutcome) {
		e := TimelineEntry{Stage: s, At: at}
		if s == StageClosed {
			e.Outcome = o
		}
		l.timeline = append(l.timeline, e)
	}
}
