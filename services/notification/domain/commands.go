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
	ev := PlanDerived{
		RequestID:    req.RequestID,
		Requirements: req,
		Adequacy:     reg.JudgeAuthority(req.AuthorityCountry, req.ReceivedAt),
		Config:       cfg,
		At:           at,
	}
	if p.derived && reflect.DeepEqual(p.req, req) && reflect.DeepEqual(p.cfg, cfg) {
		return nil, nil
	}
	return p.decide(at, ev), nil
}

// RecordRedirectOutcome records the authority's answer to being asked to go
// to the customer (4.1.1). Agreed ends the request as redirected and needs
// the support given to the customer; any other answer opens the customer
// notice (4.1.2).
func (p *Plan) RecordRedirectOutcome(o RedirectOutcome, support, by string, at time.Time) ([]Event, error) {
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
	if p.redirect != nil {
		if p.redirect.Outcome == o && p.redirect.Support == support {
			return nil, nil
		}
		return nil, ddrerr.Policy(policy.Clause4_1_1, "REDIRECT_ALREADY_RECORDED", "the authority's answer to the redirect request is already recorded")
	}
	if s := p.Step(StepAskAuthorityToRedirect); s.Status != StatusRequired {
		return nil, ddrerr.Policy(policy.Clause4_1_1, "REDIRECT_NOT_APPLICABLE", "no redirect request is owed: "+string(s.SkipReason))
	}
	return p.decide(at, RedirectOutcomeRecorded{RedirectRecord{Outcome: o, Support: support, By: by, At: at}}), nil
}

// RecordDelivery records that a customer notice (NOTIFY_CUSTOMER) or a DPA
// consultation packet (HOLD_AND_CONSULT_DPA) reached its recipient. A
// delivery id already recorded is a retry and yields nothing. A customer
// notice is refused while a prohibition stands (4.1.2), and before the
// authority has answered the redirect request (4.1.1).
func (p *Plan) RecordDelivery(d Delivery) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	if err := validateDelivery(d); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(p.deliveries, func(x Delivery) bool { return x.DeliveryID == d.DeliveryID && !x.Failed }) {
		return nil, nil
	}
	if err := p.mayDeliver(d); err != nil {
		return nil, err
	}
	d.Failed, d.Reason = false, ""
	return p.decide(d.At, NoticeDelivered{d}), nil
}

// RecordDeliveryFailure records that a delivery attempt failed; the step
// shows as failed and still blocks until a delivery succeeds.
func (p *Plan) RecordDeliveryFailure(d Delivery) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	if err := validateDelivery(d); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(p.deliveries, func(x Delivery) bool { return x.DeliveryID == d.DeliveryID && !x.Failed }) {
		return nil, nil // already delivered: a late failure report changes nothing
	}
	if err := p.mayDeliver(d); err != nil {
		return nil, err
	}
	d.Failed = true
	return []Event{NoticeDeliveryFailed{d}}, nil
}

