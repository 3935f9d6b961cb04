package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// A consulted DPA is told how the request ended (issue 21, clause 5.1;
// closing the consultation 2.2 and 4.2.1 opened). Once the request reaches
// an end, the plan gains a NOTIFY_DPA_OUTCOME step owed to every authority
// the packet reached (an accepted delivery, a confirmed manual dispatch)
// and to any that objected. It blocks nothing: the request is over.
//
// Which fact marks the end, per path (platform/lifecycle's terminal
// states; reporting seals at the same points):
//
//   - disclosed: reporting's DispositionRecorded with a disclosure
//     ([DisclosureRecorded]); a withdrawal after it undoes nothing, so the
//     end stays "disclosed";
//   - no data found, rejected, challenged, redirected, withdrawn as
//     recorded by reporting: its DispositionRecorded with a terminal
//     outcome ([TerminalRecorded]);
//   - withdrawn: intake's withdrawal ([Withdrawn]) before any disclosure.
//     It stops every pending step at once and only its acknowledgement
//     follows, so it is the end; waiting for the acknowledgement would
//     leave the DPA uninformed for nothing;
//   - redirected: every controller customer's authority agreed to go to
//     the customer (RequestRedirected);
//   - rejected: a reject decision in force (a DPA's objection often leads
//     there).
//
// A reopening after the end (an amendment to a rejected request) takes the
// end back until the next one; the DPA is then told that one too. Each
// notice's delivery id names its end and its authority, so a redelivered or
// late event, or a sweep on two replicas, sends and records it once; the
// step is computed from the record, so events in any order give the same
// step. The notice carries nothing the packet did not: the reference, the
// end and its date (templates.go). The ends are [policy.Outcome], spelled
// as recorded in request_end of the outcome notices and in their lift ids.

// TerminalRecorded is reporting's record that the request ended without a
// disclosure (its DispositionRecorded with a terminal outcome), as folded.
type TerminalRecorded struct {
	CauseEventID string
	End          policy.Outcome
	At           time.Time
}

// EventName implements Event.
func (TerminalRecorded) EventName() string { return "TerminalRecorded" }

// End returns how the request ended and when; ok is false while it has
// not ended (or a reopening took the end back).
func (p *Plan) End() (end policy.Outcome, at time.Time, ok bool) {
	switch {
	case !p.lc.disclosedAt.IsZero():
		return policy.OutcomeDisclosed, p.lc.disclosedAt, true
	case p.lc.terminal != nil:
		return p.lc.terminal.End, p.lc.terminal.At, true
	case p.lc.withdrawn != nil:
		return policy.OutcomeWithdrawn, p.lc.withdrawn.At, true
	case !p.derived || p.lc.reopened != nil:
		return "", time.Time{}, false
	case p.allRedirected():
		for _, r := range p.redirects {
			at = later(at, r.At)
		}
		return policy.OutcomeRedirected, at, true
	case p.req.Decision == policy.DecisionReject:
		return policy.OutcomeRejected, p.derivedAt, true
	}
	return "", time.Time{}, false
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ConsultedDPAs lists the authorities notified and consulted on the
// request: every one the packet reached, the competent ones first, and any
// that objected.
func (p *Plan) ConsultedDPAs() []string {
	var out []string
	add := func(a string) {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range p.authorities {
		if _, ok := p.packetOut(a); ok {
			add(a)
		}
	}
	// A packet delivered under an earlier decision to an authority no
	// longer competent still told it of the request.
	for _, d := range p.deliveries {
		if (d.Step == StepNotifyDPA || d.Step == StepHoldAndConsultDPA) && !d.Failed {
			add(PacketAuthority(d))
		}
	}
	for _, m := range p.dispatches {
		if m.packet() && p.confirmed(m.LiftID) {
			add(m.Authority)
		}
	}
	for _, o := range p.lc.objections {
		add(o.DPA)
	}
	return out
}

// PacketAuthority is the authority a packet delivery went to (see
// [packetTo] for the form of old).
func PacketAuthority(d Delivery) string {
	if i := strings.Index(d.Recipient, " <"); i > 0 && d.Step == StepHoldAndConsultDPA {
		return d.Recipient[:i]
	}
	return d.Recipient
}

// toldEnd returns the accepted outcome notice of end to authority a: a
// delivery, or a dispatch by hand a second person confirmed (as the
// delivery it stands for).
func (p *Plan) toldEnd(a string, end policy.Outcome) (Delivery, bool) {
	for _, d := range p.deliveries {
		if d.Step == StepNotifyDPAOutcome && !d.Failed && d.Recipient == a && d.End == end {
			return d, true
		}
	}
	for _, m := range p.dispatches {
		if m.Step == StepNotifyDPAOutcome && m.Authority == a && m.End == end && p.confirmed(m.LiftID) {
			return Delivery{Step: m.Step, Recipient: a, End: end, At: m.SentAt}, true
		}
	}
	return Delivery{}, false
}

// proposeOutcomeDispatch is [Plan.ProposeManualDispatch] for the outcome
// notice: to a consulted DPA, of the end the request has now, sent after
// it ended.
func (p *Plan) proposeOutcomeDispatch(m ManualDispatch, by string, at time.Time) ([]Event, error) {
	end, endedAt, ok := p.End()
	if !ok {
		return nil, ddrerr.Policy(policy.Clause5_1, "NOT_ENDED", "the request has not ended: there is no outcome to tell")
	}
	m.End = end
	if err := p.mayTellEnd(Delivery{Step: StepNotifyDPAOutcome, Recipient: m.Authority, End: end}); err != nil {
		return nil, err
	}
	if m.SentAt.Before(day0(endedAt)) {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "sent_at", Description: "before the request ended (" + day(endedAt) + ")"})
	}
	m.LiftID = "dispatch/" + string(StepNotifyDPAOutcome) + "/" + m.Authority + "/" + string(end) + "/" + m.Reference
	if _, ok := p.lift(m.LiftID); ok {
		return nil, nil
	}
	return []Event{ManualDispatchProposed{Dispatch: m, Lift: p.newLift(m.LiftID, policy.Clause5_1,
		"the manual dispatch to "+m.Authority+" of the notice that the request ended ("+string(end)+")", string(m.Means), m.Reference, by, at, policy.RoleApprover, policy.RoleLegal)}}, nil
}

