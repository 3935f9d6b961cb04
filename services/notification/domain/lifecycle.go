package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// The request's lifecycle as notification sees it (issue 16): a case goes
// back to review (assessment's CaseReopened), the authority withdraws the
// request (intake's RequestWithdrawn), a disclosure is recorded (reporting's
// DispositionRecorded). These are facts of other services; the app maps
// them to [Reopened], [Withdrawn] and [DisclosureRecorded] while folding,
// in the order of the request's record, so the plan reacts to them the
// moment they are in the record, not only once the reactor has run:
//
//   - Reopened: every pending step stops ([StepsStopped] REOPENED lists
//     them); nothing is delivered and the gate refuses until a new
//     decision derives a new plan. A reopening that names a decision other
//     than the one in force is stale (a redelivery after the new plan) and
//     changes nothing; the superseded decision can never derive again.
//   - Withdrawn: every pending step stops at once (StepsStopped
//     WITHDRAWN); no notice or DPA packet leaves after it, the gate refuses
//     naming the withdrawal, and a later decision derives nothing. After a
//     disclosure was recorded the withdrawal undoes nothing: the notice the
//     disclosure made owed (after an emergency) stays owed, because it
//     tells the customer of a disclosure that happened.
//
// What a new plan counts of the old one (a re-decision): the record is
// never rewritten, and step statuses are recomputed from it, so
//
//   - a DPA packet delivered to an authority counts for the new plan if
//     that authority is still competent (2.2 asks that it was notified of
//     the request, not of each decision);
//   - a customer notice delivered to a customer counts for that customer
//     (the notice gives the details of the request, which a re-decision
//     does not change; an amendment that changes them reopens through
//     assessment, and staff then decide whether to tell the customer
//     again);
//   - a recorded redirect answer counts: the authority was asked and
//     answered; asking again for the same demand would only delay it;
//   - a hold stays until its lift (4.2.1), whatever the new decision;
//   - exemptions and other lifts count only if confirmed by someone other
//     than the new decision's proposer (as before);
//   - a clearance never carries over: a new decision needs its own.
//
// Owed notices with due dates (clause 4.1.2): the customer notice that an
// imminent risk exempted as prior notice is owed once the disclosure is
// recorded, due within [Config.NoticeWindow]; the notice a gag delayed is
// owed when the gag ends, due within the same window. Both are deadlines of
// [deadline.Ledger]: met by the delivery, overdue once per due time
// ([Plan.OverdueNotices] → [NoticeOverdue]).

// StopReason is why every pending step stopped.
type StopReason string

// The stop reasons.
const (
	StopWithdrawn StopReason = "WITHDRAWN"
	StopReopened  StopReason = "REOPENED"
)

// DefaultNoticeWindow is how long an owed notice (after an emergency
// disclosure, after a gag ends) may take, when the config sets none.
const DefaultNoticeWindow = 72 * time.Hour

// Deadline ids of the owed notices.
const (
	DeadlineNoticeAfterEmergency = "notice/after-emergency"
	DeadlineNoticeAfterGag       = "notice/after-gag"
)

// Withdrawn is intake's withdrawal of the request, as folded.
type Withdrawn struct {
	CauseEventID string
	At           time.Time
}

// Reopened is assessment's CaseReopened, as folded.
type Reopened struct {
	CauseEventID string
	// SupersededDecisionID is the decision that stops being in force;
	// empty when assessment named none.
	SupersededDecisionID string
	At                   time.Time
}

// DisclosureRecorded is reporting's record that data was disclosed.
type DisclosureRecorded struct {
	CauseEventID string
	At           time.Time
}

// StepsStopped: every pending step stopped at once; steps already done stay
// done.
type StepsStopped struct {
	Reason       StopReason
	CauseEventID string
	Steps        []StepKind
	At           time.Time
}

// DpaObjected: the lead DPA's objection was confirmed by a second person;
// the decision's plan ends and assessment reopens the case (4.2.1).
type DpaObjected struct {
	DecisionID string
	DPA        string
	At         time.Time
}

// NoticeOverdue: an owed notice passed its due time undelivered. Recorded
// once per deadline and due time.
type NoticeOverdue struct {
	DeadlineID string
	Step       StepKind
	// CustomerRef names the controller customer ("c1", ...) when the
	// request has several.
	CustomerRef string
	Due         time.Time
	At          time.Time
}

func (Withdrawn) EventName() string          { return "Withdrawn" }
func (Reopened) EventName() string           { return "Reopened" }
func (DisclosureRecorded) EventName() string { return "DisclosureRecorded" }
func (StepsStopped) EventName() string       { return "StepsStopped" }
func (DpaObjected) EventName() string        { return "DpaObjected" }
func (NoticeOverdue) EventName() string      { return "NoticeOverdue" }

