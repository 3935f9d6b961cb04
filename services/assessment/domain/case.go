package domain

import (
	"slices"
	"time"

	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Status is where a case stands.
type Status string

// Statuses. The zero Status means no case has been opened.
const (
	StatusOpen                    Status = "open"
	StatusInReview                Status = "in_review"
	StatusDecisionPendingApproval Status = "decision_pending_approval"
	StatusDecided                 Status = "decided"
	// StatusWithdrawn: the authority withdrew the request before a decision
	// took effect. Nothing can be decided any more.
	StatusWithdrawn Status = "withdrawn"
)

// Proposal is a disclosure waiting for approvals.
type Proposal struct {
	Decision      Decision
	By            string
	At            time.Time
	PolicyVersion string
	ApprovedBy    []string
	// LegalApproved: an approver held the legal role.
	LegalApproved bool
}

// Case is the assessment of one request: the fold of its events. Its fields
// are private so the only way to change it is to apply an event, and the
// only way to get an event is from a command that checked the rules.
type Case struct {
	requestID string
	facts     RequestFacts
	flags     []Flag
	rules     Rules
	openedAt  time.Time
	reviewDue time.Time
	status    Status
	assignee  string
	review    Review
	proposal  *Proposal
	decided   *CaseDecided
	overdue   bool
	withdrawn time.Time
	version   int

	// Issue 16: the lifecycle (lifecycle.go, corrections.go).
	state       lifecycle.State
	question    *Question
	reopenings  []CaseReopened
	earlier     []CaseDecided
	disclosed   bool
	dataSettled bool
	ack         *Acknowledgement
	links       []Link
	corrections []Correction
	// erased: the request's targets were erased (TargetsErased).
	erased bool
	// verification is issue 18's fold (verification.go).
	verification Verification
	// clocks are the request's deadlines (issue 18, clocks.go).
	clocks deadline.Ledger
	// reviewClock is the review clock running (review/<n> after a
	// reopening restarted it); empty: the first, "review".
	reviewClock string
}

// Fold replays events into a new case.
func Fold(events ...Event) *Case {
	c := &Case{}
	for _, e := range events {
		c.Apply(e)
	}
	return c
}

// Apply folds one event into the case. Events are facts that already
// happened, so Apply never refuses one; checks belong to the commands.
func (c *Case) Apply(e Event) {
	c.version++
	c.verification.Apply(e)
	c.applyClocks(e)
	switch e := e.(type) {
	case CaseOpened:
		c.requestID = e.RequestID
		c.facts = e.Facts
		c.flags = slices.Clone(e.Flags)
		c.rules = e.Rules
		c.openedAt = e.At
		c.reviewDue = e.ReviewDue
		c.status = StatusOpen
	case Assigned:
		c.assignee = e.Assignee
		c.startReview()
	case FactorRecorded:
		if c.review.Factors == nil {
			c.review.Factors = map[Factor]Assessment{}
		}
		c.review.Factors[e.Factor] = Assessment{Text: e.Assessment, By: e.By, At: e.At}
		c.startReview()
	case RightsWeighed:
		c.review.RightsWeighed = &Assessment{Text: e.Text, By: e.By, At: e.At}
		c.startReview()
	case CounselConsulted:
		c.review.Counsel = append(c.review.Counsel, Consultation{Kind: e.Kind, Counsel: e.Counsel, ConsultedAt: e.ConsultedAt, Summary: e.Summary, RecordedBy: e.By})
		c.startReview()
	case ChallengeConsidered:
		c.review.Challenge = &ChallengeReview{Warranted: e.Warranted, Reasoning: e.Reasoning, By: e.By, At: e.At}
		c.startReview()
	case DecisionProposed:
		c.proposal = &Proposal{Decision: e.Decision, By: e.By, At: e.At, PolicyVersion: e.PolicyVersion}
		c.status = StatusDecisionPendingApproval
	case DecisionApproved:
		if c.proposal != nil {
			c.proposal.ApprovedBy = append(c.proposal.ApprovedBy, e.By)
			c.proposal.LegalApproved = c.proposal.LegalApproved || slices.Contains(e.Roles, policy.RoleLegal)
		}
	case ImminentRiskJustified:
		c.review.RiskJustified = &Assessment{Text: e.Text, By: e.By, At: e.At}
		c.startReview()
	case ChallengeOutcomeProposed:
		if c.review.Challenge != nil {
			c.review.Challenge.Outcome, c.review.Challenge.OutcomeLift = e.Outcome, e.Lift
		}
	case ChallengeOutcomeConfirmed:
		if c.review.Challenge != nil {
			c.review.Challenge.OutcomeLift.ConfirmedBy, c.review.Challenge.OutcomeLift.ConfirmedAt = e.By, e.At
		}
		// A challenge decision is followed by a new one once the outcome is
		// known: the case goes back to review (no dead end).
		if c.status == StatusDecided && c.decided != nil && c.decided.Decision.Kind == policy.DecisionChallenge {
			c.status = StatusInReview
		}
	case DecisionRejected:
		c.proposal = nil
		c.status = StatusInReview
	case CaseDecided:
		if e.Decision.Kind == policy.DecisionRequestMoreInformation {
			c.legacyInformationRequest(e)
			return
		}
		d := e
		c.decided = &d
		c.proposal = nil
		c.status = StatusDecided
	case ReviewOverdue:
		c.overdue = true
	case RequestWithdrawn:
		c.withdrawn = e.At
		// A decision in effect stays the decision; anything short of it
		// lapses with the request.
		if c.status != StatusDecided && c.status != "" {
			c.status = StatusWithdrawn
			c.proposal = nil
		}
	}
	c.applyLifecycle(e)
}

func (c *Case) startReview() {
	if c.status == StatusOpen {
		c.status = StatusInReview
	}
}

// RequestID is the id of the request under assessment.
func (c *Case) RequestID() string { return c.requestID }

// Opened reports whether the case exists.
func (c *Case) Opened() bool { return c.status != "" }

// NeedsWork reports whether the case is open and still needs the Privacy
// Team: neither decided nor withdrawn. Only such a case can be overdue
// ([Case.Overdue]); the review queue shows these by default.
func (c *Case) NeedsWork() bool {
	return c.Opened() && c.status != StatusDecided && c.status != StatusWithdrawn
}

// Status is the case's status.
func (c *Case) Status() Status { return c.status }

// Facts returns the request facts the case was opened with.
func (c *Case) Facts() RequestFacts { return c.facts }

// Flags returns the flags computed when the case opened.
func (c *Case) Flags() []Flag { return slices.Clone(c.flags) }

// HasFlag reports whether the case carries flag code.
func (c *Case) HasFlag(code FlagCode) bool {
	return slices.ContainsFunc(c.flags, func(f Flag) bool { return f.Code == code })
}

// Rules returns the rules in force for the case.
func (c *Case) Rules() Rules { return c.rules }

// PolicyVersion is the policy version the case is assessed under.
func (c *Case) PolicyVersion() string { return c.rules.PolicyVersion }

// OpenedAt is when the case opened.
func (c *Case) OpenedAt() time.Time { return c.openedAt }

// ReviewDue is the review deadline.
func (c *Case) ReviewDue() time.Time { return c.reviewDue }

// Assignee is the reviewer who holds the case; empty when unassigned.
func (c *Case) Assignee() string { return c.assignee }

// Review returns a copy of the review record.
func (c *Case) Review() Review { return c.review.clone() }

// Proposal returns a copy of the pending disclosure, or nil.
func (c *Case) Proposal() *Proposal {
	if c.proposal == nil {
		return nil
	}
	p := *c.proposal
	p.ApprovedBy = slices.Clone(p.ApprovedBy)
	return &p
}

// Decided returns the decision that took effect, or nil.
func (c *Case) Decided() *CaseDecided {
	if c.decided == nil {
		return nil
	}
	d := *c.decided
	d.ApprovedBy = slices.Clone(d.ApprovedBy)
	return &d
}

// OverdueRecorded reports whether a ReviewOverdue event was applied.
func (c *Case) OverdueRecorded() bool { return c.overdue }

// WithdrawnAt is when the request was withdrawn; zero if it was not.
func (c *Case) WithdrawnAt() time.Time { return c.withdrawn }

// Version is the number of events applied.
func (c *Case) Version() int { return c.version }

// Overdue reports whether the review deadline has passed at now without a
// decision taking effect. A disclosure waiting for approval is not decided.
func (c *Case) Overdue(now time.Time) bool {
	// While the member is asked for information the review waits on them.
	return c.NeedsWork() && c.status != StatusInformationRequested && now.After(c.reviewDue)
}
