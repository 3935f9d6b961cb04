// Package lifecycle is the request's state machine (issue 16): every
// state a request can be in, every transition with the trigger that
// causes it, in one table, so that "where does a real case go next from
// here" has one answer and a test can walk it. Each service maps its
// events to [Trigger]s; the member's view ([Stage]) and the Privacy
// Team's queue read the state.
//
// The rules it encodes:
//   - A case returns to review on an amendment, a redirect declined, a
//     DPA objection, a challenge outcome, information supplied after
//     "more information", or a fact corrected (clauses 3.3, 4.1.1,
//     4.2.1). Earlier decisions stay in the record; a new decision goes
//     through four eyes again (ProposeDecision → Approve).
//   - A withdrawal stops everything pending at once and closes the request
//     as WITHDRAWN once a Privacy Team member acknowledges it; after a
//     disclosure it is recorded and undoes nothing.
//   - Adequacy lost before the disclosure puts a cleared request back on
//     hold (4.2.1).
//   - Every state that is not terminal has a way out, and a terminal
//     state is left only by the triggers listed for it (an amendment or a
//     corrected fact can reopen a rejection: the facts it rested on
//     changed).
//
// Pure: no gRPC, NATS or clocks.
package lifecycle

import (
	"fmt"
	"slices"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// State is where a request stands.
type State string

// The states.
const (
	Received             State = "received"
	InReview             State = "in_review"
	InformationRequested State = "information_requested"
	PendingApproval      State = "pending_approval"
	// AwaitingRedirect: the decision is to ask the authority to go to the
	// customer (4.1.1); its answer is awaited.
	AwaitingRedirect State = "awaiting_redirect"
	// Challenging: the decision is to challenge the demand; its outcome,
	// confirmed by two people, sends the case back to review.
	Challenging State = "challenging"
	// InSteps: a disclosure was decided; notices, DPA steps and waits
	// run (4.1.2, 2.2).
	InSteps State = "in_steps"
	// OnHold: the 4.2.1 hold stands until a consultation outcome.
	OnHold  State = "on_hold"
	Cleared State = "cleared"
	// WithdrawalPending: the withdrawal stopped every step; one person
	// acknowledges it to close the request.
	WithdrawalPending State = "withdrawal_pending"

	// Terminal states: each is an end of the request (policy.Outcome),
	// spelled as that end. A challenge that ended the demand has no state
	// of its own (it goes back to review, 3.3).
	Disclosed   = State(policy.OutcomeDisclosed)
	NoDataFound = State(policy.OutcomeNoDataFound)
	Rejected    = State(policy.OutcomeRejected)
	Redirected  = State(policy.OutcomeRedirected)
	Withdrawn   = State(policy.OutcomeWithdrawn)
)

// Trigger is what moves a request.
type Trigger string

// The triggers, named after the events that carry them.
const (
	CaseOpened             Trigger = "case_opened"
	InformationAsked       Trigger = "information_requested"
	Amended                Trigger = "amended"
	FactCorrected          Trigger = "fact_corrected"
	DecisionProposed       Trigger = "decision_proposed"
	DecisionRejected       Trigger = "decision_rejected"
	DecidedDisclose        Trigger = "decided_disclose"
	DecidedReject          Trigger = "decided_reject"
	DecidedRedirect        Trigger = "decided_redirect"
	DecidedChallenge       Trigger = "decided_challenge"
	RedirectAgreed         Trigger = "redirect_agreed"
	RedirectDeclined       Trigger = "redirect_declined"
	ChallengeOutcome       Trigger = "challenge_outcome_confirmed"
	HoldPlaced             Trigger = "hold_placed"
	DPANoObjection         Trigger = "dpa_no_objection_confirmed"
	DPAObjected            Trigger = "dpa_objected"
	StepsDone              Trigger = "cleared"
	AdequacyLost           Trigger = "adequacy_lost"
	DisclosureRecorded     Trigger = "disclosure_recorded"
	NoDataRecorded         Trigger = "no_data_recorded"
	WithdrawalReported     Trigger = "withdrawal_reported"
	WithdrawalAcknowledged Trigger = "withdrawal_acknowledged"
)

// Transition is one row of the table.
type Transition struct {
	From    State
	Trigger Trigger
	To      State
	// Why, for the record and for people.
	Why string
}

// reopenable are the states an amendment or a corrected fact sends back
// to review: everything before the data left.
var reopenable = []State{InReview, InformationRequested, PendingApproval, AwaitingRedirect, Challenging, InSteps, OnHold, Cleared, Rejected}

// withdrawable are the states a withdrawal stops.
var withdrawable = []State{Received, InReview, InformationRequested, PendingApproval, AwaitingRedirect, Challenging, InSteps, OnHold, Cleared}

var table = func() []Transition {
	t := []Transition{
		{Received, CaseOpened, InReview, "the Privacy Team has the case (3.3)"},
		{InReview, InformationAsked, InformationRequested, "the member is asked for more information"},
		{InReview, DecisionProposed, PendingApproval, "a decision waits for a second person (four eyes)"},
		{PendingApproval, DecisionRejected, InReview, "the second person sent the decision back"},
		{PendingApproval, DecidedDisclose, InSteps, "disclosure decided: notices, DPA steps and waits run first (4.1.2, 2.2)"},
		{PendingApproval, DecidedReject, Rejected, "the demand is refused (2.1)"},
		{PendingApproval, DecidedRedirect, AwaitingRedirect, "the authority is asked to go to the customer (4.1.1)"},
		{PendingApproval, DecidedChallenge, Challenging, "the demand is challenged (3.3)"},
		{AwaitingRedirect, RedirectAgreed, Redirected, "the authority agreed to go to the customer (4.1.1)"},
		{AwaitingRedirect, RedirectDeclined, InReview, "the authority declined the redirect: a new decision is needed (4.1.1)"},
		{Challenging, ChallengeOutcome, InReview, "the challenge's outcome is confirmed: decide again within it (3.3)"},
		{InSteps, HoldPlaced, OnHold, "the request is on hold for the DPA (4.2.1)"},
		{Cleared, HoldPlaced, OnHold, "a hold placed after clearance (4.2.1)"},
		{Cleared, AdequacyLost, OnHold, "adequacy lost before the disclosure (4.2.1)"},
		{InSteps, AdequacyLost, OnHold, "adequacy lost before the disclosure (4.2.1)"},
		{OnHold, DPANoObjection, InSteps, "the DPA's outcome, confirmed by a second person, lifts the hold (4.2.1)"},
		{OnHold, DPAObjected, InReview, "the DPA objected: a new decision is needed (4.2.1)"},
		{InSteps, DPAObjected, InReview, "the DPA objected: a new decision is needed (2.2)"},
		{InSteps, StepsDone, Cleared, "every step is done: disclosure within the decided scope may proceed"},
		{Cleared, DisclosureRecorded, Disclosed, "the disclosure is recorded (2.1, 6.1)"},
		{Cleared, NoDataRecorded, NoDataFound, "no data was found to disclose"},
		{WithdrawalPending, WithdrawalAcknowledged, Withdrawn, "a Privacy Team member acknowledged the withdrawal"},
		{InformationRequested, Amended, InReview, "the member supplied the information asked for"},
	}
	for _, s := range reopenable {
		t = append(t,
			Transition{s, Amended, InReview, "the member amended the request: reviewed again with the amended facts"},
			Transition{s, FactCorrected, InReview, "a fact was corrected: flags and plan recomputed, reviewed again"},
		)
	}
	for _, s := range withdrawable {
		t = append(t, Transition{s, WithdrawalReported, WithdrawalPending, "the authority withdrew the request: every pending step stops"})
	}
	// After the data left, a withdrawal, an amendment or a correction is
	// recorded and undoes nothing: the state stays.
	for _, s := range []State{Disclosed, NoDataFound} {
		t = append(t,
			Transition{s, WithdrawalReported, s, "withdrawn after the disclosure: recorded, undoes nothing"},
			Transition{s, Amended, s, "amended after the disclosure: recorded, undoes nothing"},
		)
	}
	return dedupe(t)
}()

// dedupe keeps the first row of each (From, Trigger): the explicit rows
// above win over the generated ones.
func dedupe(t []Transition) []Transition {
	seen := map[[2]string]bool{}
	out := t[:0]
	for _, r := range t {
		k := [2]string{string(r.From), string(r.Trigger)}
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

// Table returns every transition.
func Table() []Transition { return slices.Clone(table) }

// States lists every state.
func States() []State {
	return []State{Received, InReview, InformationRequested, PendingApproval, AwaitingRedirect, Challenging, InSteps, OnHold, Cleared, WithdrawalPending, Disclosed, NoDataFound, Rejected, Redirected, Withdrawn}
}

// Terminal reports whether a request in s is closed.
func Terminal(s State) bool {
	return slices.Contains([]State{Disclosed, NoDataFound, Rejected, Redirected, Withdrawn}, s)
}

// End is how a request in terminal state s ended; "" for a state that is
// not terminal.
func End(s State) policy.Outcome {
	if !Terminal(s) {
		return ""
	}
	return policy.Outcome(s)
}

// EndState is the terminal state of end o; ok is false for an end with no
// state of its own (challenged).
func EndState(o policy.Outcome) (s State, ok bool) {
	s = State(o)
	return s, Terminal(s)
}

// ErrNoTransition is wrapped when a trigger does not apply in a state.
type ErrNoTransition struct {
	From    State
	Trigger Trigger
}

func (e *ErrNoTransition) Error() string {
	return fmt.Sprintf("lifecycle: %s does not apply to a request that is %s", e.Trigger, e.From)
}

// Next returns where trigger moves a request in from.
func Next(from State, trigger Trigger) (Transition, error) {
	for _, r := range table {
		if r.From == from && r.Trigger == trigger {
			return r, nil
		}
	}
	return Transition{}, &ErrNoTransition{From: from, Trigger: trigger}
}

// Exits lists the transitions out of s.
func Exits(s State) []Transition {
	var out []Transition
	for _, r := range table {
		if r.From == s && r.To != s {
			out = append(out, r)
		}
	}
	return out
}

// Stage is what a group member sees of a request (issue 16 item 8).
type Stage string

// The stages.
const (
	StageReceived             Stage = "received"
	StageInReview             Stage = "in_review"
	StageInformationRequested Stage = "information_requested"
	StageOnHold               Stage = "on_hold"
	StageCleared              Stage = "cleared"
	StageClosed               Stage = "closed"
)

// StageOf maps a state to the member's stage. Internal steps (four eyes,
// a redirect or challenge under way, notices in flight) are "in review"
// to the member: they tell the member nothing the member may act on. A
// withdrawal awaiting acknowledgement is closed to the member: every step
// already stopped, and nothing more will happen to it.
func StageOf(s State) Stage {
	switch s {
	case Received:
		return StageReceived
	case InformationRequested:
		return StageInformationRequested
	case OnHold:
		return StageOnHold
	case Cleared:
		return StageCleared
	}
	if Terminal(s) || s == WithdrawalPending {
		return StageClosed
	}
	return StageInReview
}