// lifecycle is the plan's part of the request's lifecycle.
type lifecycle struct {
	withdrawn *Withdrawn
	// reopened is the reopening in force: set until a decision other than
	// the one in force at the reopening derives a plan.
	reopened *Reopened
	// reopenedFrom is the decision in force when the case reopened: it can
	// never derive again.
	reopenedFrom []string
	disclosedAt  time.Time
	// terminal is reporting's record of an end without a disclosure
	// (outcome.go); a reopening takes it back.
	terminal *TerminalRecorded
	// disclosedBeforeWithdrawal: the withdrawal came after a disclosure
	// and undoes nothing.
	disclosedBeforeWithdrawal bool
	stops                     []StepsStopped
	objections                []DpaObjected
	overdue                   []NoticeOverdue
	// notices are the owed notices' deadlines as the last recompute found
	// them, with whether each is met or cancelled.
	notices []noticeDeadline
}

type noticeDeadline struct {
	ref       string
	d         deadline.Deadline
	met       time.Time
	cancelled string
}

func (l lifecycle) clone() lifecycle {
	c := l
	c.reopenedFrom = slices.Clone(l.reopenedFrom)
	c.stops = slices.Clone(l.stops)
	c.objections = slices.Clone(l.objections)
	c.overdue = slices.Clone(l.overdue)
	c.notices = slices.Clone(l.notices)
	return c
}

// applyLifecycle folds the lifecycle events; ok is false for others.
func (p *Plan) applyLifecycle(e Event) bool {
	switch e := e.(type) {
	case Withdrawn:
		if p.lc.withdrawn == nil {
			p.lc.withdrawn = &e
			p.lc.disclosedBeforeWithdrawal = !p.lc.disclosedAt.IsZero()
		}
	case Reopened:
		// Before any plan there is nothing to stop; a reopening that names
		// another decision than the one in force is stale.
		if !p.derived || (e.SupersededDecisionID != "" && e.SupersededDecisionID != p.req.DecisionID) || !p.lc.disclosedAt.IsZero() {
			return true
		}
		p.lc.terminal = nil
		if p.lc.reopened == nil {
			p.lc.reopened = &e
			p.lc.reopenedFrom = append(p.lc.reopenedFrom, p.req.DecisionID)
		}
	case DisclosureRecorded:
		if p.lc.disclosedAt.IsZero() {
			p.lc.disclosedAt = e.At
		}
	case TerminalRecorded:
		p.lc.terminal = &e
	case StepsStopped:
		p.lc.stops = append(p.lc.stops, e)
		if e.Reason == StopWithdrawn && p.lc.withdrawn == nil {
			p.lc.withdrawn = &Withdrawn{CauseEventID: e.CauseEventID, At: e.At}
			p.lc.disclosedBeforeWithdrawal = !p.lc.disclosedAt.IsZero()
		}
	case DpaObjected:
		p.lc.objections = append(p.lc.objections, e)
	case NoticeOverdue:
		p.lc.overdue = append(p.lc.overdue, e)
	default:
		return false
	}
	return true
}

// beforeDerive reports whether e may be folded before a plan exists: the
// request can be withdrawn, or data disclosed (never without a plan, but
// the fold does not judge), before any decision.
func beforeDerive(e Event) bool {
	switch e.(type) {
	case Withdrawn, Reopened, DisclosureRecorded, StepsStopped, TerminalRecorded:
		return true
	}
	return false
}

// Withdrawn reports whether the authority withdrew the request.
func (p *Plan) Withdrawn() bool { return p.lc.withdrawn != nil }

// AwaitingDecision reports whether the case went back to review and the
// plan waits for a new decision.
func (p *Plan) AwaitingDecision() bool { return p.lc.reopened != nil && p.lc.withdrawn == nil }

// stopped reports whether the pending steps are stopped: a withdrawal
// before any disclosure, or a reopening. A withdrawal after a disclosure
// stops what was pending but not the notice the disclosure made owed.
func (p *Plan) stopped() (StopReason, bool) {
	switch {
	case p.lc.withdrawn != nil:
		return StopWithdrawn, true
	case p.lc.reopened != nil:
		return StopReopened, true
	}
	return "", false
}

// Disclosed returns when the disclosure was recorded (zero: none).
func (p *Plan) Disclosed() time.Time { return p.lc.disclosedAt }

// Stops returns the recorded StepsStopped events.
func (p *Plan) Stops() []StepsStopped { return slices.Clone(p.lc.stops) }

// Objections returns the recorded DPA objections.
func (p *Plan) Objections() []DpaObjected { return slices.Clone(p.lc.objections) }

