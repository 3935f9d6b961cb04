package domain

import (
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// RestrictionProposal is a restriction of what the transparency report
// says about a request (kept out by a court order, or banded as national
// security), recorded by one person with its legal reference. It is a
// policy.Lift: it keeps the request out (or bands it) only once a second
// person with the legal role, not the recorder and not the decision's
// proposer, confirms it. Clause 5.1 allows only what "applicable law or
// court order" limits, so the legal reference is the evidence.
type RestrictionProposal struct {
	Restriction    Restriction
	LegalReference string
	Lift           policy.Lift
}

// Rule codes of restrictions.
const (
	RuleRestrictionPending = "RESTRICTION_ALREADY_PROPOSED"
	RuleNothingToRestrict  = "NOTHING_TO_RESTRICT"
	RuleNeedsTwoPeople     = "NEEDS_TWO_PEOPLE"
)

// CheckSetRestriction says whether one person alone may set r: only
// lifting a restriction (None), which makes the report say more. Any other
// restriction is proposed and confirmed by two legal people
// ([ProposeRestriction], [CheckConfirmRestriction]).
func CheckSetRestriction(r Restriction) error {
	if r == RestrictionNone {
		return nil
	}
	return ddrerr.Policy(policy.Clause5_1, RuleNeedsTwoPeople,
		"a restriction that keeps a request out of the report or bands it takes two legal people and a legal reference: propose it, and have a second legal person confirm it")
}

// ProposeRestriction checks and builds a restriction proposal for the
// request folded in f. Setting no restriction needs no second person and is
// not proposed here (it only makes the report say more).
func ProposeRestriction(f *RequestFold, r Restriction, legalReference, basis, by string, at time.Time) (RestrictionProposal, error) {
	var c ddrerr.Collector
	if !r.Valid() || r == RestrictionNone {
		c.Add("restriction", "must be excluded_by_court_order or national_security")
	}
	if strings.TrimSpace(legalReference) == "" {
		c.Add("legal_reference", "required: the court order or law that limits the report (5.1)")
	}
	if strings.TrimSpace(basis) == "" {
		c.Add("basis", "required")
	}
	if strings.TrimSpace(by) == "" {
		c.Add("by", "required")
	}
	if at.IsZero() {
		c.Add("at", "required")
	}
	if err := c.Err(); err != nil {
		return RestrictionProposal{}, err
	}
	if f.restriction == r {
		return RestrictionProposal{}, ddrerr.Policy(policy.Clause5_1, RuleNothingToRestrict, "the restriction is already in effect")
	}
	if p, ok := f.PendingRestriction(); ok && p.Lift.ID != "" {
		return RestrictionProposal{}, ddrerr.Policy(policy.Clause5_1, RuleRestrictionPending, "a restriction is already waiting for confirmation")
	}
	p := RestrictionProposal{Restriction: r, LegalReference: legalReference, Lift: policy.Lift{
		ID: "restriction/" + r.String(), Clause: policy.Clause5_1, What: "the report restriction " + r.String(),
		Basis: basis, Evidence: legalReference, RecordedBy: by, RecordedAt: at,
		ConfirmRoles: []policy.Role{policy.RoleLegal},
	}}
	if f.decisionProposer != "" {
		p.Lift.Barred = []string{f.decisionProposer}
	}
	return p, nil
}

// CheckConfirmRestriction says whether by may confirm the pending
// restriction of f.
func CheckConfirmRestriction(f *RequestFold, by policy.Person) error {
	p, ok := f.PendingRestriction()
	if !ok || p.Lift.ID == "" {
		return ddrerr.Policy(policy.Clause5_1, RuleNothingToRestrict, "no restriction proposed with its legal reference is waiting for confirmation")
	}
	if f.decisionProposer != "" {
		p.Lift.Barred = append(p.Lift.Barred, f.decisionProposer)
	}
	return ddrerr.Refused(p.Lift.CheckConfirm(by))
}
