package domain

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Commands decide; they never change the plan. Each returns the events to
// append (none when the command was already carried out, so that a retried
// command or redelivered message has the effect of one), and the caller
// appends them and folds them in with [Plan.Apply].

// errNoPlan is returned by commands on a request with no plan yet.
var errNoPlan = fmt.Errorf("%w: no notification plan for this request", ddrerr.ErrNotFound)

// Derive turns a decision into a plan (or re-plans after a new decision on
// the same request). Adequacy is judged as of the date received.
func (p *Plan) Derive(req Requirements, reg *policy.AdequacyRegistry, cfg Config, at time.Time) ([]Event, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.LeadDPA) == "" {
		return nil, errors.New("notification: config has no lead DPA")
	}
	if reg == nil {
		return nil, errors.New("notification: no adequacy registry")
	}
	if p.derived && p.requestID != req.RequestID {
		return nil, fmt.Errorf("%w: plan is for another request", ddrerr.ErrConflict)
	}
	// After a withdrawal a decision derives nothing (nothing may be sent);
	// a decision a reopening took out of force never derives again, so a
	// late or redelivered one cannot replace the new plan (lifecycle.go).
	if p.Withdrawn() || p.supersededDecision(req.DecisionID) {
		return nil, nil
	}
	ev := PlanDerived{
		RequestID:    req.RequestID,
		Requirements: req,
		Adequacy:     reg.JudgeAuthority(req.AuthorityCountry, req.ReceivedAt),
		Config:       cfg,
		Authorities:  CompetentAuthorities(req, cfg),
		At:           at,
	}
	if p.derived && reflect.DeepEqual(p.req, req) && sameConfig(p.cfg, cfg) && slices.Equal(p.authorities, ev.Authorities) {
		return nil, nil
	}
	return p.decide(at, ev), nil
}

// sameConfig compares the settings a plan records. The directory is not
// recorded (the authorities it found are), so it is left out.
func sameConfig(a, b Config) bool {
	a.Directory, b.Directory = nil, nil
	return reflect.DeepEqual(a, b)
}

// RecordRedirectOutcome records the authority's answer to being asked to go
// to the customer (4.1.1). Agreed ends the request as redirected and needs
// the support given to the customer; any other answer opens the customer
// notice (4.1.2).
func (p *Plan) RecordRedirectOutcome(o RedirectOutcome, support, by string, at time.Time) ([]Event, error) {
	return p.RecordRedirectOutcomeFor("", o, support, by, at)
}