// stopSteps marks the pending steps stopped. The owed notice after an
// emergency disclosure is not pending in that sense: it reports a
// disclosure that happened, and a withdrawal after it undoes nothing.
func (p *Plan) stopSteps(steps []Step) {
	why, ok := p.stopped()
	if !ok {
		return
	}
	basis := "stopped: the case went back to review; the plan waits for a new decision"
	if why == StopWithdrawn {
		basis = "stopped: the authority withdrew the request"
	}
	for i := range steps {
		s := &steps[i]
		if s.Kind == StepNotifyCustomer && p.undoesNothing() {
			continue
		}
		switch s.Status {
		case StatusRequired, StatusFailed, StatusScheduled:
			s.Status, s.Basis, s.ScheduledFor = StatusStopped, basis, time.Time{}
		}
	}
}

// undoesNothing reports whether the request was withdrawn after a
// disclosure: the customer notice the disclosure made owed (after an
// emergency, after a gag) stays owed, since it tells the customer of a
// disclosure that happened.
func (p *Plan) undoesNothing() bool {
	return p.lc.withdrawn != nil && p.lc.disclosedBeforeWithdrawal
}

// noticeWindow is the time an owed notice may take.
func (c Config) noticeWindow() time.Duration {
	if c.NoticeWindow > 0 {
		return c.NoticeWindow
	}
	return DefaultNoticeWindow
}

// owedNotices turns the customer notice into a step with a due date when
// a disclosure under an imminent risk made it owed, and keeps the owed
// notices' deadlines (met by the delivery, cancelled by a stop before
// it was owed).
func (p *Plan) owedNotices(notice *Step) {
	win := p.cfg.noticeWindow()
	rule := deadline.Rule{Counting: deadline.Hours, N: int(win.Hours()), Source: "Government Data Request Policy 4.1.2; notification's notice window"}
	cust := p.customer(notice.customer)
	d, delivered := p.deliveredTo(cust.ID)
	delivered = delivered && cust.ID != ""
	add := func(id, what string, start time.Time) {
		if notice.CustomerRef != "" {
			id += "/" + notice.CustomerRef
		}
		nd := noticeDeadline{ref: notice.CustomerRef, d: deadline.Deadline{ID: id, Kind: deadline.By, Clause: policy.Clause4_1_2, What: what, Rule: rule,
			Start: start, Due: deadline.Due{At: start.Add(win)}}}
		if delivered {
			nd.met = d.At
		}
		p.lc.notices = append(p.lc.notices, nd)
	}
	if !p.lc.disclosedAt.IsZero() && cust.Controller && mayLeadToDisclosure(p.req.Decision) {
		if e, ok := p.exemptionFor(StepNotifyCustomer, cust.ID); ok && e.Reason == SkipImminentRisk {
			add(DeadlineNoticeAfterEmergency, "the customer notice owed after a disclosure made under an imminent risk", p.lc.disclosedAt)
			if !delivered {
				notice.Status, notice.SkipReason = StatusRequired, ""
				notice.ScheduledFor = p.lc.disclosedAt.Add(win)
				notice.Basis = "owed after the disclosure made under an imminent risk (4.1.2 exempts only prior notice): due by " + notice.ScheduledFor.UTC().Format(time.RFC3339)
				if _, failed := p.lastFailedTo(cust.ID); failed {
					notice.Status = StatusFailed
				}
			}
		}
	}
	if notice.Status == StatusScheduled && notice.SkipReason == SkipProhibited && !notice.ScheduledFor.IsZero() {
		add(DeadlineNoticeAfterGag, "the customer notice owed when the prohibition ends", notice.ScheduledFor)
	}
	if why, ok := p.stopped(); ok && !p.undoesNothing() {
		for i := range p.lc.notices {
			p.lc.notices[i].cancelled = "steps stopped: " + string(why)
		}
	}
}

// NoticeDeadlines returns the owed notices' deadlines with their status.
func (p *Plan) NoticeDeadlines() []deadline.View { return p.ledger().All() }

func (p *Plan) ledger() *deadline.Ledger {
	l := &deadline.Ledger{}
	for _, n := range p.lc.notices {
		l.Apply(deadline.Set{Deadline: n.d, At: n.d.Start})
	}
	for _, o := range p.lc.overdue {
		l.Apply(deadline.OverdueEvent{ID: o.DeadlineID, Due: o.Due, At: o.At})
	}
	for _, n := range p.lc.notices {
		switch {
		case !n.met.IsZero():
			l.Apply(deadline.MetEvent{ID: n.d.ID, At: n.met})
		case n.cancelled != "":
			l.Apply(deadline.CancelledEvent{ID: n.d.ID, Reason: n.cancelled})
		}
	}
	return l
}

