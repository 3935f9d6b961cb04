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
package domain
