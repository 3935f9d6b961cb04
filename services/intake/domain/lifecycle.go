package domain

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// Stage is where a request stands as its group member sees it. Intake
// records receipt, amendments and withdrawal itself; the other stages are
// reported by assessment and notification and fed in by the app layer as
// [StageChange]s. None of them carries anything of the Privacy Team's
// deliberations: the group member learns that a decision was taken and
// when, not what was weighed.
type Stage string

// Stages.
const (
	StageReceived    Stage = "received"
	StageAmended     Stage = "amended" // a timeline entry only; the stage does not change
	StageWithdrawn   Stage = "withdrawn"
	StageUnderReview Stage = "under_review"
	StageDecided     Stage = "decided"
	StageOnHold      Stage = "on_hold"
	StageCleared     Stage = "cleared"
	StageClosed      Stage = "closed"
)

// ReportedStages lists the stages other services report through
// [Lifecycle.ApplyStageChange].
func ReportedStages() []Stage {
	return []Stage{StageUnderReview, StageDecided, StageOnHold, StageCleared, StageClosed}
}

// Outcome is how a closed request ended.
type Outcome string

// Outcomes.
const (
	OutcomeRedirected Outcome = "redirected" // the authority went to the customer (clause 4.1.1)
	OutcomeRejected   Outcome = "rejected"
	OutcomeChallenged Outcome = "challenged"
	OutcomeDisclosed  Outcome = "disclosed"
	OutcomeWithdrawn  Outcome = "withdrawn"
	OutcomeNoData     Outcome = "no_data"
)

// Outcomes lists every known outcome.
func Outcomes() []Outcome {
	return []Outcome{OutcomeRedirected, OutcomeRejected, OutcomeChallenged, OutcomeDisclosed, OutcomeWithdrawn, OutcomeNoData}
}

// Errors of the lifecycle. Each matches ddrerr.ErrFailedPrecondition.
var (
	ErrClosed      = fmt.Errorf("%w: request is closed", ddrerr.ErrFailedPrecondition)
	ErrWithdrawn   = fmt.Errorf("%w: request was withdrawn", ddrerr.ErrFailedPrecondition)
	ErrStageChange = fmt.Errorf("%w: stage change not allowed", ddrerr.ErrFailedPrecondition)
)

// StageChange is a stage reported by another service. Outcome is set for
// [StageClosed] and only then.
type StageChange struct {
	Stage   Stage
	Outcome Outcome
	At      time.Time
}

