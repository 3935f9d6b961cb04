package domain

import (
	"fmt"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Event is a fact about a request's notification plan. The app layer maps
// each to its protobuf message; the fold of a request's events through
// [Plan.Apply] is the plan.
type Event interface {
	EventName() string
}

// RedirectOutcome is the authority's answer to being asked to go to the
// customer (4.1.1).
type RedirectOutcome string

const (
	RedirectAgreed          RedirectOutcome = "agreed"
	RedirectDeclined        RedirectOutcome = "declined"
	RedirectNotPossible     RedirectOutcome = "not_possible"     // e.g. the law forbids telling the customer
	RedirectIdentityUnknown RedirectOutcome = "identity_unknown" // the authority does not know who the customer is
)

// Channel is how a notice went out.
type Channel string

const (
	ChannelEmail   Channel = "email"
	ChannelWebhook Channel = "webhook"
)

// ConsultationOutcome is a DPA's answer to a consultation (4.2.1).
type ConsultationOutcome string

const (
	ConsultationNoObjection ConsultationOutcome = "no_objection"
	ConsultationObjection   ConsultationOutcome = "objection"
	ConsultationGuidance    ConsultationOutcome = "guidance"    // advice or conditions given
	ConsultationNoResponse  ConsultationOutcome = "no_response" // the consultation period ran out
)

// HoldLiftBasis is what allowed a hold to lift.
type HoldLiftBasis string

const (
	LiftOnConsultation HoldLiftBasis = "consultation"
	LiftOnExemption    HoldLiftBasis = "exemption"
)

// WaiverEffortKind is one of the 4.2.2 efforts.
type WaiverEffortKind string

const (
	EffortInformObligations      WaiverEffortKind = "inform_obligations"       // tell the authority of the company's data protection obligations
	EffortAskToHold              WaiverEffortKind = "ask_to_hold"              // ask it to put the request on hold so the DPAs can be consulted
	EffortAllowCustomerPersonnel WaiverEffortKind = "allow_customer_personnel" // ask it to allow disclosure to named customer personnel
	EffortSeekCourtOrder         WaiverEffortKind = "seek_court_order"         // counsel seeks a court order lifting the prohibition
)

// WaiverOutcome is how an effort ended.
type WaiverOutcome string

const (
	WaiverInformed   WaiverOutcome = "informed"
	WaiverGranted    WaiverOutcome = "granted"
	WaiverDeclined   WaiverOutcome = "declined"
	WaiverNoResponse WaiverOutcome = "no_response"
	WaiverPending    WaiverOutcome = "pending" // made, no answer yet: does not complete the record
)

// RedirectRecord is the recorded answer to the redirect request.
type RedirectRecord struct {
	Outcome RedirectOutcome
	Support string // agreed: the support given to the customer under its contract
	By      string
	At      time.Time
	// CustomerRef is the customer the answer is for ("c1", ...); empty on
	// answers recorded for the one customer. Customer is its id, resolved
	// when folded (customers.go); never on the wire.
	CustomerRef string
	Customer    string
}

// Delivery is one delivery, or one failed attempt, of a notice or a DPA
// consultation packet.
type Delivery struct {
	Step       StepKind
	Recipient  string // a customer contact or DPA, never a target of the request
	Channel    Channel
	DeliveryID string // see [DeliveryID]
	Receipt    string // SMTP queue id, webhook response id
	At         time.Time
	Failed     bool
	Reason     string // why it failed; no personal data
	// CustomerRef: for a customer notice, the customer ("c1", ...); empty
	// with one customer. Customer is its id, resolved when folded.
	CustomerRef string
	Customer    string
	// End: for an outcome notice (NOTIFY_DPA_OUTCOME), the end it told.
	End policy.Outcome
}

// Exemption records that a notice is not given, and on what basis. It
// lifts nothing until its lift (LiftID) is confirmed by a second person.
type Exemption struct {
	Step   StepKind
	Reason SkipReason // SkipProhibited or SkipImminentRisk
	Basis  string
	By     string
	At     time.Time
	// LiftID names the two-person lift; empty on a legacy ExemptionRecorded,
	// which therefore never counts as confirmed.
	LiftID string
	// Evidence is the gag order's reference, the statute, or the record of
	// the imminent-risk finding.
	Evidence string
	// Statute: a prohibition the law itself imposes, cited by legal, when no
	// gag order is recorded.
	Statute string
	// WhyNoticeDefeats: for imminent risk, why prior notice would defeat
	// the purpose (4.1.2 "that prohibits prior notification").
	WhyNoticeDefeats string
	// CustomerRef: for a customer notice, the one customer's notice it
	// exempts ("c1", ...); empty: every customer's. Customer is its id,
	// resolved when folded.
	CustomerRef string
	Customer    string
}

// Consultation is a DPA's recorded answer. It counts only once its lift is
// confirmed by a second person.
type Consultation struct {
	Authority string
	Outcome   ConsultationOutcome
	Summary   string
	By        string
	At        time.Time
	// ReplyReference and ReplyDate identify the DPA's reply; empty for
	// no_response, which instead needs the consultation period to have run.
	ReplyReference string
	ReplyDate      time.Time
	// LiftID names the two-person lift; empty on a legacy record.
	LiftID string
}

// DispatchMeans is how a DPA packet went out when not by e-mail or webhook.
type DispatchMeans string

// Manual means of dispatch.
const (
	DispatchPortal DispatchMeans = "portal"
	DispatchPost   DispatchMeans = "post"
)

// ManualDispatch is a DPA packet sent by hand (a portal upload, registered
// post), with its reference. It counts as sent only once confirmed.
type ManualDispatch struct {
	Authority string
	Means     DispatchMeans
	Reference string // portal receipt, postal tracking number
	SentAt    time.Time
	LiftID    string
	// Step is what went out: empty or NOTIFY_DPA, the packet (2.2);
	// NOTIFY_DPA_OUTCOME, the notice of how the request ended (5.1), End.
	Step StepKind
	End  policy.Outcome
}

// packet reports whether the dispatch sent the packet (not an outcome
// notice).
func (m ManualDispatch) packet() bool { return m.Step == "" || m.Step == StepNotifyDPA }

// Hold is the 4.2.1 hold: no disclosure while it stands.
type Hold struct {
	PlacedAt  time.Time
	LiftedAt  time.Time
	LiftBasis HoldLiftBasis
	LiftedBy  string
}

// Open reports whether the hold stands.
func (h Hold) Open() bool { return !h.PlacedAt.IsZero() && h.LiftedAt.IsZero() }

func (h Hold) lifted() bool { return !h.LiftedAt.IsZero() }

// Age is how long an open hold has stood at now; zero if not open.
func (h Hold) Age(now time.Time) time.Duration {
	if !h.Open() {
		return 0
	}
	return now.Sub(h.PlacedAt)
}

// WaiverEffort is one entry in the 4.2.2 written record.
type WaiverEffort struct {
	Kind    WaiverEffortKind
	Outcome WaiverOutcome
	Person  string // who made the effort
	At      time.Time
	Notes   string
}

// PlanDerived: a decision was turned into a plan. It carries the inputs and
// the adequacy finding, so the fold never depends on today's registry. A
// later decision on the same request derives again; recorded facts stand.
type PlanDerived struct {
	RequestID    string
	Requirements Requirements
	Adequacy     policy.Adequacy
	Config       Config
	// Authorities is the competent authorities found for the request
	// ([CompetentAuthorities]); empty on legacy events, which compute it.
	Authorities []string
	At          time.Time
}

// HoldPlaced: the request went on hold (4.2.1).
type HoldPlaced struct{ At time.Time }

// RedirectOutcomeRecorded: the authority answered the redirect request (4.1.1).
type RedirectOutcomeRecorded struct{ RedirectRecord }

// NoticeDelivered: a notice or packet reached its recipient.
type NoticeDelivered struct{ Delivery }

// NoticeDeliveryFailed: a delivery gave up for now; it will be retried.
type NoticeDeliveryFailed struct{ Delivery }

// ExemptionRecorded: a notice is not given, on a recorded basis.
type ExemptionRecorded struct{ Exemption }

// DPAConsultationRecorded: a DPA answered the consultation (4.2.1).
type DPAConsultationRecorded struct{ Consultation }

// HoldLifted: the hold was lifted on a consultation outcome or an exemption.
type HoldLifted struct {
	At    time.Time
	Basis HoldLiftBasis
	By    string
}

// ExemptionProposed: one person recorded an exemption; it lifts nothing
// until confirmed (LiftConfirmed).
type ExemptionProposed struct {
	Exemption Exemption
	Lift      policy.Lift
}

// ConsultationOutcomeProposed: one person recorded a DPA's outcome (or "no
// reply" after the period); it counts once confirmed.
type ConsultationOutcomeProposed struct {
	Consultation Consultation
	Lift         policy.Lift
}

// ManualDispatchProposed: one person recorded a packet sent by hand; it
// counts as sent once confirmed.
type ManualDispatchProposed struct {
	Dispatch ManualDispatch
	Lift     policy.Lift
}

// WeakeningProposed: one person proposed that a step once owed is no longer
// owed because the facts changed (a correction, an amendment, a
// configuration); the step stays owed until confirmed (rule 11).
type WeakeningProposed struct {
	Step StepKind
	Lift policy.Lift
}

// LiftConfirmed: a second person confirmed a lift; only now does it take
// effect.
type LiftConfirmed struct {
	LiftID string
	By     policy.Person
	At     time.Time
}

// AdequacyLost: judged again (at clearance or at the disclosure date), the
// authority's country is no longer adequate. The plan is re-made with the
// new finding (a hold is owed) and any clearance no longer stands.
type AdequacyLost struct {
	Adequacy policy.Adequacy
	At       time.Time
}

// WaiverEffortRecorded: an entry in the 4.2.2 written record.
type WaiverEffortRecorded struct{ WaiverEffort }

// RequestCleared: nothing blocks disclosure any more.
type RequestCleared struct{ At time.Time }

func (PlanDerived) EventName() string             { return "PlanDerived" }
func (HoldPlaced) EventName() string              { return "HoldPlaced" }
func (RedirectOutcomeRecorded) EventName() string { return "RedirectOutcomeRecorded" }
func (NoticeDelivered) EventName() string         { return "NoticeDelivered" }
func (NoticeDeliveryFailed) EventName() string    { return "NoticeDeliveryFailed" }
func (ExemptionRecorded) EventName() string       { return "ExemptionRecorded" }
func (DPAConsultationRecorded) EventName() string { return "DPAConsultationRecorded" }
func (HoldLifted) EventName() string              { return "HoldLifted" }
func (WaiverEffortRecorded) EventName() string    { return "WaiverEffortRecorded" }
func (RequestCleared) EventName() string          { return "RequestCleared" }
func (ExemptionProposed) EventName() string       { return "ExemptionProposed" }
func (ConsultationOutcomeProposed) EventName() string {
	return "ConsultationOutcomeProposed"
}
func (ManualDispatchProposed) EventName() string { return "ManualDispatchProposed" }
func (WeakeningProposed) EventName() string      { return "WeakeningProposed" }
func (LiftConfirmed) EventName() string          { return "LiftConfirmed" }
func (AdequacyLost) EventName() string           { return "AdequacyLost" }

// Fold builds a plan from a request's events, oldest first.
func Fold(events []Event) (*Plan, error) {
	p := &Plan{}
	for _, e := range events {
		if err := p.Apply(e); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Apply changes the plan by one event. Events are facts already decided, so
// Apply does not judge them; it refuses only what cannot be folded: an
// unknown event, or any event before the plan exists.
func (p *Plan) Apply(e Event) error {
	if _, ok := e.(PlanDerived); !ok && !p.derived && !beforeDerive(e) {
		return fmt.Errorf("notification: %s before PlanDerived", e.EventName())
	}
	if !p.apply(e) {
		return fmt.Errorf("notification: unknown event %T", e)
	}
	return nil
}

func (p *Plan) apply(e Event) bool {
	switch e := e.(type) {
	case PlanDerived:
		p.derived = true
		p.requestID = e.RequestID
		p.req = e.Requirements
		p.adequacy = e.Adequacy
		p.cfg = e.Config
		p.authorities = e.Authorities
		if len(p.authorities) == 0 {
			p.authorities = CompetentAuthorities(e.Requirements, e.Config)
		}
		p.derivedAt = e.At
		// A new decision needs its own clearance.
		p.clearedAt = time.Time{}
		// A new decision ends the wait the reopening began; the
		// superseded one never does (lifecycle.go).
		if p.lc.reopened != nil && !p.supersededDecision(e.Requirements.DecisionID) {
			p.lc.reopened = nil
		}
	case HoldPlaced:
		p.hold = Hold{PlacedAt: e.At}
	case RedirectOutcomeRecorded:
		r := e.RedirectRecord
		if r.Customer == "" {
			r.Customer = p.customerIDByRef(r.CustomerRef)
		}
		p.redirects = append(p.redirects, r)
	case NoticeDelivered:
		p.deliveries = append(p.deliveries, p.resolveDelivery(e.Delivery))
	case NoticeDeliveryFailed:
		d := p.resolveDelivery(e.Delivery)
		d.Failed = true
		p.deliveries = append(p.deliveries, d)
	case ExemptionRecorded:
		// Legacy: recorded by one person. Kept in the record, never in
		// effect: it has no lift a second person confirmed.
		x := p.resolveExemption(e.Exemption)
		x.LiftID = ""
		p.exemptions = append(p.exemptions, x)
	case DPAConsultationRecorded:
		c := e.Consultation
		c.LiftID = ""
		p.consultations = append(p.consultations, c)
	case ExemptionProposed:
		p.exemptions = append(p.exemptions, p.resolveExemption(e.Exemption))
		p.lifts = append(p.lifts, e.Lift)
	case ConsultationOutcomeProposed:
		p.consultations = append(p.consultations, e.Consultation)
		p.lifts = append(p.lifts, e.Lift)
	case ManualDispatchProposed:
		p.dispatches = append(p.dispatches, e.Dispatch)
		p.lifts = append(p.lifts, e.Lift)
	case WeakeningProposed:
		p.lifts = append(p.lifts, e.Lift)
	case LiftConfirmed:
		for i := range p.lifts {
			if p.lifts[i].ID == e.LiftID && !p.lifts[i].Confirmed() {
				p.lifts[i].ConfirmedBy, p.lifts[i].ConfirmedAt = e.By.ID, e.At
			}
		}
	case AdequacyLost:
		p.adequacy = e.Adequacy
		p.clearedAt = time.Time{}
	case HoldLifted:
		p.hold.LiftedAt, p.hold.LiftBasis, p.hold.LiftedBy = e.At, e.Basis, e.By
	case WaiverEffortRecorded:
		p.efforts = append(p.efforts, e.WaiverEffort)
	case RequestCleared:
		p.clearedAt = e.At
	default:
		if !p.applyLifecycle(e) {
			return false
		}
	}
	if p.derived {
		p.recompute()
	}
	return true
}
