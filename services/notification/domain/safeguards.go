package domain

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Rule codes of the safeguard refusals.
const (
	RuleNeedsTwoPeople          = "NEEDS_TWO_PEOPLE"
	RuleExemptionNoProhibition  = "EXEMPTION_WITHOUT_PROHIBITION"
	RuleExemptionNoRiskFinding  = "EXEMPTION_WITHOUT_RISK_FINDING"
	RuleNothingToExempt         = "NOTHING_TO_EXEMPT"
	RuleLiftPending             = "LIFT_ALREADY_PROPOSED"
	RuleConsultationNoPacket    = "CONSULTATION_WITHOUT_PACKET"
	RuleReplyBeforePacket       = "REPLY_BEFORE_PACKET"
	RuleNoReplyTooEarly         = "NO_REPLY_BEFORE_PERIOD"
	RuleNothingToWeaken         = "NOTHING_TO_WEAKEN"
	RuleAdequacyLost            = "ADEQUACY_LOST"
	RuleUnknownLift             = "UNKNOWN_LIFT"
	RuleLiftFactsChanged        = "LIFT_FACTS_CHANGED"
	RuleDispatchNeedsAReference = "DISPATCH_NEEDS_REFERENCE"
)

// ExemptionProposal is what one person records to exempt a notice or a
// hold: the step, the ground (prohibited or imminent risk) and the facts it
// rests on.
type ExemptionProposal struct {
	// CustomerRef: for NOTIFY_CUSTOMER with several controller customers,
	// the one customer's notice ("c1", ...); empty: every customer's.
	CustomerRef string
	Step        StepKind // NOTIFY_CUSTOMER, NOTIFY_DPA or HOLD_AND_CONSULT_DPA
	Reason      SkipReason
	Basis       string
	// Evidence references the gag order, the statute or the risk finding.
	Evidence string
	// Statute: for "prohibited" without a recorded gag order, the statute
	// that prohibits the notice, cited by legal.
	Statute string
	// WhyNoticeDefeats: for "imminent risk", why prior notice would defeat
	// the purpose of acting on the risk.
	WhyNoticeDefeats string
}

// UseRegistry lets the plan judge adequacy again at clearance (rule 5).
// The app sets it after folding, with the registry it loaded at start.
func (p *Plan) UseRegistry(reg *policy.AdequacyRegistry) { p.registry = reg }

