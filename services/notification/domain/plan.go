package domain

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// StepKind names what a step does.
type StepKind string

const (
	StepAskAuthorityToRedirect StepKind = "ASK_AUTHORITY_TO_REDIRECT" // 4.1.1
	StepNotifyCustomer         StepKind = "NOTIFY_CUSTOMER"           // 4.1.2
	StepNotifyDPA              StepKind = "NOTIFY_DPA"                // 2.2
	StepHoldAndConsultDPA      StepKind = "HOLD_AND_CONSULT_DPA"      // 4.2.1
	StepWaiverEfforts          StepKind = "WAIVER_EFFORTS"            // 4.2.2
	// StepNotifyDPAOutcome: the consulted DPAs are told how the request
	// ended (outcome.go); the plan gains it only at the end.
	StepNotifyDPAOutcome StepKind = "NOTIFY_DPA_OUTCOME" // 5.1
)

// Clause returns the policy clause a step implements.
func (k StepKind) Clause() policy.Clause {
	switch k {
	case StepAskAuthorityToRedirect:
		return policy.Clause4_1_1
	case StepNotifyCustomer:
		return policy.Clause4_1_2
	case StepNotifyDPA:
		return policy.Clause2_2
	case StepHoldAndConsultDPA:
		return policy.Clause4_2_1
	case StepWaiverEfforts:
		return policy.Clause4_2_2
	case StepNotifyDPAOutcome:
		return policy.Clause5_1
	}
	return ""
}

// StepStatus is where a step stands.
type StepStatus string

const (
	StatusRequired  StepStatus = "required"  // blocks disclosure until done
	StatusSkipped   StepStatus = "skipped"   // not owed; SkipReason and Basis say why
	StatusDone      StepStatus = "done"      //
	StatusFailed    StepStatus = "failed"    // last delivery failed; still blocks
	StatusScheduled StepStatus = "scheduled" // owed at ScheduledFor (a gag's expiry); blocks only once due
	// StatusStopped: was pending when the request was withdrawn or the case
	// went back to review (lifecycle.go); nothing is sent for it.
	StatusStopped StepStatus = "stopped"
)

// SkipReason says why a step is not owed (or, for a scheduled step, why it
// waits).
type SkipReason string

const (
	SkipProhibited            SkipReason = "PROHIBITED"              // 4.1.2, 4.2.1: a legal prohibition (gag)
	SkipImminentRisk          SkipReason = "IMMINENT_RISK"           // 4.1.2, 4.2.1: imminent risk of serious harm
	SkipCustomerNotController SkipReason = "CUSTOMER_NOT_CONTROLLER" // 4.1: no customer controls the data
	SkipCountryAdequate       SkipReason = "COUNTRY_ADEQUATE"        // 4.2.1: the authority's country is adequate
	SkipRedirected            SkipReason = "REDIRECTED"              // 4.1.1: the authority went to the customer
	SkipNoDisclosureDecided   SkipReason = "NO_DISCLOSURE_DECIDED"   // the decision discloses nothing
	SkipNotProhibited         SkipReason = "NOT_PROHIBITED"          // 4.2.2: no prohibition suppresses a notice
)

// Step is one obligation of the plan.
type Step struct {
	ID           string
	Kind         StepKind
	Clause       policy.Clause
	Status       StepStatus
	SkipReason   SkipReason
	Basis        string    // why skipped or scheduled, in words, for the record
	ScheduledFor time.Time // for StatusScheduled
	DoneAt       time.Time // for StatusDone
	// CustomerRef names the controller customer ("c1", ...) of an
	// ask-to-redirect or notify-customer step when the request has
	// several; empty with one (customers.go).
	CustomerRef string
	customer    string // the customer's id: never shown, never logged
}

// Flag is something people must look at that does not block by itself.
type Flag struct {
	Code        string
	Clause      policy.Clause
	Explanation string
}

// Flag codes.
const (
	FlagGagWithoutEndDate    = "GAG_WITHOUT_END_DATE"
	FlagNoticeAfterEmergency = "NOTICE_AFTER_EMERGENCY"
	FlagCountryUnknown       = "COUNTRY_UNKNOWN"
)

