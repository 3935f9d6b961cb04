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
