package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// This file is the case's lifecycle (issue 16): where the case stands in
// the request's state machine (platform/lifecycle, the one table of
// states and transitions), and the commands and events that move it back
// to review, ask for more information, acknowledge a withdrawal and link
// one demand's cases. Status stays what it was (open, in review, pending
// approval, decided, withdrawn) so that old readers keep working; State
// is the finer lifecycle state.

// Status values added by issue 16.
const (
	// StatusInformationRequested: the group member was asked for more
	// information; the case waits for the amendment that answers it.
	StatusInformationRequested Status = "information_requested"
)

// ReopenTrigger is what sent a case back to review.
type ReopenTrigger string

// The reopen triggers (events.proto ReopenTrigger).
const (
	ReopenAmended             ReopenTrigger = "amended"
	ReopenInformationSupplied ReopenTrigger = "information_supplied"
	ReopenRedirectDeclined    ReopenTrigger = "redirect_declined"
	ReopenDPAObjected         ReopenTrigger = "dpa_objected"
	ReopenChallengeOutcome    ReopenTrigger = "challenge_outcome"
	ReopenFactCorrected       ReopenTrigger = "fact_corrected"
)

// lifecycleTrigger is the table's trigger for a reopen trigger.
func (t ReopenTrigger) lifecycleTrigger() lifecycle.Trigger {
	switch t {
	case ReopenAmended, ReopenInformationSupplied:
		return lifecycle.Amended
	case ReopenRedirectDeclined:
		return lifecycle.RedirectDeclined
	case ReopenDPAObjected:
		return lifecycle.DPAObjected
	case ReopenChallengeOutcome:
		return lifecycle.ChallengeOutcome
	case ReopenFactCorrected:
		return lifecycle.FactCorrected
	}
	return ""
}

// CaseReopened sends the case back to review: the decision in effect (if
// any) moves to the case's earlier decisions, a pending proposal and an
// open question lapse, and a new decision goes through four eyes again.
type CaseReopened struct {
	Meta
	Trigger ReopenTrigger
	// CauseEventID is the event that caused it; a redelivered cause
	// reopens nothing twice.
	CauseEventID         string
	SupersededDecisionID string
	// Reason is the lifecycle table's sentence (no personal data).
	Reason string
	// ReviewDue is the review deadline counted from the reopening (3.1);
	// zero on reopenings recorded before it existed.
	ReviewDue time.Time
}

// InformationRequested asks the group member for more information.
type InformationRequested struct {
	Meta
	Question string
}

// WithdrawalAcknowledged is one Privacy Team member acknowledging the
// authority's withdrawal.
type WithdrawalAcknowledged struct {
	Meta
	AfterDisclosure bool
}

// CaseLinked records that the request is the same demand as another.
type CaseLinked struct {
	Meta
	LinkedRequestID string
	Reason          string
}

// DispositionRecorded is reporting's record of what happened to the
// request, as the case folds it: after a disclosure nothing reopens, and a
// withdrawal is only recorded.
type DispositionRecorded struct {
	Meta
	// Disclosed: data left; NoData: nothing was found to disclose.
	Disclosed bool
	NoData    bool
}

// RedirectAgreed is notification's record that the authority agreed to go
// to the customer (4.1.1): the request ends as redirected.
type RedirectAgreed struct {
	Meta
}

// TargetsErased is intake's record that the request's targets were erased
// at the end of its retention: its SUBJECT key is gone, and with it the
// customers in the case's facts. The case folds it so that nothing sends
// it back to review ([Case.errErased]).
type TargetsErased struct {
	Meta
}

// EventName implementations.
func (CaseReopened) EventName() string           { return "CaseReopened" }
func (InformationRequested) EventName() string   { return "InformationRequested" }
func (WithdrawalAcknowledged) EventName() string { return "WithdrawalAcknowledged" }
func (CaseLinked) EventName() string             { return "CaseLinked" }
func (DispositionRecorded) EventName() string    { return "DispositionRecorded" }
func (RedirectAgreed) EventName() string         { return "RedirectAgreed" }
func (TargetsErased) EventName() string          { return "TargetsErased" }