// OutcomeRecipients lists the consulted authorities still to be told of
// the request's end; none before the end or while a prohibition bars
// telling the DPAs.
func (p *Plan) OutcomeRecipients() (policy.Outcome, []string) {
	end, _, ok := p.End()
	if !ok || p.gagOn(StepNotifyDPA) {
		return "", nil
	}
	var out []string
	for _, a := range p.ConsultedDPAs() {
		if _, told := p.toldEnd(a, end); !told {
			out = append(out, a)
		}
	}
	return end, out
}

// outcomeStep is the step the plan gains once the request ended and some
// DPA was consulted on it.
func (p *Plan) outcomeStep() (Step, bool) {
	end, at, ok := p.End()
	to := p.ConsultedDPAs()
	if !ok || len(to) == 0 {
		return Step{}, false
	}
	k := StepNotifyDPAOutcome
	s := Step{ID: string(k), Kind: k, Clause: k.Clause(), Status: StatusRequired}
	_, missing := p.OutcomeRecipients()
	switch {
	case p.gagOn(StepNotifyDPA):
		s.Status, s.SkipReason, s.Basis = StatusSkipped, SkipProhibited, p.gagBasis()
	case len(missing) == 0:
		s.Status = StatusDone
		for _, a := range to {
			d, _ := p.toldEnd(a, end)
			s.DoneAt = later(s.DoneAt, d.At)
		}
		s.Basis = "told " + strings.Join(to, ", ") + " that the request ended: " + string(end)
	default:
		s.Basis = "tell " + strings.Join(missing, ", ") + " that the request ended: " + string(end) + " (" + day(at) + ")"
		if d, failed := p.lastDeliveryFailed(k); failed && d.End == end {
			s.Status = StatusFailed
		}
	}
	return s, true
}

// mayTellEnd checks an outcome notice before it is recorded: to a consulted
// DPA, of a valid end. A notice of an end the record has since taken back
// (a reopening while it was on its way) is recorded all the same: the
// record must show what went out.
func (p *Plan) mayTellEnd(d Delivery) error {
	if !d.End.Valid() {
		return ddrerr.Invalid(ddrerr.FieldViolation{Field: "request_end", Description: "must name how the request ended"})
	}
	if !slices.Contains(p.ConsultedDPAs(), d.Recipient) {
		return ddrerr.Invalid(ddrerr.FieldViolation{Field: "recipient", Description: "must be a DPA notified and consulted on this request"})
	}
	if p.gagOn(StepNotifyDPA) {
		return ddrerr.Policy(policy.Clause5_1, "NOTICE_PROHIBITED", "a legal prohibition bars telling the DPAs until it lifts or is waived (4.2.2)")
	}
	return nil
}
