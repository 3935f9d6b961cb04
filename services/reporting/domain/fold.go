package domain

import (
	"slices"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// DecisionNone is the effective decision before assessment decided, or
// after a reopening took the decision back: only a withdrawal may end the
// request then ([OutcomeTable]). The decisions themselves are
// [policy.DecisionKind].
const DecisionNone policy.DecisionKind = ""

// Received is what the report takes from a request's receipt. It holds no
// personal data: the targets are counted, never copied.
type Received struct {
	At                time.Time
	LegalProcess      string // stable code, "none" when there was none
	Country           string // ISO 3166-1 alpha-2, "ZZ" when unknown
	AccountsSpecified int
	Emergency         bool
	UnderGag          bool
}

// LegalProcessNationalSecurity is the legal process code of national
// security process: such requests are reported only in bands (clause 5.1).
const LegalProcessNationalSecurity = "national_security"

// RequestFold is a request's record folded into what reporting decides on:
// the facts of the transparency report, whether the request reached a
// terminal point (the record is sealed there), and the state a disposition
// is checked against. The application feeds it the request's events in
// stream order; events it has no method for change nothing.
type RequestFold struct {
	received         Received
	hasReceived      bool
	decision         policy.DecisionKind
	approvedAccounts int
	cleared          bool
	clearedAt        time.Time
	redirected       bool
	withdrawn        bool
	customerNotified bool
	dpaConsulted     bool
	disposition      *Disposition
	restriction      Restriction // set by staff; RestrictionNone when never set
	// restrictionLift is the two-person lift of a staff restriction; only a
	// confirmed one takes effect (issue 15).
	restrictionLift     *RestrictionProposal
	approvedCategories  []DataCategory
	decisionProposer    string
	adequateWhenCleared bool
	clocks              Clocks // issue 18 (clocks.go)
	// The lifecycle of issue 16 (lifecycle.go): the decision in effect by
	// id, the decisions a reopening superseded, whether notification
	// stopped the steps, whether a reopening voided a clearance, the
	// acknowledgement that closes a withdrawal, and the requests linked as
	// the same demand.
	decisionID             string
	superseded             []string
	stepsStopped           bool
	clearanceVoid          bool
	withdrawalAcknowledged bool
	sealedSinceWithdrawal  bool
	links                  []string
	// reopenedAfterRedirect: the case went back to review after a
	// customer's authority agreed to a redirect (another customer's
	// declined); that redirect stands for its customer.
	reopenedAfterRedirect bool
}

// Receive folds the receipt in.
func (f *RequestFold) Receive(r Received) { f.received, f.hasReceived = r, true }

// Decide folds in an effective decision; a later one replaces an earlier one
// (a request for more information is followed by the real decision).
// approvedAccounts is the number of accounts in the decided scope, 0 when the
// decision names none.
func (f *RequestFold) Decide(k policy.DecisionKind, approvedAccounts int) {
	f.decision, f.approvedAccounts = k, approvedAccounts
}

// ApprovedScope is what an effective disclose decision approved: exactly
// what was requested when it was not narrowed.
type ApprovedScope struct {
	Accounts   int
	Categories []DataCategory
	// Proposer proposed the decision; barred from confirming a restriction.
	Proposer string
}

// DecideScope folds in an effective decision with its approved scope.
func (f *RequestFold) DecideScope(k policy.DecisionKind, s ApprovedScope) {
	f.decision, f.approvedAccounts = k, s.Accounts
	f.approvedCategories = slices.Clone(s.Categories)
	f.decisionProposer = s.Proposer
}

// RevokeClearance folds in that the clearance no longer stands (adequacy
// lost since the decision, notification's AdequacyLost).
func (f *RequestFold) RevokeClearance() { f.cleared, f.clearedAt = false, time.Time{} }

// ClearAdequate folds in a clearance with the adequacy finding it rested on.
func (f *RequestFold) ClearAdequate(at time.Time, adequate bool) {
	if !f.cleared {
		f.cleared, f.clearedAt, f.adequateWhenCleared = true, at, adequate
		f.stepsStopped, f.clearanceVoid = false, false
	}
}

// Clear folds in that every step required before a disclosure is done.
func (f *RequestFold) Clear(at time.Time) {
	if !f.cleared {
		f.cleared, f.clearedAt = true, at
		f.stepsStopped, f.clearanceVoid = false, false
	}
}

// Redirect folds in that the authority went to the customer (clause 4.1.1).
func (f *RequestFold) Redirect() { f.redirected, f.reopenedAfterRedirect = true, false }

// Withdraw folds in that the authority withdrew the request.
func (f *RequestFold) Withdraw() { f.withdrawn = true }

// NotifyCustomer folds in a notice delivered to the customer (clause 4.1.2).
func (f *RequestFold) NotifyCustomer() { f.customerNotified = true }

// ConsultDPA folds in a consultation of a data protection authority (2.2, 4.2.1).
func (f *RequestFold) ConsultDPA() { f.dpaConsulted = true }

// Dispose folds in the recorded disposition; the first one counts, as the
// application refuses a second.
func (f *RequestFold) Dispose(d Disposition) {
	if f.disposition == nil {
		f.disposition = &d
	}
}

// Restrict folds in a reporting restriction set by one person (the legacy
// ReportingRestrictionSet). Lifting a restriction (None) takes effect; one
// that keeps the request out or bands it is kept only as a proposal and
// takes effect once a second person confirms it (issue 15): one legal user
// alone can no longer keep a request out of the report.
func (f *RequestFold) Restrict(r Restriction) {
	if r == RestrictionNone {
		f.restriction, f.restrictionLift = RestrictionNone, nil
		return
	}
	f.restrictionLift = &RestrictionProposal{Restriction: r}
}

// ProposeRestriction folds in a proposed restriction (RestrictionProposed).
func (f *RequestFold) ProposeRestriction(p RestrictionProposal) {
	f.restrictionLift = &p
}

// ConfirmRestriction folds in the confirmation (RestrictionConfirmed) of
// the pending proposal; it takes effect now.
func (f *RequestFold) ConfirmRestriction(by string, at time.Time) {
	if p := f.restrictionLift; p != nil && p.Lift.ID != "" && !p.Lift.Confirmed() {
		p.Lift.ConfirmedBy, p.Lift.ConfirmedAt = by, at
		f.restriction = p.Restriction
	}
}

// PendingRestriction returns the restriction waiting for confirmation.
func (f *RequestFold) PendingRestriction() (RestrictionProposal, bool) {
	if f.restrictionLift == nil || f.restrictionLift.Lift.Confirmed() {
		return RestrictionProposal{}, false
	}
	return *f.restrictionLift, true
}

// DecisionProposer is who proposed the effective decision.
func (f *RequestFold) DecisionProposer() string { return f.decisionProposer }

// HasReceipt reports whether the receipt was folded in: a record without it
// is not a request the report can count.
func (f *RequestFold) HasReceipt() bool { return f.hasReceived }

// Terminal reports whether the request reached a point where its record is
// sealed: cleared for disclosure, redirected, withdrawn, rejected or
// challenged, or given a disposition. Later events (a disposition after
// clearing) extend the record, and it is sealed again.
//
// A withdrawal alone is no longer such a point (issue 16): the request
// closes as withdrawn once a Privacy Team member acknowledged it. A record
// sealed after a withdrawal by an earlier binary, which sealed there, stays
// closed as it was.
func (f *RequestFold) Terminal() bool {
	return f.closedBeyondWithdrawal() || (f.withdrawn && f.sealedSinceWithdrawal)
}

func (f *RequestFold) closedBeyondWithdrawal() bool {
	return f.cleared || f.redirectStands() || f.disposition != nil ||
		f.decision == policy.DecisionReject || f.decision == policy.DecisionChallenge ||
		f.withdrawalAcknowledged
}

// Outcome is how the request counts in a report. A recorded disposition is
// final; without one, the events say what they can: withdrawn, redirected,
// or a rejecting or challenging decision. A request cleared or decided for
// disclosure but without a disposition is pending: the report never claims
// a disclosure the record does not show.
//
// A request with several customers (issue 16) is counted once, by its most
// significant outcome ([MostSignificant]): a redirect one customer's
// authority agreed to stands when the case goes back to review for
// another customer, and then counts beside what the rest comes to (still
// open: pending; refused: the redirect, which ranks above).
func (f *RequestFold) Outcome() Outcome {
	switch {
	case f.disposition != nil:
		return f.disposition.ReportOutcome()
	case f.withdrawn:
		return OutcomeWithdrawn
	case f.redirectStands():
		return OutcomeRedirected
	}
	rest := OutcomePending
	switch f.decision {
	case policy.DecisionReject:
		rest = OutcomeRejected
	case policy.DecisionChallenge:
		rest = OutcomeChallenged
	}
	if f.redirected {
		return MostSignificant(OutcomeRedirected, rest)
	}
	return rest
}

// redirectStands: the authority agreed to go to the customer and no
// reopening sent the case back to review since (for another customer).
func (f *RequestFold) redirectStands() bool { return f.redirected && !f.reopenedAfterRedirect }

// Restriction is what the report may say about the request: a court order
// exclusion set by staff keeps it out entirely; national security legal
// process, or staff saying so, puts it in the banded section.
func (f *RequestFold) Restriction() Restriction {
	switch {
	case f.restriction == RestrictionExcludedByCourtOrder:
		return RestrictionExcludedByCourtOrder
	case f.restriction == RestrictionNationalSecurity || f.received.LegalProcess == LegalProcessNationalSecurity:
		return RestrictionNationalSecurity
	}
	return RestrictionNone
}

// Facts returns the report facts of request id with the given chain head;
// ok is false before the receipt is folded in.
func (f *RequestFold) Facts(id string, head Digest) (ReportFacts, bool) {
	if !f.hasReceived {
		return ReportFacts{}, false
	}
	r := f.received
	return ReportFacts{
		RequestID:         id,
		ChainHead:         head,
		ReceivedAt:        r.At,
		LegalProcess:      r.LegalProcess,
		Country:           r.Country,
		Outcome:           f.Outcome(),
		AccountsSpecified: r.AccountsSpecified,
		Emergency:         r.Emergency,
		CustomerNotified:  f.customerNotified,
		DPAConsulted:      f.dpaConsulted,
		UnderGag:          r.UnderGag,
		Restriction:       f.Restriction(),
	}, true
}

// DispositionState is what a disposition is checked against.
func (f *RequestFold) DispositionState() DispositionState {
	return DispositionState{
		Clocks: &f.clocks, // issue 18 (clocks.go)

		ReceivedAt:       f.received.At,
		Cleared:          f.cleared,
		ClearedAt:        f.clearedAt,
		ApprovedAccounts: f.approvedAccounts,
		Disposed:         f.disposition != nil,
		Decision:         f.decision,
		// Categories are recorded only through DecideScope; a fold fed the
		// legacy Decide has none, and refuses disclosures until wired.
		ApprovedCategories:  slices.Clone(f.approvedCategories),
		Redirected:          f.redirectStands(),
		Withdrawn:           f.withdrawn,
		StepsStopped:        f.stepsStopped,
		ClearanceVoid:       f.clearanceVoid,
		Country:             f.received.Country,
		AdequateWhenCleared: f.adequateWhenCleared,
	}
}

// Disposition returns the recorded disposition, nil when there is none.
func (f *RequestFold) Disposition() *Disposition { return f.disposition }