// Config is the deployment's notification settings.
type Config struct {
	// LeadDPA is the lead supervisory authority; its recorded consultation
	// outcome is what lifts a hold (4.2.1).
	LeadDPA string
	// OtherDPAs are also sent the consultation packet; their outcomes are
	// recorded when they give one.
	OtherDPAs []string
	// Directory finds the authority competent for a customer's
	// establishment; nil: [DefaultDPADirectory].
	Directory DPADirectory
	// ConsultationPeriod is how long a DPA has to answer before "no reply"
	// may be recorded (by two people); zero: [DefaultConsultationPeriod].
	ConsultationPeriod time.Duration
	// NoticeWindow is how long an owed notice (after an emergency
	// disclosure, after a gag ends) may take before it is overdue; zero:
	// [DefaultNoticeWindow].
	NoticeWindow time.Duration
}

// DPAs returns the lead authority first, then the others.
func (c Config) DPAs() []string {
	return append([]string{c.LeadDPA}, c.OtherDPAs...)
}

// Outcome is where the request as a whole stands.
type Outcome string

const (
	OutcomeOpen         Outcome = "open"
	OutcomeCleared      Outcome = "cleared"       // nothing blocks disclosure
	OutcomeRedirected   Outcome = "redirected"    // 4.1.1: the authority went to the customer
	OutcomeNoDisclosure Outcome = "no_disclosure" // the decision discloses nothing
	OutcomeWithdrawn    Outcome = "withdrawn"     // the authority withdrew the request before any disclosure
	// OutcomeAwaitingDecision: the case went back to review; the plan
	// waits for a new decision.
	OutcomeAwaitingDecision Outcome = "awaiting_decision"
)

// Plan is a request's notification plan: the steps owed under the policy
// and the facts recorded so far. It changes only through Apply, so that it
// is always the fold of the request's events. Step statuses are computed
// from the requirements and the facts, never stored, so a later decision on
// the same request re-plans without losing what was already done.
type Plan struct {
	derived       bool
	requestID     string
	req           Requirements
	adequacy      policy.Adequacy
	cfg           Config
	steps         []Step
	flags         []Flag
	redirects     []RedirectRecord
	deliveries    []Delivery
	exemptions    []Exemption
	consultations []Consultation
	hold          Hold
	efforts       []WaiverEffort
	clearedAt     time.Time
	derivedAt     time.Time
	authorities   []string
	lifts         []policy.Lift
	dispatches    []ManualDispatch
	// owedOnce remembers every step that was ever owed, so that a change of
	// facts, decision inputs or configuration cannot quietly remove it
	// (rule 11): only a confirmed weakening can.
	owedOnce map[StepKind]bool
	// registry, when set ([Plan.UseRegistry]), lets the plan judge adequacy
	// again at clearance. It is not part of the fold.
	registry *policy.AdequacyRegistry
	// held lists the steps kept owed only by owedOnce.
	held []StepKind
	// lc is the request's lifecycle as it bears on the plan (lifecycle.go).
	lc lifecycle
	// owedCustomers remembers every customer once owed a notice (rule 11
	// per customer), in the order first owed.
	owedCustomers     map[string]bool
	owedCustomerOrder []string
}

// DerivePlan works out the plan for req, judging adequacy as of the date
// the request was received. It assumes req is valid (see
// [Requirements.Validate]); the [Plan.Derive] command checks that.
func DerivePlan(req Requirements, reg *policy.AdequacyRegistry, cfg Config) Plan {
	p := Plan{}
	p.apply(PlanDerived{
		RequestID:    req.RequestID,
		Requirements: req,
		Adequacy:     reg.JudgeAuthority(req.AuthorityCountry, req.ReceivedAt),
		Config:       cfg,
		Authorities:  CompetentAuthorities(req, cfg),
	})
	return p
}

// RequestID returns the request the plan is for.
func (p *Plan) RequestID() string { return p.requestID }

// Requirements returns the decision's requirements the plan rests on.
func (p *Plan) Requirements() Requirements { return p.req }

// Adequacy returns the adequacy finding the plan rests on.
func (p *Plan) Adequacy() policy.Adequacy { return p.adequacy }

// Config returns the notification settings the plan was derived with.
func (p *Plan) Config() Config {
	c := p.cfg
	c.OtherDPAs = slices.Clone(c.OtherDPAs)
	return c
}

// DerivedAt returns when the plan was last derived.
func (p *Plan) DerivedAt() time.Time { return p.derivedAt }