// ProposeExemption records, for one person, that a notice or hold is not
// given. The facts must allow it (rule 2): "prohibited" needs a recorded gag
// order or a statute cited; "imminent risk" needs a recorded finding (the
// authority's claim or a reviewer's justification) and why prior notice
// would defeat it, whatever the decision's basis. Nothing is lifted until a
// second person with the legal role confirms ([Plan.ConfirmLift]).
func (p *Plan) ProposeExemption(x ExemptionProposal, by string, at time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	var v ddrerr.Collector
	if x.Step != StepNotifyCustomer && x.Step != StepNotifyDPA && x.Step != StepHoldAndConsultDPA {
		v.Add("step", "only NOTIFY_CUSTOMER, NOTIFY_DPA and HOLD_AND_CONSULT_DPA can be exempted")
	}
	if x.Reason != SkipProhibited && x.Reason != SkipImminentRisk {
		v.Add("reason", "must be PROHIBITED or IMMINENT_RISK")
	}
	for _, f := range []struct{ name, v string }{{"basis", x.Basis}, {"evidence_reference", x.Evidence}, {"by", by}} {
		if strings.TrimSpace(f.v) == "" {
			v.Add(f.name, "required: an exemption without it cannot be checked")
		}
	}
	if at.IsZero() {
		v.Add("at", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := p.exemptionFacts(x); err != nil {
		return nil, err
	}
	n := 0
	for _, e := range p.exemptions {
		if e.Step != x.Step {
			continue
		}
		n++
		if e.LiftID != "" && !p.confirmed(e.LiftID) {
			if e.Reason == x.Reason && e.Basis == x.Basis && e.Evidence == x.Evidence && e.By == by {
				return nil, nil // a retry
			}
			return nil, ddrerr.Policy(x.Step.Clause(), RuleLiftPending, "an exemption of this step is already waiting for confirmation")
		}
	}
	owed := func(s Step) bool {
		return s.Status == StatusRequired || s.Status == StatusFailed || s.Status == StatusScheduled
	}
	if x.Step == StepNotifyCustomer && x.CustomerRef != "" {
		cust, err := p.customerFor(x.CustomerRef)
		if err != nil {
			return nil, err
		}
		if s := p.stepOf(StepNotifyCustomer, cust); !owed(s) {
			return nil, ddrerr.Policy(x.Step.Clause(), RuleNothingToExempt, "the step is "+string(s.Status)+", not owed")
		}
	} else if s := p.Step(x.Step); !slices.ContainsFunc(p.customerSteps(x.Step), owed) {
		return nil, ddrerr.Policy(x.Step.Clause(), RuleNothingToExempt, "the step is "+string(s.Status)+", not owed")
	}
	id := fmt.Sprintf("exemption/%s/%d", x.Step, n+1)
	e := Exemption{Step: x.Step, Reason: x.Reason, Basis: x.Basis, By: by, At: at, LiftID: id,
		Evidence: x.Evidence, Statute: x.Statute, WhyNoticeDefeats: x.WhyNoticeDefeats, CustomerRef: x.CustomerRef}
	return []Event{ExemptionProposed{Exemption: e, Lift: p.newLift(id, x.Step.Clause(),
		"the exemption of "+string(x.Step)+" ("+string(x.Reason)+")", x.Basis, x.Evidence, by, at, policy.RoleLegal)}}, nil
}

// exemptionFacts is rule 2: the facts that allow an exemption, checked when
// it is proposed and again when it is confirmed (facts can change between).
func (p *Plan) exemptionFacts(x ExemptionProposal) error {
	switch x.Reason {
	case SkipProhibited:
		if !p.req.Prohibition.Present && strings.TrimSpace(x.Statute) == "" {
			return ddrerr.Policy(x.Step.Clause(), RuleExemptionNoProhibition,
				"\"prohibited\" needs a recorded legal prohibition: a gag order's reference, or the statute cited by legal")
		}
	case SkipImminentRisk:
		if !p.req.ImminentRisk.Finding() || strings.TrimSpace(x.WhyNoticeDefeats) == "" {
			return ddrerr.Policy(x.Step.Clause(), RuleExemptionNoRiskFinding,
				"\"imminent risk\" needs a recorded imminent-risk finding (the authority's claim or a reviewer's justification) and why prior notice would defeat it")
		}
	}
	return nil
}

// ProposeConsultationOutcome records, for one person, a DPA's answer. It is
// refused until the packet went out to that authority (an accepted delivery
// or a confirmed manual dispatch); an answer carries the DPA's reply
// reference and date, not before the packet. "No reply" needs the
// consultation period to have run since the packet and legal to confirm.
// Nothing counts until a second person confirms ([Plan.ConfirmLift]).
func (p *Plan) ProposeConsultationOutcome(c Consultation, by string, at time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	c.By, c.At = by, at
	var v ddrerr.Collector
	if !p.isAuthority(c.Authority) {
		v.Add("authority", "must be one of the competent authorities of this request")
	}
	switch c.Outcome {
	case ConsultationNoObjection, ConsultationObjection, ConsultationGuidance:
		if strings.TrimSpace(c.ReplyReference) == "" {
			v.Add("reply_reference", "required: the DPA's reference for its reply")
		}
		if c.ReplyDate.IsZero() {
			v.Add("reply_date", "required: the date of the DPA's reply")
		} else if c.ReplyDate.After(at) {
			v.Add("reply_date", "must not be in the future")
		}
	case ConsultationNoResponse:
	default:
		v.Add("outcome", "must be no_objection, objection, guidance or no_response")
	}
	if strings.TrimSpace(by) == "" {
		v.Add("by", "required")
	}
	if at.IsZero() {
		v.Add("at", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := p.consultationFacts(c); err != nil {
		return nil, err
	}
	n := 0
	for _, x := range p.consultations {
		if x.Authority != c.Authority {
			continue
		}
		n++
		if x.LiftID != "" && !p.confirmed(x.LiftID) {
			y := x
			y.LiftID, y.At = "", c.At
			if reflect.DeepEqual(y, c) {
				return nil, nil
			}
			return nil, ddrerr.Policy(p.consultClause(), RuleLiftPending, "an outcome from this authority is already waiting for confirmation")
		}
	}
	c.LiftID = fmt.Sprintf("consultation/%s/%d", c.Authority, n+1)
	evidence, roles := c.ReplyReference, []policy.Role{policy.RoleApprover, policy.RoleLegal}
	if c.Outcome == ConsultationNoResponse {
		sent, _ := p.packetOut(c.Authority)
		evidence, roles = "no reply since "+day(sent), []policy.Role{policy.RoleLegal}
	}
	basis := string(c.Outcome)
	if c.Summary != "" {
		basis += ": " + c.Summary
	}
	return []Event{ConsultationOutcomeProposed{Consultation: c, Lift: p.newLift(c.LiftID, p.consultClause(),
		"the consultation outcome of "+c.Authority, basis, evidence, by, at, roles...)}}, nil
}

func (p *Plan) consultClause() policy.Clause {
	if !p.hold.PlacedAt.IsZero() {
		return policy.Clause4_2_1
	}
	return policy.Clause2_2
}

// consultationFacts is rule 3: a packet went out before the answer, and "no
// reply" only after the period.
func (p *Plan) consultationFacts(c Consultation) error {
	sent, ok := p.packetOut(c.Authority)
	if !ok {
		return ddrerr.Policy(p.consultClause(), RuleConsultationNoPacket,
			"no consultation packet went out to this authority: record its delivery or a confirmed manual dispatch first")
	}
	if c.Outcome == ConsultationNoResponse {
		if due := sent.Add(p.cfg.consultationPeriod()); c.At.Before(due) {
			return ddrerr.Policy(p.consultClause(), RuleNoReplyTooEarly, "\"no reply\" can be recorded only once the consultation period has run, on "+day(due))
		}
		return nil
	}
	if c.ReplyDate.Before(day0(sent)) {
		return ddrerr.Policy(p.consultClause(), RuleReplyBeforePacket, "the reply is dated before the packet went out")
	}
	return nil
}

func day0(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// ProposeManualDispatch records, for one person, that the DPA packet went
// out by hand (portal, post) with its reference; it counts as sent once a
// second person confirms.
func (p *Plan) ProposeManualDispatch(m ManualDispatch, by string, at time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	var v ddrerr.Collector
	switch m.Step {
	case "", StepNotifyDPA:
		m.Step = ""
		if !p.isAuthority(m.Authority) {
			v.Add("authority", "must be one of the competent authorities of this request")
		}
	case StepNotifyDPAOutcome:
		if !slices.Contains(p.ConsultedDPAs(), m.Authority) {
			v.Add("authority", "must be a DPA notified and consulted on this request")
		}
	default:
		v.Add("step", "must be NOTIFY_DPA (the packet) or NOTIFY_DPA_OUTCOME")
	}
	if m.Means != DispatchPortal && m.Means != DispatchPost {
		v.Add("means", "must be portal or post")
	}
	if strings.TrimSpace(m.Reference) == "" {
		v.Add("reference", "required: the portal receipt or postal reference")
	}
	if m.SentAt.IsZero() || m.SentAt.After(at) {
		v.Add("sent_at", "required, not in the future")
	}
	if strings.TrimSpace(by) == "" {
		v.Add("by", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if m.Step == StepNotifyDPAOutcome {
		return p.proposeOutcomeDispatch(m, by, at)
	}
	if err := p.mayDeliver(Delivery{Step: StepNotifyDPA, Recipient: m.Authority, At: m.SentAt}); err != nil {
		return nil, err
	}
	m.LiftID = "dispatch/" + m.Authority + "/" + m.Reference
	if _, ok := p.lift(m.LiftID); ok {
		return nil, nil
	}
	return []Event{ManualDispatchProposed{Dispatch: m, Lift: p.newLift(m.LiftID, policy.Clause2_2,
		"the manual dispatch of the packet to "+m.Authority, string(m.Means), m.Reference, by, at, policy.RoleApprover, policy.RoleLegal)}}, nil
}

// ProposeWeakening records, for one person, that a step once owed may be
// dropped because the facts changed (rule 11). It is refused unless the
// current facts would in fact drop it; legal confirms.
func (p *Plan) ProposeWeakening(step StepKind, basis, evidence, by string, at time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	held := false
	for _, k := range p.held {
		held = held || k == step
	}
	if !held {
		return nil, ddrerr.Policy(clauseOr(step, policy.Clause2_2), RuleNothingToWeaken, "the current facts do not drop this step")
	}
	l := p.newLift(weakeningID(step), clauseOr(step, policy.Clause2_2), "dropping "+string(step)+" on changed facts", basis, evidence, by, at, policy.RoleLegal)
	if m := l.Missing(); len(m) > 0 {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: m[0], Description: "required"})
	}
	if _, ok := p.lift(l.ID); ok {
		return nil, ddrerr.Policy(l.Clause, RuleLiftPending, "a weakening of this step is already recorded")
	}
	return []Event{WeakeningProposed{Step: step, Lift: l}}, nil
}

func (p *Plan) newLift(id string, c policy.Clause, what, basis, evidence, by string, at time.Time, roles ...policy.Role) policy.Lift {
	l := policy.Lift{ID: id, Clause: c, What: what, Basis: basis, Evidence: evidence,
		RecordedBy: by, RecordedAt: at, ConfirmRoles: roles}
	if p.req.DecisionProposer != "" {
		l.Barred = []string{p.req.DecisionProposer}
	}
	return l
}

func (p *Plan) isAuthority(a string) bool {
	for _, x := range p.authorities {
		if x == a && a != "" {
			return true
		}
	}
	return false
}

// ConfirmLift is the second person confirming a lift: someone other than its
// recorder and the decision's proposer, with the role the lift needs. The
// facts are checked again, since they may have changed since it was
// proposed. Only now does the lift take effect: an exempted or answered hold
// lifts, a step settles, the request may clear.
func (p *Plan) ConfirmLift(id string, by policy.Person, at time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	l, ok := p.lift(id)
	if !ok {
		return nil, fmt.Errorf("%w: no lift %q on this request", ddrerr.ErrNotFound, id)
	}
	if l.Confirmed() && l.ConfirmedBy == by.ID {
		return nil, nil // a retry
	}
	// The proposer barred now, not when the lift was proposed: a later
	// decision may have a different proposer.
	if p.req.DecisionProposer != "" {
		l.Barred = append(l.Barred, p.req.DecisionProposer)
	}
	if r := l.CheckConfirm(by); r != nil {
		return nil, ddrerr.Refused(r)
	}
	var follow []Event
	switch {
	case strings.HasPrefix(id, "exemption/"):
		e := p.exemptionByLift(id)
		if err := p.exemptionFacts(ExemptionProposal{Step: e.Step, Reason: e.Reason, Statute: e.Statute, WhyNoticeDefeats: e.WhyNoticeDefeats}); err != nil {
			return nil, err
		}
		if e.Step == StepHoldAndConsultDPA && p.hold.Open() {
			follow = append(follow, HoldLifted{At: at, Basis: LiftOnExemption, By: by.ID})
		}
	case strings.HasPrefix(id, "consultation/"):
		c := p.consultationByLift(id)
		if err := p.consultationFacts(c); err != nil {
			return nil, err
		}
		if c.Authority == p.cfg.LeadDPA && c.Outcome == ConsultationNoObjection && p.hold.Open() {
			follow = append(follow, HoldLifted{At: at, Basis: LiftOnConsultation, By: by.ID})
		}
		follow = append(follow, p.objectionFollows(id, at)...)
	case strings.HasPrefix(id, "weaken/"):
		held := false
		for _, k := range p.held {
			held = held || weakeningID(k) == id
		}
		if !held {
			return nil, ddrerr.Policy(l.Clause, RuleLiftFactsChanged, "the facts no longer drop this step")
		}
	}
	return p.decide(at, append([]Event{LiftConfirmed{LiftID: id, By: by, At: at}}, follow...)...), nil
}

func (p *Plan) exemptionByLift(id string) Exemption {
	for _, e := range p.exemptions {
		if e.LiftID == id {
			return e
		}
	}
	return Exemption{}
}

func (p *Plan) consultationByLift(id string) Consultation {
	for _, c := range p.consultations {
		if c.LiftID == id {
			return c
		}
	}
	return Consultation{}
}

// Lifts returns every lift recorded on the plan, confirmed or not.
func (p *Plan) Lifts() []policy.Lift {
	out := make([]policy.Lift, len(p.lifts))
	copy(out, p.lifts)
	return out
}

// Authorities returns the competent authorities the plan notifies (2.2).
func (p *Plan) Authorities() []string { return append([]string(nil), p.authorities...) }

// PacketRecipients returns the competent authorities the DPA packet has not
// reached yet, when it may be sent (not prohibited, a decision that may lead
// to disclosure).
func (p *Plan) PacketRecipients() []string {
	if !p.derived || !mayLeadToDisclosure(p.req.Decision) || p.Outcome() == OutcomeRedirected || p.gagOn(StepNotifyDPA) {
		return nil
	}
	if _, stopped := p.stopped(); stopped {
		return nil // withdrawn or back in review: no packet leaves
	}
	return p.packetsMissing()
}

// CheckDisclosure is the gate at the recorded disclosure date (rule 5):
// adequacy judged again as of at, and every blocker. When adequacy was lost
// since the decision it returns the events that re-make the plan (a hold is
// placed) together with the refusal: the caller appends the events even
// though the disclosure is refused.
func (p *Plan) CheckDisclosure(reg *policy.AdequacyRegistry, at time.Time) ([]Event, error) {
	if _, stopped := p.stopBlocker(); stopped {
		// Withdrawn or back in review: refused, naming why, plan or not.
		return nil, DisclosureRefusal(p, at)
	}
	if !p.derived {
		return nil, errNoPlan
	}
	if reg != nil {
		if a := reg.JudgeAuthority(p.req.AuthorityCountry, at); p.adequacy.Adequate && !a.Adequate {
			evs := p.decide(at, AdequacyLost{Adequacy: a, At: at})
			return evs, ddrerr.PolicyAll([]policy.Clause{policy.Clause4_2_1}, RuleAdequacyLost,
				"the authority's country is no longer adequate on the disclosure date: the request is on hold until the DPAs are consulted")
		}
	}
	return nil, DisclosureRefusal(p, at)
}

// Dispatches returns the manual dispatches recorded, confirmed or not.
func (p *Plan) Dispatches() []ManualDispatch { return append([]ManualDispatch(nil), p.dispatches...) }
