package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// CustomerRole says whether a customer is the controller of the data.
type CustomerRole string

// Customer roles. The zero role (unknown) reads as controller: the
// stricter reading, under which the customer is asked for and told (4.1.1,
// 4.1.2) until staff correct it.
const (
	RoleUnknown       CustomerRole = ""
	RoleController    CustomerRole = "controller"
	RoleNotController CustomerRole = "not_controller"
)

// Customer is one business customer a request concerns.
type Customer struct {
	ID            string
	Role          CustomerRole
	Establishment string
}

// Controller reports whether the customer counts as controller.
func (c Customer) Controller() bool { return c.Role != RoleNotController }

// AllCustomers are the request's customers. Facts recorded before a
// request could name several describe the one customer with the legacy
// fields.
func (f RequestFacts) AllCustomers() []Customer {
	if len(f.Customers) > 0 {
		return slices.Clone(f.Customers)
	}
	if f.CustomerID == "" {
		return nil
	}
	role := RoleNotController
	if f.CustomerIsController {
		role = RoleController
	}
	return []Customer{{ID: f.CustomerID, Role: role, Establishment: f.CustomerEstablishment}}
}

// anyController reports whether some customer is controller (4.1).
func (f RequestFacts) anyController() bool {
	if len(f.Customers) == 0 {
		return f.CustomerIsController
	}
	return slices.ContainsFunc(f.Customers, Customer.Controller)
}

// WithCustomers returns f naming cs, with the legacy single-customer fields
// describing the first controller (or the first customer), so readers of
// the legacy fields keep seeing a controller when there is one.
func (f RequestFacts) WithCustomers(cs []Customer) RequestFacts {
	f.Customers = slices.Clone(cs)
	f.CustomerIsController, f.CustomerID, f.CustomerEstablishment = false, "", ""
	if len(cs) == 0 {
		return f
	}
	first := cs[0]
	if i := slices.IndexFunc(cs, Customer.Controller); i >= 0 {
		first = cs[i]
		f.CustomerIsController = true
	}
	f.CustomerID, f.CustomerEstablishment = first.ID, first.Establishment
	return f
}

// FactCorrection is a staff correction of the facts a case was opened
// with (issue 16 item 5). A nil or unset part leaves that fact as it is.
type FactCorrection struct {
	// ID names the correction so a confirmation says which one.
	ID string
	// Customers, when CustomersSet, replace the request's customers.
	CustomersSet bool
	Customers    []Customer
	// Prohibition, when set, replaces the claimed non-disclosure order;
	// Present false removes it.
	Prohibition *Gag
	// AuthorityCountry, when set, replaces the authority's country;
	// CountryAdequate is the adequacy of the new country on the received
	// date, judged by the caller (4.2.1).
	AuthorityCountry *string
	CountryAdequate  bool
	EmergencyClaimed *bool
	// ImminentRiskClaimed, when set, replaces the authority's claim.
	ImminentRiskClaimed *bool
}

// Empty reports whether the correction changes nothing.
func (k FactCorrection) Empty() bool {
	return !k.CustomersSet && k.Prohibition == nil && k.AuthorityCountry == nil && k.EmergencyClaimed == nil && k.ImminentRiskClaimed == nil
}

// Apply returns f with the correction made.
func (k FactCorrection) Apply(f RequestFacts) RequestFacts {
	if k.CustomersSet {
		f = f.WithCustomers(k.Customers)
	}
	if k.Prohibition != nil {
		f.Gag = *k.Prohibition
		if !f.Gag.Present {
			f.Gag = Gag{}
		}
	}
	if k.AuthorityCountry != nil {
		f.AuthorityCountry, f.CountryAdequate = *k.AuthorityCountry, k.CountryAdequate
	}
	if k.EmergencyClaimed != nil {
		f.EmergencyClaimed = *k.EmergencyClaimed
	}
	if k.ImminentRiskClaimed != nil {
		f.ImminentRiskClaimed = *k.ImminentRiskClaimed
	}
	return f
}

// Weakening is one way a correction removes or weakens a step of the
// plan, with the clause of the step.
type Weakening struct {
	Clause policy.Clause
	Reason string
}