// Derived reports whether a plan exists (a decision was received).
func (p *Plan) Derived() bool { return p.derived }

// Steps returns the steps in order.
func (p *Plan) Steps() []Step { return slices.Clone(p.steps) }

// Step returns the step of kind k.
func (p *Plan) Step(k StepKind) Step {
	for _, s := range p.steps {
		if s.Kind == k {
			return s
		}
	}
	return Step{Kind: k}
}

// Flags returns the plan's flags.
func (p *Plan) Flags() []Flag { return slices.Clone(p.flags) }

// Redirect returns the latest answer to a redirect request, if any (with
// several customers, see [Plan.Redirects]).
func (p *Plan) Redirect() (RedirectRecord, bool) {
	if len(p.redirects) == 0 {
		return RedirectRecord{}, false
	}
	return p.redirects[len(p.redirects)-1], true
}

// Redirects returns every recorded redirect answer, one per customer
// asked.
func (p *Plan) Redirects() []RedirectRecord { return slices.Clone(p.redirects) }

// Deliveries returns every recorded delivery and failed attempt.
func (p *Plan) Deliveries() []Delivery { return slices.Clone(p.deliveries) }

// Exemptions returns the recorded exemptions.
func (p *Plan) Exemptions() []Exemption { return slices.Clone(p.exemptions) }

// Consultations returns the recorded DPA consultation outcomes.
func (p *Plan) Consultations() []Consultation { return slices.Clone(p.consultations) }

// WaiverEfforts returns the recorded 4.2.2 efforts (the written record).
func (p *Plan) WaiverEfforts() []WaiverEffort { return slices.Clone(p.efforts) }

// Hold returns the request's hold (zero if none was placed).
func (p *Plan) Hold() Hold { return p.hold }

// Cleared reports whether the request was cleared for disclosure. A
// RequestCleared event is only decided when [Blockers] is empty, that is
// when every required step is done.
func (p *Plan) Cleared() bool { return !p.clearedAt.IsZero() }

// ClearedAt returns when the request was cleared.
func (p *Plan) ClearedAt() time.Time { return p.clearedAt }

// Outcome returns where the request stands as a whole.
func (p *Plan) Outcome() Outcome {
	switch {
	case p.lc.withdrawn != nil && !p.lc.disclosedBeforeWithdrawal && !p.allRedirected():
		return OutcomeWithdrawn
	case p.AwaitingDecision():
		return OutcomeAwaitingDecision
	case p.allRedirected():
		return OutcomeRedirected
	case !mayLeadToDisclosure(p.req.Decision):
		return OutcomeNoDisclosure
	case p.Cleared():
		return OutcomeCleared
	}
	return OutcomeOpen
}

// DueSteps returns scheduled steps whose time has come (a gag has expired,
// so the customer notice must now go out).
func (p *Plan) DueSteps(now time.Time) []Step {
	var due []Step
	for _, s := range p.steps {
		if s.Status == StatusScheduled && !now.Before(s.ScheduledFor) {
			due = append(due, s)
		}
	}
	return due
}

func (p *Plan) clone() *Plan {
	c := *p
	c.steps = slices.Clone(p.steps)
	c.flags = slices.Clone(p.flags)
	c.deliveries = slices.Clone(p.deliveries)
	c.exemptions = slices.Clone(p.exemptions)
	c.consultations = slices.Clone(p.consultations)
	c.efforts = slices.Clone(p.efforts)
	c.cfg.OtherDPAs = slices.Clone(p.cfg.OtherDPAs)
	c.authorities = slices.Clone(p.authorities)
	c.lifts = slices.Clone(p.lifts)
	c.dispatches = slices.Clone(p.dispatches)
	c.owedOnce = maps.Clone(p.owedOnce)
	c.held = slices.Clone(p.held)
	c.lc = p.lc.clone()
	c.redirects = slices.Clone(p.redirects)
	c.owedCustomers = maps.Clone(p.owedCustomers)
	c.owedCustomerOrder = slices.Clone(p.owedCustomerOrder)
	return &c
}

// granted reports whether any effort of the given kinds won a waiver.
func (p *Plan) granted(kinds ...WaiverEffortKind) bool {
	for _, e := range p.efforts {
		if e.Outcome == WaiverGranted && slices.Contains(kinds, e.Kind) {
			return true
		}
	}
	return false
}