// RecordRedirectOutcomeFor records the answer for the controller customer
// with reference ref (customers.go); ref may be empty only when the request
// has one. Each customer's answer ends that customer's steps on their own.
func (p *Plan) RecordRedirectOutcomeFor(ref string, o RedirectOutcome, support, by string, at time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	var v ddrerr.Collector
	switch o {
	case RedirectAgreed, RedirectDeclined, RedirectNotPossible, RedirectIdentityUnknown:
	default:
		v.Add("outcome", "must be agreed, declined, not_possible or identity_unknown")
	}
	if o == RedirectAgreed && strings.TrimSpace(support) == "" {
		v.Add("support", "required when the authority agrees: the support given to the customer under its contract (4.1.1)")
	}
	if strings.TrimSpace(by) == "" {
		v.Add("by", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := p.refuseStopped(); err != nil {
		return nil, err
	}
	cust, err := p.customerFor(ref)
	if err != nil {
		return nil, err
	}
	if r, ok := p.redirectFor(cust); ok && cust != "" {
		if r.Outcome == o && r.Support == support {
			return nil, nil
		}
		return nil, ddrerr.Policy(policy.Clause4_1_1, "REDIRECT_ALREADY_RECORDED", "the authority's answer to the redirect request is already recorded")
	}
	s := p.stepOf(StepAskAuthorityToRedirect, cust)
	if s.Status != StatusRequired {
		return nil, ddrerr.Policy(policy.Clause4_1_1, "REDIRECT_NOT_APPLICABLE", "no redirect request is owed: "+string(s.SkipReason))
	}
	return p.decide(at, RedirectOutcomeRecorded{RedirectRecord{Outcome: o, Support: support, By: by, At: at, CustomerRef: s.CustomerRef, Customer: cust}}), nil
}

// RecordDelivery records that a customer notice (NOTIFY_CUSTOMER) or a DPA
// consultation packet (HOLD_AND_CONSULT_DPA) reached its recipient. A
// delivery id already recorded is a retry and yields nothing. A customer
// notice is refused while a prohibition stands (4.1.2), and before the
// authority has answered the redirect request (4.1.1).
func (p *Plan) RecordDelivery(d Delivery) ([]Event, error) {
	return p.recordAttempt(d, false)
}

// RecordDeliveryFailure records that a delivery attempt failed; the step
// shows as failed and still blocks until a delivery succeeds.
func (p *Plan) RecordDeliveryFailure(d Delivery) ([]Event, error) {
	return p.recordAttempt(d, true)
}

// recordAttempt is what a delivery and a failed attempt share: the same
// checks, so a failure is refused wherever the delivery would be, and a
// delivery id already delivered yields nothing either way (a retry, or a
// late failure report that changes nothing).
func (p *Plan) recordAttempt(d Delivery, failed bool) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	if err := validateDelivery(d); err != nil {
		return nil, err
	}
	d = p.resolveDelivery(d)
	if slices.ContainsFunc(p.deliveries, func(x Delivery) bool { return x.DeliveryID == d.DeliveryID && !x.Failed }) {
		return nil, nil
	}
	if err := p.mayDeliver(d); err != nil {
		return nil, err
	}
	if failed {
		d.Failed = true
		return []Event{NoticeDeliveryFailed{d}}, nil
	}
	d.Failed, d.Reason = false, ""
	return p.decide(d.At, NoticeDelivered{d}), nil
}

func validateDelivery(d Delivery) error {
	var v ddrerr.Collector
	if d.Step != StepNotifyCustomer && d.Step != StepNotifyDPA && d.Step != StepHoldAndConsultDPA && d.Step != StepNotifyDPAOutcome {
		v.Add("step", "only NOTIFY_CUSTOMER, NOTIFY_DPA, HOLD_AND_CONSULT_DPA and NOTIFY_DPA_OUTCOME deliver notices")
	}
	if d.Channel != ChannelEmail && d.Channel != ChannelWebhook {
		v.Add("channel", "must be email or webhook")
	}
	if strings.TrimSpace(d.Recipient) == "" {
		v.Add("recipient", "required")
	}
	if strings.TrimSpace(d.DeliveryID) == "" {
		v.Add("delivery_id", "required: it makes retries deliver once")
	}
	if d.At.IsZero() {
		v.Add("at", "required")
	}
	return v.Err()
}

func (p *Plan) mayDeliver(d Delivery) error {
	if d.Step == StepNotifyDPAOutcome {
		return p.mayTellEnd(d)
	}
	s := p.Step(d.Step)
	if d.Step == StepNotifyCustomer {
		s = p.stepOf(StepNotifyCustomer, d.Customer)
	}
	if d.Step == StepHoldAndConsultDPA || d.Step == StepNotifyDPA {
		// One packet notifies (2.2) and, where the country is not adequate,
		// opens the consultation (4.2.1). A packet sent while owed is
		// recorded even if the step was settled while it was on its way:
		// the record must show what went out.
		if !mayLeadToDisclosure(p.req.Decision) {
			return ddrerr.Policy(policy.Clause2_2, "NO_DPA_NOTICE_OWED", "the decision discloses nothing, so no DPA packet is owed")
		}
		if !slices.Contains(p.authorities, d.Recipient) {
			return ddrerr.Invalid(ddrerr.FieldViolation{Field: "recipient", Description: "must be one of the competent authorities of this request"})
		}
		if p.gagOn(StepNotifyDPA) {
			return ddrerr.Policy(d.Step.Clause(), "NOTICE_PROHIBITED", "a legal prohibition bars notifying the DPAs until it lifts or is waived (4.2.2)")
		}
		return nil
	}
	gagStands := p.gagOn(StepNotifyCustomer) && (p.req.Prohibition.ExpiresAt.IsZero() || d.At.Before(p.req.Prohibition.ExpiresAt))
	switch {
	case gagStands && s.Status != StatusDone:
		return ddrerr.Policy(policy.Clause4_1_2, "NOTICE_PROHIBITED", "a legal prohibition bars the customer notice until it lifts")
	case s.Status == StatusSkipped && s.SkipReason == SkipImminentRisk:
		// Only prior notice is exempt; a notice after the emergency is owed.
		return nil
	case s.Status == StatusSkipped:
		return ddrerr.Policy(policy.Clause4_1_2, "NO_CUSTOMER_NOTICE", "no customer notice is owed: "+string(s.SkipReason))
	case p.stepOf(StepAskAuthorityToRedirect, d.Customer).Status == StatusRequired:
		return ddrerr.Policy(policy.Clause4_1_1, "REDIRECT_PENDING", "ask the authority to go to the customer first; notice follows only if it will not")
	}
	return nil
}

// RecordExemption is the one-person exemption of old. It is refused: an
// exemption takes two people ([Plan.ProposeExemption], then
// [Plan.ConfirmLift] by legal). Kept so callers fail closed until rewired.
func (p *Plan) RecordExemption(step StepKind, reason SkipReason, basis, by string, at time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	return nil, ddrerr.Policy(clauseOr(step, policy.Clause2_2), RuleNeedsTwoPeople,
		"an exemption is proposed by one person and takes effect only when a second person (legal) confirms it")
}

// RecordConsultation is the one-person consultation outcome of old. It is
// refused: an outcome takes a delivered packet and two people
// ([Plan.ProposeConsultationOutcome], then [Plan.ConfirmLift]).
func (p *Plan) RecordConsultation(c Consultation) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	return nil, ddrerr.Policy(policy.Clause4_2_1, RuleNeedsTwoPeople,
		"a DPA consultation outcome is proposed by one person and takes effect only when a second person confirms it")
}

