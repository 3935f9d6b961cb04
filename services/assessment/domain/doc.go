// Package domain holds the assessment rules of the Government Data Request
// Policy as pure Go: the flags a request raises, the review a case must
// record, which decisions the policy allows, four-eyes approval and the
// jurisdiction overlays that may only make the rules stricter (1.2).
//
// It exists apart from gRPC and NATS so the policy can be read, tested and
// property-checked on its own. A case is the fold of its events; commands
// read the current state and return new events without changing it, so the
// caller can append them under an optimistic-concurrency check and only then
// [Case.Apply] them. Refusals are *ddrerr.PolicyViolation values that name
// the clause they enforce.
//
// Issue 15 adds: a challenge judged warranted refuses any disclosure until
// its outcome is recorded by one person and confirmed by a second (legal),
// and cannot be set aside by reconsidering it; an upheld challenge allows
// only a reject or a narrower disclosure. A disclosure on an imminent risk
// the authority did not claim needs a recorded justification, and one on a
// compelling obligation without legal process the statute cited; both need
// a legal approver ([Case.ApproveAs]). A scope described in words is bulk
// (6.1) even beside listed targets, so only a decision naming its targets
// can disclose it.
//
// Issue 16 adds the case's lifecycle ([Case.State], the table of
// services/platform/lifecycle): a case goes back to review ([Case.Reopen],
// CaseReopened) on an amendment, information supplied after a question, a
// redirect declined while a redirect decision is in effect, a DPA's
// objection to the decision in effect, a challenge outcome confirmed after
// a challenge decision, or a fact corrected while a decision is pending or
// in effect; never after a disclosure was recorded. The decision in effect
// then moves to the earlier decisions and a new one goes through four eyes
// again. "Request more information" asks the member ([Case.RequestInformation])
// instead of closing the case, and an old decision of that kind folds as
// the question it was. After a withdrawal no decision or approval is
// taken; one Privacy Team member acknowledges it. Fact corrections that
// remove or weaken a step ([Weakenings]) take effect only when a second
// person with the approver or legal role confirms them (a policy.Lift).
//
// Once intake records that the request's targets were erased
// (TargetsErased, only after the request ended), the customers in the
// case's facts are gone too: nothing sends the case back to review, and
// no fact or challenge outcome is recorded on it (4.1.2,
// [RuleTargetsErased]), since a new decision would be carried out with no
// customer to ask (4.1.1) or to notify.
package domain