// exemptionFor returns the latest confirmed exemption of step k that the
// facts still support: a prohibition exemption resting on a gag lapses when
// a waiver lifts the gag for that notice, an imminent-risk exemption when
// the finding is no longer recorded. For a customer notice, an exemption
// naming no customer covers every customer's, one naming a customer only
// that customer's; id "" matches any.
func (p *Plan) exemptionFor(k StepKind, id string) (Exemption, bool) {
	for i := len(p.exemptions) - 1; i >= 0; i-- {
		e := p.exemptions[i]
		if e.Step != k || !p.confirmed(e.LiftID) {
			continue
		}
		if id != "" && e.Customer != "" && e.Customer != id {
			continue
		}
		if e.Reason == SkipProhibited && e.Statute == "" && !p.gagOn(k) {
			continue
		}
		// Facts can change after the confirmation (an amendment withdraws
		// the risk claim): an exemption stands only while they allow it.
		if e.Reason == SkipImminentRisk && !p.req.ImminentRisk.Finding() {
			continue
		}
		return e, true
	}
	return Exemption{}, false
}

// gagOn reports whether a recorded prohibition still bars the notice of
// step k: a waiver won under 4.2.2 lifts it for what it covers (disclosure
// to customer staff for the customer notice, a hold to consult for the
// DPAs, a court order for both).
func (p *Plan) gagOn(k StepKind) bool {
	if !p.req.Prohibition.Present {
		return false
	}
	if k == StepNotifyCustomer {
		return !p.granted(EffortAllowCustomerPersonnel, EffortSeekCourtOrder)
	}
	return !p.granted(EffortAskToHold, EffortSeekCourtOrder)
}

// lift returns the lift with id.
func (p *Plan) lift(id string) (policy.Lift, bool) {
	for _, l := range p.lifts {
		if l.ID == id && id != "" {
			return l, true
		}
	}
	return policy.Lift{}, false
}

// confirmed reports whether the lift id was confirmed by a second person
// who is not the proposer of the decision now in force: a later decision
// proposed by the confirmer voids the confirmation for it.
func (p *Plan) confirmed(id string) bool {
	l, ok := p.lift(id)
	return ok && l.Confirmed() && (p.req.DecisionProposer == "" || l.ConfirmedBy != p.req.DecisionProposer)
}

// packetOut returns when the DPA packet went out to authority: an accepted
// delivery, or a manual dispatch a second person confirmed.
func (p *Plan) packetOut(authority string) (time.Time, bool) {
	var at time.Time
	for _, d := range p.deliveries {
		if (d.Step == StepNotifyDPA || d.Step == StepHoldAndConsultDPA) && !d.Failed && packetTo(d, authority) {
			if at.IsZero() || d.At.Before(at) {
				at = d.At
			}
		}
	}
	for _, m := range p.dispatches {
		if m.packet() && m.Authority == authority && p.confirmed(m.LiftID) {
			if at.IsZero() || m.SentAt.Before(at) {
				at = m.SentAt
			}
		}
	}
	return at, !at.IsZero()
}

// packetTo reports whether delivery d went to authority. Deliveries name
// the authority; HOLD_AND_CONSULT_DPA packets recorded before issue 15 named
// one of its addresses as "<authority> <address>", and keep counting.
func packetTo(d Delivery, authority string) bool {
	return d.Recipient == authority || (d.Step == StepHoldAndConsultDPA && strings.HasPrefix(d.Recipient, authority+" <"))
}

// packetsMissing lists the competent authorities the packet has not
// reached yet.
func (p *Plan) packetsMissing() []string {
	var out []string
	for _, a := range p.authorities {
		if _, ok := p.packetOut(a); !ok {
			out = append(out, a)
		}
	}
	return out
}

// leadOutcome returns the lead authority's latest confirmed outcome whose
// facts still hold. The facts are judged again, not only when the outcome
// was proposed: a manual dispatch it rested on stops counting when its
// confirmer later proposes the decision, and an outcome dated before the
// packet that now counts as sent answers nothing (4.2.1).
func (p *Plan) leadOutcome() (Consultation, bool) {
	for i := len(p.consultations) - 1; i >= 0; i-- {
		if c := p.consultations[i]; c.Authority == p.cfg.LeadDPA && p.confirmed(c.LiftID) && p.consultationFacts(c) == nil {
			return c, true
		}
	}
	return Consultation{}, false
}