// Weakenings lists how moving from old to corrected removes or weakens a
// step: a country that becomes adequate (the 4.2.1 hold), a controller
// customer removed or no longer controller, or whose establishment (its
// DPA, 2.2) changes, a prohibition added or extended (notices withheld
// longer, 4.1.2), an emergency or imminent-risk claim added (a shorter
// review and the exemptions it may support). Empty: the correction only
// strengthens, or is neutral, and takes effect at once.
func Weakenings(old, corrected RequestFacts) []Weakening {
	var out []Weakening
	add := func(c policy.Clause, r string) { out = append(out, Weakening{c, r}) }
	if !old.CountryAdequate && corrected.CountryAdequate {
		add(policy.Clause4_2_1, "the authority's country becomes adequate: the hold and the consultation of the DPAs no longer apply")
	}
	now := corrected.AllCustomers()
	for _, c := range old.AllCustomers() {
		if !c.Controller() {
			continue
		}
		i := slices.IndexFunc(now, func(n Customer) bool { return n.ID == c.ID })
		switch {
		case i < 0:
			add(policy.Clause4_1, "a controller customer is removed: its redirect request and notice are no longer owed")
		case !now[i].Controller():
			add(policy.Clause4_1, "a customer stops being controller: its redirect request and notice are no longer owed")
		case c.Establishment != "" && now[i].Establishment != c.Establishment:
			add(policy.Clause2_2, "a controller customer's establishment changes: its DPA may no longer be notified")
		}
	}
	og, ng := old.Gag, corrected.Gag
	switch {
	case !og.Present && ng.Present:
		add(policy.Clause4_1_2, "a prohibition is added: notices may be withheld")
	case og.Present && ng.Present && !og.Expires.IsZero() && (ng.Expires.IsZero() || ng.Expires.After(og.Expires)):
		add(policy.Clause4_1_2, "the prohibition is extended: notices are withheld longer")
	}
	if !old.EmergencyClaimed && corrected.EmergencyClaimed {
		add(policy.Clause3_3, "an emergency claim is added")
	}
	if !old.ImminentRiskClaimed && corrected.ImminentRiskClaimed {
		add(policy.Clause2_1, "an imminent-risk claim is added: it may exempt notices (4.1.2, 4.2.1)")
	}
	return out
}

// FactCorrectionProposed records a correction that weakens a step: it
// takes effect only once a second person, holding the approver or legal
// role, confirms it (Lift).
type FactCorrectionProposed struct {
	Meta
	Correction FactCorrection
	Reason     string
	Weakens    []Weakening
	Lift       policy.Lift
}

// FactsCorrected is a correction taking effect: the corrected facts, the
// flags computed again, and what notification needs for the decision in
// effect (if any) with them.
type FactsCorrected struct {
	Meta
	CorrectionID string
	Correction   FactCorrection
	Reason       string
	ProposedBy   string
	// ConfirmedBy is the second person; empty for a correction that only
	// strengthens.
	ConfirmedBy  string
	Facts        RequestFacts
	Flags        []Flag
	Notification NotificationRequirements
}

// EventName implementations.
func (FactCorrectionProposed) EventName() string { return "FactCorrectionProposed" }
func (FactsCorrected) EventName() string         { return "FactsCorrected" }

// Correction is a correction in the case: pending until Effective.
type Correction struct {
	Proposal  FactCorrectionProposed
	Effective *FactsCorrected
}

// Corrections lists the case's corrections, pending and effective.
func (c *Case) Corrections() []Correction { return slices.Clone(c.corrections) }

func (c *Case) applyCorrected(e FactsCorrected) {
	c.facts = e.Facts
	c.flags = slices.Clone(e.Flags)
	ev := e
	if i := slices.IndexFunc(c.corrections, func(k Correction) bool { return k.Proposal.Correction.ID == e.CorrectionID }); i >= 0 {
		c.corrections[i].Effective = &ev
		return
	}
	c.corrections = append(c.corrections, Correction{
		Proposal:  FactCorrectionProposed{Meta: Meta{By: e.ProposedBy, At: e.At}, Correction: e.Correction, Reason: e.Reason},
		Effective: &ev,
	})
}

// MaxCorrectionReason bounds a correction's reason in characters.
const MaxCorrectionReason = 4000