// Question is an open request for more information.
type Question struct {
	Text string
	By   string
	At   time.Time
}

// Reopening is one return to review, for the record and the view.
type Reopening = CaseReopened

// Link is a link to another request of the same demand.
type Link struct {
	RequestID string
	Reason    string
	By        string
	At        time.Time
}

// Acknowledgement is the acknowledgement of a withdrawal.
type Acknowledgement struct {
	By              string
	At              time.Time
	AfterDisclosure bool
}

// MaxQuestion bounds a question's length in characters.
const MaxQuestion = 4000

// MaxLinkReason bounds a link's reason in characters.
const MaxLinkReason = 4000

// move follows the lifecycle table; a trigger the table does not know in
// the current state leaves it (Apply never refuses a recorded fact).
func (c *Case) move(t lifecycle.Trigger) {
	if tr, err := lifecycle.Next(c.state, t); err == nil {
		c.state = tr.To
	}
}

// moves are the events whose only mark on the lifecycle is the table's
// move on their trigger.
var moves = map[string]lifecycle.Trigger{
	DecisionProposed{}.EventName():          lifecycle.DecisionProposed,
	DecisionRejected{}.EventName():          lifecycle.DecisionRejected,
	ChallengeOutcomeConfirmed{}.EventName(): lifecycle.ChallengeOutcome,
	RedirectAgreed{}.EventName():            lifecycle.RedirectAgreed,
	RequestWithdrawn{}.EventName():          lifecycle.WithdrawalReported,
}

// decidedStates are where a recorded decision puts the case. A decision
// that discloses nothing takes effect without a proposal (the table's
// PendingApproval row is the four-eyes path), so the decision sets the
// state rather than moving it.
var decidedStates = map[policy.DecisionKind]lifecycle.State{
	policy.DecisionDisclose:           lifecycle.InSteps,
	policy.DecisionReject:             lifecycle.Rejected,
	policy.DecisionRedirectToCustomer: lifecycle.AwaitingRedirect,
	policy.DecisionChallenge:          lifecycle.Challenging,
}

// applyLifecycle folds the issue-16 events and moves the lifecycle state
// for every event. It runs after the status switch of Apply.
func (c *Case) applyLifecycle(e Event) {
	if t, ok := moves[e.EventName()]; ok {
		c.move(t)
		return
	}
	switch e := e.(type) {
	case CaseOpened:
		c.state = lifecycle.Received
		c.move(lifecycle.CaseOpened)
	case CaseDecided:
		if s, ok := decidedStates[e.Decision.Kind]; ok {
			c.state = s
		}
	case DispositionRecorded:
		c.disclosed = c.disclosed || e.Disclosed
		c.dataSettled = true
		switch {
		case e.Disclosed:
			c.state = lifecycle.Disclosed
		case e.NoData:
			c.state = lifecycle.NoDataFound
		}
	case InformationRequested:
		c.question = &Question{Text: e.Question, By: e.By, At: e.At}
		c.proposal = nil
		c.status = StatusInformationRequested
		c.state = lifecycle.InformationRequested
	case CaseReopened:
		c.reopenings = append(c.reopenings, e)
		if c.decided != nil {
			c.earlier = append(c.earlier, *c.decided)
			c.decided = nil
		}
		c.proposal = nil
		c.question = nil
		c.status = StatusInReview
		c.state = lifecycle.InReview
		if !e.ReviewDue.IsZero() {
			// Reviewed again within the policy's time: a new deadline, and
			// overdue again (once) if it passes.
			c.reviewDue, c.overdue = e.ReviewDue, false
		}
	case WithdrawalAcknowledged:
		c.ack = &Acknowledgement{By: e.By, At: e.At, AfterDisclosure: e.AfterDisclosure}
		c.move(lifecycle.WithdrawalAcknowledged)
	case CaseLinked:
		c.links = append(c.links, Link{RequestID: e.LinkedRequestID, Reason: e.Reason, By: e.By, At: e.At})
	case FactCorrectionProposed:
		c.corrections = append(c.corrections, Correction{Proposal: e})
	case FactsCorrected:
		c.applyCorrected(e)
	case TargetsErased:
		c.erased = true
	}
}

