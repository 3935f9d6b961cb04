package domain

import (
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Event is something that happened to a case. Events are the record; a
// case's state is their fold (see [Case.Apply]).
type Event interface {
	// EventName is a stable name, e.g. "CaseOpened".
	EventName() string
	// Actor is who caused the event; empty for the system.
	Actor() string
	// OccurredAt is when it happened.
	OccurredAt() time.Time
	isEvent()
}

// Meta is embedded in every event.
type Meta struct {
	By string
	At time.Time
}

// Actor returns m.By.
func (m Meta) Actor() string { return m.By }

// OccurredAt returns m.At.
func (m Meta) OccurredAt() time.Time { return m.At }

func (Meta) isEvent() {}

// CaseOpened starts a case. It freezes the facts, flags and rules the case
// is assessed under, so replaying it later gives the same result even if
// configuration has changed since.
type CaseOpened struct {
	Meta
	RequestID string
	Facts     RequestFacts
	Flags     []Flag
	Rules     Rules
	ReviewDue time.Time
}

// Assigned gives the case to a reviewer. A claim is an assignment to
// oneself.
type Assigned struct {
	Meta
	Assignee string
}

// FactorRecorded records the reviewer's assessment of one factor (3.3); a
// later record of the same factor supersedes it.
type FactorRecorded struct {
	Meta
	Factor     Factor
	Assessment string
}

// RightsWeighed records how the privacy rights and freedoms of the affected
// people were weighed (2.1).
type RightsWeighed struct {
	Meta
	Text string
}

// CounselConsulted records a consultation of counsel (3.3).
type CounselConsulted struct {
	Meta
	Kind        CounselKind
	Counsel     string
	ConsultedAt time.Time
	Summary     string
}

// ChallengeConsidered records whether a challenge is warranted and why (3.3).
type ChallengeConsidered struct {
	Meta
	Warranted bool
	Reasoning string
}

// DecisionProposed puts a disclosure up for approval by other people.
type DecisionProposed struct {
	Meta
	Decision      Decision
	PolicyVersion string
}

// DecisionApproved is one approval of the pending disclosure by someone
// other than its proposer. Roles are the approver's roles when approving:
// some disclosures need a legal approver (2.1).
type DecisionApproved struct {
	Meta
	Roles []policy.Role
}

// ImminentRiskJustified records a reviewer's justification of an imminent
// risk of serious harm that the authority did not claim (2.1).
type ImminentRiskJustified struct {
	Meta
	Text string
}

// ChallengeOutcomeProposed: one person recorded the outcome of a challenge
// judged warranted; it counts once confirmed.
type ChallengeOutcomeProposed struct {
	Meta
	Outcome ChallengeOutcome
	Lift    policy.Lift
}

// ChallengeOutcomeConfirmed: a second person (legal) confirmed it.
type ChallengeOutcomeConfirmed struct {
	Meta
	Roles []policy.Role
}

// DecisionRejected sends a pending disclosure back to review.
type DecisionRejected struct {
	Meta
	Reason string
}

// CaseDecided is the decision taking effect: immediately for decisions that
// disclose nothing, after the last required approval for a disclosure. It
// carries what notification needs.
type CaseDecided struct {
	Meta
	Decision      Decision
	DecidedBy     string
	ApprovedBy    []string
	PolicyVersion string
	Notification  NotificationRequirements
}

// ReviewOverdue records that the review deadline passed undecided.
type ReviewOverdue struct {
	Meta
	Due time.Time
}

// RequestWithdrawn records that the authority withdrew its request. Intake
// records the withdrawal; the case folds it from the same history, so no
// command can act on a withdrawn case even before any assessment event says
// so. A decision already in effect stays in the record.
type RequestWithdrawn struct {
	Meta
}

// EventName implementations.
func (CaseOpened) EventName() string          { return "CaseOpened" }
func (Assigned) EventName() string            { return "Assigned" }
func (FactorRecorded) EventName() string      { return "FactorRecorded" }
func (RightsWeighed) EventName() string       { return "RightsWeighed" }
func (CounselConsulted) EventName() string    { return "CounselConsulted" }
func (ChallengeConsidered) EventName() string { return "ChallengeConsidered" }
func (DecisionProposed) EventName() string    { return "DecisionProposed" }
func (DecisionApproved) EventName() string    { return "DecisionApproved" }
func (DecisionRejected) EventName() string    { return "DecisionRejected" }
func (CaseDecided) EventName() string         { return "CaseDecided" }
func (ReviewOverdue) EventName() string       { return "ReviewOverdue" }
func (RequestWithdrawn) EventName() string    { return "RequestWithdrawn" }
func (ImminentRiskJustified) EventName() string {
	return "ImminentRiskJustified"
}
func (ChallengeOutcomeProposed) EventName() string  { return "ChallengeOutcomeProposed" }
func (ChallengeOutcomeConfirmed) EventName() string { return "ChallengeOutcomeConfirmed" }
