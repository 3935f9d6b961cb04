package ddrerr

// PolicyViolation is a refusal required by a clause of POLICY.md. Clause
// (e.g. "4.2.1") lets a reader find the rule; Rule is a short stable code
// (e.g. "DISCLOSE_WITHOUT_BASIS") that clients may branch on; Reason is a
// sentence for people and must not contain personal data.
type PolicyViolation struct {
	Clause string
	Rule   string
	Reason string
}

// Policy returns a *PolicyViolation.
func Policy(clause, rule, reason string) error {
	return &PolicyViolation{Clause: clause, Rule: rule, Reason: reason}
}

func (e *PolicyViolation) Error() string {
	return "policy clause " + e.Clause + " (" + e.Rule + "): " + e.Reason
}

// Is makes a policy refusal match [ErrFailedPrecondition], so code that only
// cares whether the state forbids the action need not know about policies.
func (e *PolicyViolation) Is(target error) bool {
	return target == ErrFailedPrecondition
}