func clauseOr(k StepKind, c policy.Clause) policy.Clause {
	if cl := k.Clause(); cl != "" {
		return cl
	}
	return c
}

// LiftHold lifts a hold on the lead DPA's recorded answer. It is refused
// without one, and when the lead DPA objected: that calls for a new
// decision, not a lifted hold.
func (p *Plan) LiftHold(by string, at time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	if strings.TrimSpace(by) == "" {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "by", Description: "required"})
	}
	if !p.hold.Open() {
		if p.hold.lifted() {
			return nil, nil
		}
		return nil, ddrerr.Policy(policy.Clause4_2_1, "NO_HOLD", "no hold stands for this request")
	}
	c, ok := p.leadOutcome()
	if !ok {
		return nil, ddrerr.Policy(policy.Clause4_2_1, "HOLD_NEEDS_CONSULTATION", "the hold lifts only on the lead DPA's consultation outcome confirmed by a second person, or a confirmed exemption")
	}
	if c.Outcome == ConsultationObjection {
		return nil, ddrerr.Policy(policy.Clause4_2_1, "DPA_OBJECTED", "the lead DPA objected; the request needs a new decision")
	}
	return p.decide(at, HoldLifted{At: at, Basis: LiftOnConsultation, By: by}), nil
}

// RecordWaiverEffort adds an entry to the 4.2.2 written record. A granted
// waiver lifts the prohibition for what it covers, which can make the
// customer notice or the hold owed again.
func (p *Plan) RecordWaiverEffort(e WaiverEffort) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	var v ddrerr.Collector
	switch e.Kind {
	case EffortInformObligations, EffortAskToHold, EffortAllowCustomerPersonnel, EffortSeekCourtOrder:
	default:
		v.Add("kind", "must be inform_obligations, ask_to_hold, allow_customer_personnel or seek_court_order")
	}
	switch e.Outcome {
	case WaiverInformed, WaiverGranted, WaiverDeclined, WaiverNoResponse, WaiverPending:
	default:
		v.Add("outcome", "must be informed, granted, declined, no_response or pending")
	}
	if strings.TrimSpace(e.Person) == "" {
		v.Add("person", "required: the written record names who made the effort")
	}
	if e.At.IsZero() {
		v.Add("at", "required: the written record dates each effort")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if slices.Contains(p.efforts, e) {
		return nil, nil
	}
	if s := p.Step(StepWaiverEfforts); s.Status == StatusSkipped {
		return nil, ddrerr.Policy(policy.Clause4_2_2, "NO_PROHIBITION", "no prohibition to seek a waiver of: "+string(s.SkipReason))
	}
	return p.decide(e.At, WaiverEffortRecorded{e}), nil
}

// Clear decides RequestCleared when nothing blocks disclosure at now. It is
// for timers (a notice period running out); the other commands clear on
// their own when they remove the last blocker.
func (p *Plan) Clear(now time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	if p.Cleared() {
		return nil, nil
	}
	if err := DisclosureRefusal(p, now); err != nil {
		return nil, err
	}
	if evs := p.decide(now); len(evs) > 0 {
		return evs, nil // adequacy judged again at clearance
	}
	return []Event{RequestCleared{At: now}}, nil
}

// decide appends what follows from evs: a hold placed as soon as one is owed
// (no disclosure while the DPAs are consulted), and RequestCleared once
// nothing blocks.
func (p *Plan) decide(at time.Time, evs ...Event) []Event {
	c := p.clone()
	for _, e := range evs {
		c.apply(e)
	}
	// Adequacy is judged again at clearance (rule 5): a country that lost
	// adequacy since the decision re-makes the plan before it can clear.
	if c.registry != nil && !c.Cleared() && c.Outcome() == OutcomeOpen && len(Blockers(c, at)) == 0 {
		if a := c.registry.JudgeAuthority(c.req.AuthorityCountry, at); c.adequacy.Adequate && !a.Adequate {
			e := AdequacyLost{Adequacy: a, At: at}
			c.apply(e)
			evs = append(evs, e)
		}
	}
	if _, stopped := c.stopped(); !stopped && c.Step(StepHoldAndConsultDPA).Status == StatusRequired && (c.hold.PlacedAt.IsZero() || c.hold.lifted()) {
		e := HoldPlaced{At: at}
		c.apply(e)
		evs = append(evs, e)
	}
	if !c.Cleared() && c.Outcome() == OutcomeOpen && len(Blockers(c, at)) == 0 {
		evs = append(evs, RequestCleared{At: at})
	}
	return evs
}

// Settle returns the follow-ups a plan is owed but lacks: a hold that is
// required and not yet placed, and RequestCleared once nothing blocks. A
// command's events already include them; Settle completes a record whose
// append stopped half way (appends of several events are not atomic).
func (p *Plan) Settle(at time.Time) []Event {
	if !p.derived {
		return nil
	}
	return p.decide(at)
}
