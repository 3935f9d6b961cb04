package domain

import (
	"slices"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// The request's lifecycle as reporting folds it (issue 16,
// platform/lifecycle): a case goes back to review and decides again, the
// authority withdraws, notification stops the steps, staff link two
// requests as one demand. What reporting decides on from it:
//
//   - a disclosure is refused once the authority withdrew (2.1: no demand
//     stands), once notification stopped the steps, and while the
//     clearance is void because the case was reopened after it (until the
//     new decision is cleared);
//   - a withdrawal after a disclosure is recorded and undoes nothing;
//   - the record closes as withdrawn when a Privacy Team member
//     acknowledges the withdrawal, not on the withdrawal alone.

// DecideAs folds in the effective decision with id, as [RequestFold.DecideScope].
func (f *RequestFold) DecideAs(id string, k policy.DecisionKind, s ApprovedScope) {
	f.DecideScope(k, s)
	f.decisionID = id
}

// DecisionID is the id of the decision in effect; empty when none is
// (never decided, reopened since, or decided before ids were folded).
func (f *RequestFold) DecisionID() string { return f.decisionID }

// Reopen folds in that the case went back to review: the decision in
// effect (superseded, when given, names it) no longer is, nor is the
// clearance that rested on it, and a late clearance of that decision
// clears nothing. A redirect one customer's authority already agreed to
// stands for that customer ([RequestFold.Outcome]). After a disposition it is recorded and
// undoes nothing: the data left, or the request ended.
func (f *RequestFold) Reopen(superseded string) {
	if f.disposition != nil {
		return
	}
	for _, id := range []string{superseded, f.decisionID} {
		if id != "" && !slices.Contains(f.superseded, id) {
			f.superseded = append(f.superseded, id)
		}
	}
	if f.cleared {
		f.clearanceVoid = true
	}
	f.decision, f.decisionID, f.approvedAccounts, f.approvedCategories, f.decisionProposer = DecisionNone, "", 0, nil, ""
	f.cleared, f.clearedAt, f.adequateWhenCleared = false, time.Time{}, false
	// A redirect a customer's authority agreed to stands for that
	// customer; the reopening is for the others (several customers).
	f.reopenedAfterRedirect = f.redirected
}

// Superseded reports whether a reopening superseded decision id.
func (f *RequestFold) Superseded(id string) bool {
	return id != "" && slices.Contains(f.superseded, id)
}

// ClearFor folds in notification's clearance of decision id (empty on
// events written before clearances named their decision). A clearance of
// a decision a reopening superseded clears nothing: it is the old plan's.
// judged says whether adequacy was judged with it (then adequate is the
// finding it rested on).
func (f *RequestFold) ClearFor(id string, at time.Time, judged, adequate bool) {
	if f.Superseded(id) {
		return
	}
	if judged {
		f.ClearAdequate(at, adequate)
	} else {
		f.Clear(at)
	}
}

// StopSteps folds in that notification stopped every pending step (the
// request was withdrawn or its case reopened): nothing may be disclosed
// until a new clearance.
func (f *RequestFold) StopSteps() {
	f.stepsStopped = true
	f.cleared, f.clearedAt = false, time.Time{}
}

// AcknowledgeWithdrawal folds in that a Privacy Team member acknowledged
// the authority's withdrawal: the record closes as withdrawn (after a
// disclosure it is recorded and changes nothing: the disposition stays
// the outcome).
func (f *RequestFold) AcknowledgeWithdrawal() {
	f.withdrawn, f.withdrawalAcknowledged = true, true
}

// WithdrawalAcknowledged reports whether the withdrawal was acknowledged.
func (f *RequestFold) WithdrawalAcknowledged() bool { return f.withdrawalAcknowledged }

// Withdrawn reports whether the authority withdrew the request.
func (f *RequestFold) Withdrawn() bool { return f.withdrawn }

// SealSeen folds in a seal of the record. A seal written after a
// withdrawal while nothing else made the record terminal is an earlier
// binary's, which closed on the withdrawal alone: that record stays
// closed ([RequestFold.Terminal]).
func (f *RequestFold) SealSeen() {
	if f.withdrawn && !f.closedBeyondWithdrawal() {
		f.sealedSinceWithdrawal = true
	}
}

// Link folds in that staff linked this request and other as the same
// demand (CaseLinked, on either request): the report counts the demand
// once ([CountDemandsOnce]).
func (f *RequestFold) Link(self, other string) {
	if other != "" && other != self && !slices.Contains(f.links, other) {
		f.links = append(f.links, other)
	}
}

// Links returns the requests linked to this one as the same demand.
func (f *RequestFold) Links() []string { return slices.Clone(f.links) }

// lifecycleRefusal is the lifecycle's answer to a disclosure, checked
// before the clearance: the withdrawal first, because no demand stands to
// disclose against whatever else the record shows (2.1); then a
// clearance voided by a reopening, then stopped steps (2.2: what cleared
// the request no longer stands).
func lifecycleRefusal(s DispositionState) error {
	switch {
	case s.Withdrawn:
		return ddrerr.Policy(policy.Clause2_1, RuleRequestWithdrawn,
			"the authority withdrew the request: no demand stands, so nothing may be disclosed")
	case s.ClearanceVoid:
		return ddrerr.Policy(policy.Clause2_2, RuleClearanceVoid,
			"the case was reopened after it was cleared: the clearance rested on a decision no longer in effect; the new decision must be cleared first")
	case s.StepsStopped:
		return ddrerr.Policy(policy.Clause2_2, RuleStepsStopped,
			"notification stopped the request's pending steps: nothing may be disclosed until a new plan clears it")
	}
	return nil
}