// OverdueNotices returns the NoticeOverdue events owed at now: each owed
// notice whose due time passed undelivered, once per due time.
func (p *Plan) OverdueNotices(now time.Time) []Event {
	if !p.derived {
		return nil
	}
	var out []Event
	for _, o := range p.ledger().Fire(now) {
		ref := ""
		for _, n := range p.lc.notices {
			if n.d.ID == o.ID {
				ref = n.ref
			}
		}
		out = append(out, NoticeOverdue{DeadlineID: o.ID, Step: StepNotifyCustomer, CustomerRef: ref, Due: o.Due, At: now})
	}
	return out
}

// NextNoticeDue returns the nearest due time of an owed notice still
// pending, for the ticker's index.
func (p *Plan) NextNoticeDue() (time.Time, bool) {
	var next time.Time
	for _, v := range p.ledger().All() {
		if v.Status == deadline.Pending && (next.IsZero() || v.Due.At.Before(next)) {
			next = v.Due.At
		}
	}
	return next, !next.IsZero()
}

// Stop decides StepsStopped for a withdrawal or a reopening the plan has
// already folded: it lists the steps that were pending. Nothing when the
// stop is already recorded, or when the reopening was stale or already
// superseded by a new plan (a redelivered event cannot stop the new plan).
func (p *Plan) Stop(reason StopReason, cause string, at time.Time) ([]Event, error) {
	if strings.TrimSpace(cause) == "" {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "cause_event_id", Description: "required"})
	}
	for _, s := range p.lc.stops {
		if s.CauseEventID == cause || (reason == StopWithdrawn && s.Reason == StopWithdrawn) {
			return nil, nil
		}
	}
	switch reason {
	case StopWithdrawn:
		if p.lc.withdrawn == nil {
			return nil, ddrerr.Policy(policy.Clause2_1, "NOT_WITHDRAWN", "the request was not withdrawn")
		}
	case StopReopened:
		if p.lc.reopened == nil || p.lc.reopened.CauseEventID != cause || p.lc.withdrawn != nil {
			return nil, nil
		}
	default:
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "reason", Description: "must be WITHDRAWN or REOPENED"})
	}
	var steps []StepKind
	for _, s := range p.steps {
		if s.Status == StatusStopped {
			steps = append(steps, s.Kind)
		}
	}
	return []Event{StepsStopped{Reason: reason, CauseEventID: cause, Steps: steps, At: at}}, nil
}

// stopBlocker is the gate's answer while the steps are stopped.
func (p *Plan) stopBlocker() (Blocker, bool) {
	switch why, ok := p.stopped(); {
	case !ok:
		return Blocker{}, false
	case why == StopWithdrawn:
		return Blocker{Clause: policy.Clause2_1, Explanation: "the authority withdrew the request on " + day(p.lc.withdrawn.At) +
			": no legal obligation to disclose remains, so nothing is disclosed"}, true
	default:
		return Blocker{Clause: policy.Clause2_1, Explanation: "the case went back to review on " + day(p.lc.reopened.At) +
			": the decision no longer stands, and disclosure waits for a new decision (four eyes)"}, true
	}
}

// supersededDecision reports whether id is a decision a reopening took out
// of force: it may never derive a plan again.
func (p *Plan) supersededDecision(id string) bool { return slices.Contains(p.lc.reopenedFrom, id) }

// objectionFollows returns DpaObjected when confirming lift id makes the
// lead DPA's objection count (4.2.1).
func (p *Plan) objectionFollows(id string, at time.Time) []Event {
	c := p.consultationByLift(id)
	if c.Authority != p.cfg.LeadDPA || c.Outcome != ConsultationObjection {
		return nil
	}
	for _, o := range p.lc.objections {
		if o.DecisionID == p.req.DecisionID {
			return nil
		}
	}
	return []Event{DpaObjected{DecisionID: p.req.DecisionID, DPA: c.Authority, At: at}}
}

// refuseStopped refuses a command that would move a stopped step.
func (p *Plan) refuseStopped() error {
	if b, ok := p.stopBlocker(); ok {
		return ddrerr.Policy(b.Clause, "STEPS_STOPPED", b.Explanation)
	}
	return nil
}

// OverdueCount is how many owed notices are past their due time and
// undelivered at now, recorded overdue or not yet.
func (p *Plan) OverdueCount(now time.Time) int {
	n := 0
	for _, v := range p.ledger().All() {
		if (v.Status == deadline.Overdue || v.Status == deadline.Pending) && !now.Before(v.Due.At) {
			n++
		}
	}
	return n
}