func (p *Plan) lastDeliveryFailed(k StepKind) (Delivery, bool) {
	for i := len(p.deliveries) - 1; i >= 0; i-- {
		if d := p.deliveries[i]; d.Step == k {
			return d, d.Failed
		}
	}
	return Delivery{}, false
}

func (p *Plan) gagBasis() string {
	g := p.req.Prohibition
	if g.ExpiresAt.IsZero() {
		return "prohibition " + g.Reference + " (no end date)"
	}
	return "prohibition " + g.Reference + " until " + g.ExpiresAt.UTC().Format(time.RFC3339)
}

// recompute derives every step's status from the requirements and the
// recorded facts. Each case cites the clause that decides it; the order of
// the cases is the precedence between them. A gag or an imminent risk never
// skips a notice or a hold by itself: only an exemption that the facts
// allow and a second person confirmed does (rules 1 and 2 of issue 15).
func (p *Plan) recompute() {
	r := p.req
	risk := r.ImminentRisk.Present
	adequate := p.adequacy.Adequate
	mayDisclose := mayLeadToDisclosure(r.Decision)
	redirected := p.allRedirected()
	noDisclosure := "decision " + string(r.Decision) + " discloses nothing"

	mk := func(k StepKind) Step { return Step{ID: string(k), Kind: k, Clause: k.Clause(), Status: StatusRequired} }
	skip := func(s *Step, why SkipReason, basis string) {
		s.Status, s.SkipReason, s.Basis = StatusSkipped, why, basis
	}
	// exempt applies a confirmed exemption of s; a prohibition exemption
	// under a gag with an end date only delays the notice to that day.
	exempt := func(s *Step, gag bool) bool {
		e, ok := p.exemptionFor(s.Kind, s.customer)
		if !ok {
			return false
		}
		if e.Reason == SkipProhibited && gag && !r.Prohibition.ExpiresAt.IsZero() && e.Statute == "" {
			s.Status, s.SkipReason, s.Basis = StatusScheduled, SkipProhibited, p.gagBasis()
			s.ScheduledFor = r.Prohibition.ExpiresAt
			return true
		}
		skip(s, e.Reason, e.Basis)
		return true
	}

	// One ask and one notice per controller customer (customers.go); with
	// none, one of each, skipped.
	custs := p.stepCustomers()
	several := len(custs) > 1
	if len(custs) == 0 {
		custs = []stepCustomer{{}}
	}
	var asks, notices []Step
	p.lc.notices = p.lc.notices[:0:0]
	for _, c := range custs {
		ask, notice := mk(StepAskAuthorityToRedirect), mk(StepNotifyCustomer)
		ask.customer, notice.customer = c.ID, c.ID
		if several {
			ask.ID, ask.CustomerRef = ask.ID+"/"+c.Ref, c.Ref
			notice.ID, notice.CustomerRef = notice.ID+"/"+c.Ref, c.Ref
		}
		red, answered := p.redirectFor(c.ID)
		answered = answered && c.ID != ""

		// 4.1.1: ask the authority to go to the customer, "ordinarily". An
		// imminent risk is the case that is not ordinary: bouncing an
		// emergency to the customer would cost the time the emergency does
		// not have. This skips no notice: the customer is still owed 4.1.2.
		switch {
		case !mayDisclose:
			skip(&ask, SkipNoDisclosureDecided, noDisclosure)
		case !c.Controller:
			skip(&ask, SkipCustomerNotController, "the company, not a customer, is the controller")
		case answered:
			ask.Status, ask.DoneAt = StatusDone, red.At
		case risk:
			skip(&ask, SkipImminentRisk, r.ImminentRisk.Basis)
		}

		// 4.1.2: notify the customer before any disclosure, unless an
		// exemption (prohibited, or imminent risk that prohibits prior
		// notice) is recorded and confirmed. One customer's agreed redirect
		// ends that customer's notice only.
		switch d, ok := p.deliveredTo(c.ID); {
		case !mayDisclose:
			skip(&notice, SkipNoDisclosureDecided, noDisclosure)
		case !c.Controller:
			skip(&notice, SkipCustomerNotController, "2.2 and 4.1 give notice to a customer only for data it controls")
		case ok && c.ID != "":
			notice.Status, notice.DoneAt = StatusDone, d.At
		case answered && red.Outcome == RedirectAgreed:
			skip(&notice, SkipRedirected, "the authority agreed to address the customer directly")
		case exempt(&notice, p.gagOn(StepNotifyCustomer)):
		default:
			if _, failed := p.lastFailedTo(c.ID); failed && c.ID != "" {
				notice.Status = StatusFailed
			}
		}
		p.owedNotices(&notice)
		asks, notices = append(asks, ask), append(notices, notice)
	}

	// 2.2: notify the competent data protection authorities of every
	// request that may lead to disclosure, adequate country or not. Done
	// once the packet went out to each of them.
	dpa := mk(StepNotifyDPA)
	switch missing := p.packetsMissing(); {
	case !mayDisclose:
		skip(&dpa, SkipNoDisclosureDecided, noDisclosure)
	case redirected:
		skip(&dpa, SkipRedirected, "the authority agreed to address the customer directly; the company discloses nothing")
	case len(missing) == 0:
		dpa.Status = StatusDone
		for _, a := range p.authorities {
			if at, _ := p.packetOut(a); at.After(dpa.DoneAt) {
				dpa.DoneAt = at
			}
		}
	case exempt(&dpa, p.gagOn(StepNotifyDPA)):
	default:
		if _, failed := p.lastDeliveryFailed(StepNotifyDPA); failed {
			dpa.Status = StatusFailed
		}
	}

	// 4.2.1: hold and consult the DPAs when the authority's country is not
	// adequate; the hold waits for the lead authority's confirmed outcome.
	hold := mk(StepHoldAndConsultDPA)
	switch c, ok := p.leadOutcome(); {
	case !mayDisclose:
		skip(&hold, SkipNoDisclosureDecided, noDisclosure)
	case adequate:
		skip(&hold, SkipCountryAdequate, p.adequacy.Reason)
	case p.hold.lifted() && p.hold.LiftBasis == LiftOnConsultation && ok && c.Outcome != ConsultationObjection:
		hold.Status, hold.DoneAt = StatusDone, p.hold.LiftedAt
	case exempt(&hold, p.gagOn(StepHoldAndConsultDPA)):
	case redirected:
		skip(&hold, SkipRedirected, "the authority agreed to address the customer directly; the company discloses nothing")
	}

	// Rule 11: a step once owed stays owed when new facts, a new decision's
	// inputs or a new configuration would drop it, until two people confirm
	// the weakening.
	p.held = nil
	for i := range notices {
		p.keepFloor(&notices[i])
	}
	for _, s := range []*Step{&dpa, &hold} {
		p.keepFloor(s)
	}

	// 4.2.2: best efforts to get a prohibition waived, when a prohibition
	// bars a notice this plan owes: the customer notice, or the DPA notice
	// that 2.2 owes for every disclosure.
	waiver := mk(StepWaiverEfforts)
	noticeOpen := slices.ContainsFunc(notices, func(s Step) bool {
		return s.customer != "" && s.Status != StatusDone && s.SkipReason != SkipCustomerNotController
	})
	suppressed := (p.gagOn(StepNotifyCustomer) && r.anyController() && noticeOpen) ||
		(p.gagOn(StepNotifyDPA) && dpa.Status != StatusDone)
	missing := p.missingEfforts()
	switch {
	case !mayDisclose:
		skip(&waiver, SkipNoDisclosureDecided, noDisclosure)
	case len(p.efforts) > 0 && len(missing) == 0:
		waiver.Status, waiver.DoneAt = StatusDone, p.efforts[len(p.efforts)-1].At
	case redirected:
		skip(&waiver, SkipRedirected, "the authority agreed to address the customer directly")
	case !suppressed:
		skip(&waiver, SkipNotProhibited, "no prohibition suppresses a notice this plan requires")
	}

	// Listed in this order, though not run strictly in it: the hold is placed
	// at once and the DPA notice and consultation run alongside the
	// redirect; only the customer notice waits for the redirect answer.
	p.steps = append(append(asks, notices...), dpa, hold, waiver)
	p.stopSteps(p.steps)
	// Gained at the end, after the stop: a withdrawal is an end the DPAs
	// are told of, not a reason to tell them nothing.
	if s, ok := p.outcomeStep(); ok {
		p.steps = append(p.steps, s)
	}
	if p.owedOnce == nil {
		p.owedOnce = map[StepKind]bool{}
	}
	if p.owedCustomers == nil {
		p.owedCustomers = map[string]bool{}
	}
	for _, s := range p.steps {
		if mayDisclose && s.Status != StatusSkipped {
			p.owedOnce[s.Kind] = true
			if s.Kind == StepNotifyCustomer && s.customer != "" && !p.owedCustomers[s.customer] {
				p.owedCustomers[s.customer] = true
				p.owedCustomerOrder = append(p.owedCustomerOrder, s.customer)
			}
		}
	}

	p.flags = nil
	if mayDisclose && r.Prohibition.Present && r.Prohibition.ExpiresAt.IsZero() {
		p.flags = append(p.flags, Flag{Code: FlagGagWithoutEndDate, Clause: policy.Clause4_2_2,
			Explanation: "the prohibition has no end date: counsel to consider challenging it or seeking a court order"})
	}
	emergencyNotice := slices.ContainsFunc(notices, func(s Step) bool { return s.SkipReason == SkipImminentRisk })
	if mayDisclose && (emergencyNotice || dpa.SkipReason == SkipImminentRisk || hold.SkipReason == SkipImminentRisk) {
		p.flags = append(p.flags, Flag{Code: FlagNoticeAfterEmergency, Clause: policy.Clause4_1_2,
			Explanation: "imminent risk exempts only prior notice: the customer notice is owed once the disclosure is recorded, due within the notice window; notify the DPAs once the risk has passed"})
	}
	if p.adequacy.Country == policy.CountryUnknown {
		p.flags = append(p.flags, Flag{Code: FlagCountryUnknown, Clause: policy.Clause4_2_1,
			Explanation: "the authority's country is unknown and is treated as not adequate"})
	}
}