func validateDelivery(d Delivery) error {
	var v ddrerr.Collector
	if d.Step != StepNotifyCustomer && d.Step != StepHoldAndConsultDPA {
		v.Add("step", "only NOTIFY_CUSTOMER and HOLD_AND_CONSULT_DPA deliver notices")
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
	s := p.Step(d.Step)
	if d.Step == StepHoldAndConsultDPA {
		// A packet sent while the hold stood is recorded even if the hold
		// lifted while it was on its way: the record must show what went out.
		if p.hold.PlacedAt.IsZero() {
			return ddrerr.Policy(policy.Clause4_2_1, "NO_CONSULTATION_OWED", "no hold was placed, so no DPA consultation packet is owed")
		}
		return nil
	}
	switch {
	case s.Status == StatusScheduled && d.At.Before(s.ScheduledFor),
		s.Status == StatusSkipped && s.SkipReason == SkipProhibited:
		return ddrerr.Policy(policy.Clause4_1_2, "NOTICE_PROHIBITED", "a legal prohibition bars the customer notice until it lifts")
	case s.Status == StatusSkipped && s.SkipReason == SkipImminentRisk:
		// Only prior notice is exempt; a notice after the emergency is owed.
		return nil
	case s.Status == StatusSkipped:
		return ddrerr.Policy(policy.Clause4_1_2, "NO_CUSTOMER_NOTICE", "no customer notice is owed: "+string(s.SkipReason))
	case p.Step(StepAskAuthorityToRedirect).Status == StatusRequired:
		return ddrerr.Policy(policy.Clause4_1_1, "REDIRECT_PENDING", "ask the authority to go to the customer first; notice follows only if it will not")
	}
	return nil
}

// RecordExemption records that the customer notice or the DPA notice is not
// given because the law prohibits it or an imminent risk of serious harm
// prohibits prior notice, with the basis. An exemption of a standing hold
// lifts it. A prohibition exemption brings in the 4.2.2 efforts.
func (p *Plan) RecordExemption(step StepKind, reason SkipReason, basis, by string, at time.Time) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	var v ddrerr.Collector
	if step != StepNotifyCustomer && step != StepHoldAndConsultDPA {
		v.Add("step", "only NOTIFY_CUSTOMER and HOLD_AND_CONSULT_DPA can be exempted")
	}
	if reason != SkipProhibited && reason != SkipImminentRisk {
		v.Add("reason", "must be PROHIBITED or IMMINENT_RISK")
	}
	if strings.TrimSpace(basis) == "" {
		v.Add("basis", "required: an exemption without its basis cannot be checked")
	}
	if strings.TrimSpace(by) == "" {
		v.Add("by", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if e, ok := p.exemption(step); ok {
		if e.Reason == reason && e.Basis == basis {
			return nil, nil
		}
		return nil, ddrerr.Policy(step.Clause(), "EXEMPTION_ALREADY_RECORDED", "an exemption is already recorded for this step")
	}
	if s := p.Step(step); s.Status != StatusRequired && s.Status != StatusFailed {
		return nil, ddrerr.Policy(step.Clause(), "NOTHING_TO_EXEMPT", "the step is "+string(s.Status)+", not owed")
	}
	evs := []Event{ExemptionRecorded{Exemption{Step: step, Reason: reason, Basis: basis, By: by, At: at}}}
	if step == StepHoldAndConsultDPA && p.hold.Open() {
		evs = append(evs, HoldLifted{At: at, Basis: LiftOnExemption, By: by})
	}
	return p.decide(at, evs...), nil
}

// RecordConsultation records a DPA's answer (4.2.1). A no-objection from the
// lead DPA lifts the hold at once; other answers wait for a person to lift
// it ([Plan.LiftHold]).
func (p *Plan) RecordConsultation(c Consultation) ([]Event, error) {
	if !p.derived {
		return nil, errNoPlan
	}
	var v ddrerr.Collector
	if !slices.Contains(p.cfg.DPAs(), c.Authority) {
		v.Add("authority", "must be one of the configured DPAs")
	}
	switch c.Outcome {
	case ConsultationNoObjection, ConsultationObjection, ConsultationGuidance, ConsultationNoResponse:
	default:
		v.Add("outcome", "must be no_objection, objection, guidance or no_response")
	}
	if strings.TrimSpace(c.By) == "" {
		v.Add("by", "required")
	}
	if c.At.IsZero() {
		v.Add("at", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if slices.Contains(p.consultations, c) {
		return nil, nil
	}
	if !p.hold.Open() {
		return nil, ddrerr.Policy(policy.Clause4_2_1, "NO_HOLD", "no hold stands for this request")
	}
	evs := []Event{DPAConsultationRecorded{c}}
	if c.Authority == p.cfg.LeadDPA && c.Outcome == ConsultationNoObjection {
		evs = append(evs, HoldLifted{At: c.At, Basis: LiftOnConsultation, By: c.By})
	}
	return p.decide(c.At, evs...), nil
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
	c, ok := p.leadConsultation()
	if !ok {
		return nil, ddrerr.Policy(policy.Clause4_2_1, "HOLD_NEEDS_CONSULTATION", "the hold lifts only on the lead DPA's recorded consultation outcome or a recorded exemption")
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
	if bs := Blockers(p, now); len(bs) > 0 {
		return nil, ddrerr.Policy(bs[0].Clause, "DISCLOSURE_BLOCKED", bs[0].Explanation)
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
	if c.Step(StepHoldAndConsultDPA).Status == StatusRequired && c.hold.PlacedAt.IsZero() {
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