// legacyInformationRequest folds an old AssessmentDecided of kind
// REQUEST_MORE_INFORMATION (written before issue 16) as the question it
// was: the case waits for the member's amendment instead of being closed.
func (c *Case) legacyInformationRequest(e CaseDecided) {
	c.applyLifecycle(InformationRequested{Meta: e.Meta, Question: e.Decision.Grounds})
}

// State is where the case stands in the request's lifecycle.
func (c *Case) State() lifecycle.State { return c.state }

// OpenQuestion is the question put to the member and not yet answered, or
// nil.
func (c *Case) OpenQuestion() *Question {
	if c.question == nil {
		return nil
	}
	q := *c.question
	return &q
}

// Reopenings lists the case's returns to review, oldest first.
func (c *Case) Reopenings() []Reopening { return slices.Clone(c.reopenings) }

// EarlierDecisions lists the decisions that were in effect and were
// superseded by a reopening, oldest first. They stay in the record.
func (c *Case) EarlierDecisions() []CaseDecided { return slices.Clone(c.earlier) }

// Links lists the requests linked as the same demand.
func (c *Case) Links() []Link { return slices.Clone(c.links) }

// WithdrawalAcknowledgement is the acknowledgement of the withdrawal, or
// nil.
func (c *Case) WithdrawalAcknowledgement() *Acknowledgement {
	if c.ack == nil {
		return nil
	}
	a := *c.ack
	return &a
}

// Disclosed reports whether reporting recorded a disclosure.
func (c *Case) Disclosed() bool { return c.disclosed }

// errWithdrawn refuses a decision or an approval after the authority
// withdrew the request, saying why and what to do instead.
func (c *Case) errWithdrawn(action string) error {
	if c.withdrawn.IsZero() {
		return nil
	}
	return fmt.Errorf("%w: the authority withdrew the request: no decision or approval may follow (cannot %s); a Privacy Team member acknowledges the withdrawal instead",
		ddrerr.ErrFailedPrecondition, action)
}

// RuleTargetsErased names the refusal of what would send a case back to
// review, or change its facts, once the request's targets were erased
// (the platform's one code for it).
const RuleTargetsErased = policy.RuleTargetsErased

// errErased refuses action on a case whose request's targets were erased
// (nil before). The erasure shredded the customers in the case's facts
// with the targets (one SUBJECT key), so a case back in review would be
// decided again, and notification would plan a disclosure, with no
// customer left to ask for the redirect (4.1.1) or to notify before it
// (4.1.2): one erasure silently lifting both safeguards.
func (c *Case) errErased(action string) error {
	if !c.erased {
		return nil
	}
	return ddrerr.Policy(policy.Clause4_1_2, RuleTargetsErased, "the request's targets were erased at the end of its retention, and the customers it concerns with them: it cannot "+action+
		", since a new decision would skip the customer's redirect ask and notice; open a new request instead")
}

// Reopen sends the case back to review for trigger t caused by the event
// causeEventID, when the lifecycle table says t moves the case's current
// state back to review. It returns nothing when it does not (a redirect
// answer while no redirect is in effect, an amendment after the
// disclosure, a cause already applied): a reactor calls it for every
// candidate event, and the record of the cause itself stays with its
// producer.
//
// decisionID, when set, is the decision the cause concerns (a DPA's
// objection names the decision whose plan it ends): a cause about an
// earlier decision reopens nothing.
//
// Once the request's targets were erased, a cause that would reopen the
// case is refused ([RuleTargetsErased]) rather than ignored: the reactor
// then dead-letters it, so an operator sees that something tried to bring
// an erased request back, and why it did not (the erasure is final).
func (c *Case) Reopen(t ReopenTrigger, causeEventID, decisionID, by string, now time.Time) ([]Event, error) {
	if !c.Opened() {
		return nil, nil
	}
	if causeEventID != "" && slices.ContainsFunc(c.reopenings, func(r CaseReopened) bool { return r.CauseEventID == causeEventID }) {
		return nil, nil
	}
	if t == ReopenAmended && c.state == lifecycle.InformationRequested {
		t = ReopenInformationSupplied
	}
	tr, ok := backToReview(c.state, t)
	if !ok {
		return nil, nil
	}
	superseded := ""
	if c.decided != nil {
		superseded = c.decided.Decision.ID
	}
	if decisionID != "" && decisionID != superseded {
		return nil, nil
	}
	if t == ReopenRedirectDeclined && (c.decided == nil || c.decided.Decision.Kind != policy.DecisionRedirectToCustomer) {
		return nil, nil
	}
	if err := c.errErased("go back to review"); err != nil {
		return nil, err
	}
	return []Event{CaseReopened{Meta: meta(by, now), Trigger: t, CauseEventID: causeEventID, SupersededDecisionID: superseded, Reason: tr.Why}}, nil
}