// weakeningReasons are the skips that new facts or settings can bring about
// after a step was owed. Skips that follow from no disclosure, a redirect or
// an exemption have their own checks.
var weakeningReasons = []SkipReason{SkipCustomerNotController, SkipCountryAdequate}

// keepFloor keeps s owed when it was owed before and only changed facts
// would now skip it, unless two people confirmed the weakening.
func (p *Plan) keepFloor(s *Step) {
	if s.Status != StatusSkipped || !slices.Contains(weakeningReasons, s.SkipReason) || !p.owedOnce[s.Kind] {
		return
	}
	if p.confirmed(weakeningID(s.Kind)) {
		return
	}
	if !slices.Contains(p.held, s.Kind) {
		p.held = append(p.held, s.Kind)
	}
	s.Status, s.Basis = StatusRequired, "owed before the facts changed ("+string(s.SkipReason)+"): dropping it takes two people (legal confirming)"
	s.SkipReason = ""
}

// Weakenings lists the steps that new facts would drop but that stay owed
// until a weakening is confirmed: the one check every path that removes or
// weakens a step (a correction, an amendment, a configuration) goes through.
func (p *Plan) Weakenings() []StepKind {
	return slices.Clone(p.held)
}

func weakeningID(k StepKind) string { return "weaken/" + string(k) }

// neededEfforts lists the 4.2.2 efforts that make the written record
// complete. Informing the authority of the company's obligations is always
// owed. Asking for disclosure to customer staff is owed when the gag stands
// between the customer and a notice; asking for a hold to consult the DPAs
// when the country is not adequate. Under an imminent risk neither ask is
// owed: 4.2.2 weighs urgency, and both would delay what the risk demands.
// Seeking a court order is for counsel to decide, so it is never demanded.
func (p *Plan) neededEfforts() []WaiverEffortKind {
	r := p.req
	need := []WaiverEffortKind{EffortInformObligations}
	if r.ImminentRisk.Present {
		return need
	}
	if r.anyController() {
		need = append(need, EffortAllowCustomerPersonnel)
	}
	if !p.adequacy.Adequate {
		need = append(need, EffortAskToHold)
	}
	return need
}

func (p *Plan) missingEfforts() []WaiverEffortKind {
	var missing []WaiverEffortKind
	for _, k := range p.neededEfforts() {
		if !slices.ContainsFunc(p.efforts, func(e WaiverEffort) bool { return e.Kind == k && e.Outcome != WaiverPending }) {
			missing = append(missing, k)
		}
	}
	return missing
}