// TimelineEntry is one line of the group member's status timeline.
type TimelineEntry struct {
	Stage   Stage
	Outcome Outcome // set on the closed entry only
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

// Lifecycle is a request's state folded from its facts: receipt,
// amendments, withdrawal and the stages other services report. Commands
// check it before appending an event; a fold applies the same methods to
// recorded events.
//
// Reported stages follow a few rules, each a causal fact of the design:
// nothing follows closed; after a withdrawal only closed may follow;
// decided needs a review first and cleared a decision first; reporting the
// current stage again changes nothing (a redelivered event). Otherwise a
// request may move freely, e.g. back under review after an amendment, or
// on hold again.
type Lifecycle struct {
	stage      Stage
	outcome    Outcome
	withdrawn  bool
	reviewed   bool
	decided    bool
	amendments []Amendment
	timeline   []TimelineEntry
}

// NewLifecycle starts the lifecycle of a request received at receivedAt.
func NewLifecycle(receivedAt time.Time) *Lifecycle {
	return &Lifecycle{
		stage:    StageReceived,
		timeline: []TimelineEntry{{Stage: StageReceived, At: receivedAt}},
	}
}

// Stage is the current stage; amendments do not change it.
func (l *Lifecycle) Stage() Stage { return l.stage }

// Outcome is set once the request is closed.
func (l *Lifecycle) Outcome() Outcome { return l.outcome }

// Withdrawn reports whether the authority withdrew the request.
func (l *Lifecycle) Withdrawn() bool { return l.withdrawn }

// Closed reports whether the request is closed.
func (l *Lifecycle) Closed() bool { return l.stage == StageClosed }

// Amendments returns the amendments in the order they were made.
func (l *Lifecycle) Amendments() []Amendment { return slices.Clone(l.amendments) }

// Timeline returns the group member's status timeline, oldest first.
func (l *Lifecycle) Timeline() []TimelineEntry { return slices.Clone(l.timeline) }

// CanAmend returns nil while the request is neither withdrawn nor closed.
func (l *Lifecycle) CanAmend() error {
	switch {
	case l.Closed():
		return fmt.Errorf("%w; it can no longer be amended", ErrClosed)
	case l.withdrawn:
		return fmt.Errorf("%w; it can no longer be amended", ErrWithdrawn)
	}
	return nil
}

// ErrTooManyAmendments refuses an amendment past [Limits.MaxAmendments].
var ErrTooManyAmendments = fmt.Errorf("%w: the request has the most amendments it may have", ddrerr.ErrFailedPrecondition)

// CanAmendWithin is [Lifecycle.CanAmend] for a new amendment: it also
// refuses one past limits.MaxAmendments. The fold does not check the
// limit, so a recorded amendment always folds, whatever the limit became.
func (l *Lifecycle) CanAmendWithin(limits Limits) error {
	if err := l.CanAmend(); err != nil {
		return err
	}
	if max := limits.withDefaults().MaxAmendments; len(l.amendments) >= max {
		return fmt.Errorf("%w (%d); send further information as a new request", ErrTooManyAmendments, max)
	}
	return nil
}

// Amend records an amendment if [Lifecycle.CanAmend] allows it. Validate the
// amendment first; Amend checks only the state.
func (l *Lifecycle) Amend(a Amendment) error {
	if err := l.CanAmend(); err != nil {
		return err
	}
	a.Attachments = slices.Clone(a.Attachments)
	l.amendments = append(l.amendments, a)
	l.timeline = append(l.timeline, TimelineEntry{Stage: StageAmended, At: a.At})
	return nil
}

// CanWithdraw returns nil unless the request is closed or already withdrawn.
func (l *Lifecycle) CanWithdraw() error {
	switch {
	case l.Closed():
		return fmt.Errorf("%w; it can no longer be withdrawn", ErrClosed)
	case l.withdrawn:
		return fmt.Errorf("%w already", ErrWithdrawn)
	}
	return nil
}

// Withdraw records that the authority withdrew the request.
func (l *Lifecycle) Withdraw(at time.Time) error {
	if err := l.CanWithdraw(); err != nil {
		return err
	}
	l.withdrawn = true
	l.stage = StageWithdrawn
	l.timeline = append(l.timeline, TimelineEntry{Stage: StageWithdrawn, At: at})
	return nil
}

// ApplyStageChange records a stage reported by another service; see
// [Lifecycle] for the rules. A refusal wraps [ErrClosed], [ErrWithdrawn] or
// [ErrStageChange].
func (l *Lifecycle) ApplyStageChange(c StageChange) error {
	if !known(c.Stage, ReportedStages()) {
		return fmt.Errorf("%w: %q is not a stage other services report", ErrStageChange, c.Stage)
	}
	if c.Stage == StageClosed && !known(c.Outcome, Outcomes()) {
		return fmt.Errorf("%w: closing needs a known outcome", ErrStageChange)
	}
	if c.Stage != StageClosed && c.Outcome != "" {
		return fmt.Errorf("%w: only closing carries an outcome", ErrStageChange)
	}
	switch {
	case l.Closed():
		return fmt.Errorf("%w; it cannot move to %s", ErrClosed, c.Stage)
	case l.withdrawn && c.Stage != StageClosed:
		return fmt.Errorf("%w; it can only be closed, not moved to %s", ErrWithdrawn, c.Stage)
	case c.Stage == l.stage:
		return nil
	case c.Stage == StageDecided && !l.reviewed:
		return fmt.Errorf("%w: decided before under review", ErrStageChange)
	case c.Stage == StageCleared && !l.decided:
		return fmt.Errorf("%w: cleared before decided", ErrStageChange)
	}
	switch c.Stage {
	case StageUnderReview:
		l.reviewed = true
	case StageDecided:
		l.decided = true
	case StageClosed:
		l.outcome = c.Outcome
	}
	l.stage = c.Stage
	l.timeline = append(l.timeline, TimelineEntry(c))
	return nil
}