// ProposeFactCorrection corrects the case's facts, with a reason. A
// correction that removes or weakens a step ([Weakenings]) is only
// proposed: it takes effect when a second person with the approver or
// legal role confirms it ([Case.ConfirmFactCorrection]). One that only
// strengthens takes effect at once. Taking effect sends a case whose
// decision was pending or in effect back to review (FACT_CORRECTED).
// evidence is an optional reference (the authority's letter, say). Once
// the request's targets were erased nothing is corrected: the facts lost
// their customers, and a correction can reopen the case ([RuleTargetsErased]).
func (c *Case) ProposeFactCorrection(k FactCorrection, reason, evidence, by string, now time.Time) ([]Event, error) {
	if err := c.errErased("have its facts corrected"); err != nil {
		return nil, err
	}
	var v ddrerr.Collector
	if k.Empty() {
		v.Add("correction", "correct at least one fact")
	}
	if strings.TrimSpace(k.ID) == "" {
		v.Add("correction_id", "required")
	}
	requiredText(&v, "reason", reason, "why the fact is corrected", MaxCorrectionReason)
	seen := map[string]bool{}
	for i, cu := range k.Customers {
		if strings.TrimSpace(cu.ID) == "" {
			v.Add(fmt.Sprintf("correction.customers[%d].customer_id", i), "required")
		} else if seen[cu.ID] {
			v.Add(fmt.Sprintf("correction.customers[%d].customer_id", i), "listed twice")
		}
		seen[cu.ID] = true
	}
	if k.Prohibition != nil && k.Prohibition.Present && strings.TrimSpace(k.Prohibition.Reference) == "" {
		v.Add("correction.prohibition.reference", "required for a prohibition")
	}
	if strings.TrimSpace(by) == "" {
		v.Add("actor", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(c.corrections, func(x Correction) bool { return x.Proposal.Correction.ID == k.ID }) {
		return nil, nil
	}
	m := meta(by, now)
	weak := Weakenings(c.facts, k.Apply(c.facts))
	if len(weak) == 0 {
		return c.correctionTakesEffect(m, k, reason, by, ""), nil
	}
	what := make([]string, len(weak))
	for i, w := range weak {
		what[i] = w.Reason
	}
	if strings.TrimSpace(evidence) == "" {
		evidence = "fact correction " + k.ID
	}
	l := policy.Lift{ID: "fact-correction/" + k.ID, Clause: weak[0].Clause, What: "a fact correction that " + strings.Join(what, "; "),
		Basis: reason, Evidence: evidence, RecordedBy: by, RecordedAt: m.At,
		ConfirmRoles: []policy.Role{policy.RoleApprover, policy.RoleLegal}}
	return []Event{FactCorrectionProposed{Meta: m, Correction: k, Reason: reason, Weakens: weak, Lift: l}}, nil
}

// ConfirmFactCorrection is the second person confirming a pending
// correction that weakens a step: not its proposer, holding the approver
// or legal role. The correction then takes effect. Confirming one already
// in effect by the same person records nothing. Once the request's targets
// were erased it is refused, as [Case.ProposeFactCorrection] is.
func (c *Case) ConfirmFactCorrection(id string, by policy.Person, now time.Time) ([]Event, error) {
	if err := c.errErased("have its facts corrected"); err != nil {
		return nil, err
	}
	if err := required("correction_id", id); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(c.corrections, func(x Correction) bool { return x.Proposal.Correction.ID == id })
	if i < 0 {
		return nil, fmt.Errorf("%w: no correction %s in this case", ddrerr.ErrNotFound, id)
	}
	k := c.corrections[i]
	if k.Effective != nil {
		if k.Effective.ConfirmedBy == by.ID {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: the correction is already in effect", ddrerr.ErrFailedPrecondition)
	}
	if r := k.Proposal.Lift.CheckConfirm(by); r != nil {
		return nil, ddrerr.Refused(r)
	}
	return c.correctionTakesEffect(meta(by.ID, now), k.Proposal.Correction, k.Proposal.Reason, k.Proposal.By, by.ID), nil
}

// correctionTakesEffect is FactsCorrected, then CaseReopened when the
// lifecycle sends the case back to review (a decision pending or in
// effect).
func (c *Case) correctionTakesEffect(m Meta, k FactCorrection, reason, proposedBy, confirmedBy string) []Event {
	f := k.Apply(c.facts)
	d := Decision{}
	if c.decided != nil {
		d = c.decided.Decision
	}
	n := notificationRequirements(f, c.rules, d)
	if c.review.RiskJustified != nil {
		n.ImminentRiskJustification = c.review.RiskJustified.Text
	}
	evs := []Event{FactsCorrected{Meta: m, CorrectionID: k.ID, Correction: k, Reason: reason, ProposedBy: proposedBy, ConfirmedBy: confirmedBy,
		Facts: f, Flags: computeFlags(f, c.rules), Notification: n}}
	return append(evs, c.reopenAfter(ReopenFactCorrected, k.ID, m.By, m.At)...)
}
