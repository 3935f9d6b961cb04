package ddrerr

import "github.com/ddrsuite/ddr/services/platform/policy"

// PolicyViolation is a refusal required by a clause of POLICY.md. Clause
// (e.g. "4.2.1") lets a reader find the rule; it is the clause number as it
// travels on the wire, a plain string so that a refusal decoded from a
// newer peer keeps a clause this build does not know (compare it with
// policy.Clause4_2_1.Number()); Rule is a short stable code
// (e.g. "DISCLOSE_WITHOUT_BASIS") that clients may branch on; Reason is a
// sentence for people and must not contain personal data.
type PolicyViolation struct {
	Clause string
	Rule   string
	Reason string
	// Clauses, when set, is every clause that blocks the action, most
	// specific first; Clause is its first. Added for refusals that several
	// clauses cause at once (a disclosure blocked by 4.1.2 and 4.2.1); a
	// reader that knows only Clause still gets the most specific one.
	Clauses []string
}

// PolicyAll returns a *PolicyViolation naming every clause in cs, most
// specific first (see policy.MostSpecificFirst); Clause is the first.
func PolicyAll(cs []policy.Clause, rule, reason string) error {
	cs = policy.MostSpecificFirst(cs)
	e := &PolicyViolation{Rule: rule, Reason: reason}
	for _, c := range cs {
		e.Clauses = append(e.Clauses, c.Number())
	}
	if len(cs) > 0 {
		e.Clause = cs[0].Number()
	}
	return e
}

// Refused turns a refusal of a shared policy rule (policy.Refusal, which
// cannot name this package) into a *PolicyViolation; nil stays nil.
func Refused(r *policy.Refusal) error {
	if r == nil {
		return nil
	}
	return Policy(r.Clause, r.Rule, r.Reason)
}

// Policy returns a *PolicyViolation. The clause is typed so that code can
// only cite a clause the policy has.
func Policy(clause policy.Clause, rule, reason string) error {
	return &PolicyViolation{Clause: clause.Number(), Rule: rule, Reason: reason}
}

func (e *PolicyViolation) Error() string {
	return "policy clause " + e.Clause + " (" + e.Rule + "): " + e.Reason
}

// Is makes a policy refusal match [ErrFailedPrecondition], so code that only
// cares whether the state forbids the action need not know about policies.
func (e *PolicyViolation) Is(target error) bool {
	return target == ErrFailedPrecondition
}