// backToReview is the table's transition for t when it sends a case in
// state s back to review from elsewhere.
func backToReview(s lifecycle.State, t ReopenTrigger) (lifecycle.Transition, bool) {
	tr, err := lifecycle.Next(s, t.lifecycleTrigger())
	return tr, err == nil && tr.To == lifecycle.InReview && tr.From != lifecycle.InReview
}

// RequestInformation asks the group member for more information: the case
// waits for the member's amendment, which sends it back to review
// (INFORMATION_SUPPLIED). Only a case under review can ask: a pending
// disclosure is approved or rejected first.
func (c *Case) RequestInformation(question, by string, now time.Time) ([]Event, error) {
	if err := c.errWithdrawn("ask for more information"); err != nil {
		return nil, err
	}
	if err := c.allow("ask for more information", reviewable...); err != nil {
		return nil, err
	}
	var v ddrerr.Collector
	requiredText(&v, "question", question, "what the member should supply", MaxQuestion)
	if strings.TrimSpace(by) == "" {
		v.Add("actor", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []Event{InformationRequested{Meta: meta(by, now), Question: question}}, nil
}

// AcknowledgeWithdrawal is one Privacy Team member acknowledging the
// authority's withdrawal: before a disclosure the request then closes as
// WITHDRAWN; after one, the withdrawal is recorded and undoes nothing
// (after_disclosure). Acknowledging twice records nothing more.
func (c *Case) AcknowledgeWithdrawal(by string, now time.Time) ([]Event, error) {
	if err := required("actor", by); err != nil {
		return nil, err
	}
	if c.withdrawn.IsZero() {
		return nil, fmt.Errorf("%w: the request was not withdrawn: there is nothing to acknowledge", ddrerr.ErrFailedPrecondition)
	}
	if c.ack != nil {
		return nil, nil
	}
	return []Event{WithdrawalAcknowledged{Meta: meta(by, now), AfterDisclosure: c.disclosed}}, nil
}

// Link records that this request is the same demand as linked (e.g. sent
// to two group members): both stay in the record and the report counts the
// demand once. Whether linked exists is the caller's check (it is another
// request's history). Linking the same request again records nothing.
func (c *Case) Link(linked, reason, by string, now time.Time) ([]Event, error) {
	var v ddrerr.Collector
	switch {
	case strings.TrimSpace(linked) == "":
		v.Add("linked_request_id", "required")
	case linked == c.requestID:
		v.Add("linked_request_id", "a case cannot be linked to itself")
	}
	requiredText(&v, "reason", reason, "why it is the same demand", MaxLinkReason)
	if strings.TrimSpace(by) == "" {
		v.Add("actor", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(c.links, func(l Link) bool { return l.RequestID == linked }) {
		return nil, nil
	}
	return []Event{CaseLinked{Meta: meta(by, now), LinkedRequestID: linked, Reason: reason}}, nil
}

// reopenAfter returns the CaseReopened that follows an event of this
// command on the case as it stands before it, or nothing.
func (c *Case) reopenAfter(t ReopenTrigger, cause, by string, now time.Time) []Event {
	evs, _ := c.Reopen(t, cause, "", by, now)
	return evs
}
