package app

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// Enum prefixes of the proto enums whose value names are the domain's
// spellings in upper case (REDIRECT_OUTCOME_NOT_POSSIBLE is "not_possible").
const (
	prefixDecision     = "DECISION_KIND_"
	prefixStep         = "STEP_KIND_"
	prefixStatus       = "STEP_STATUS_"
	prefixRedirect     = "REDIRECT_OUTCOME_"
	prefixChannel      = "DELIVERY_CHANNEL_"
	prefixConsultation = "CONSULTATION_OUTCOME_"
	prefixEffort       = "WAIVER_EFFORT_KIND_"
	prefixWaiver       = "WAIVER_OUTCOME_"
	prefixLift         = "HOLD_LIFT_BASIS_"
)

func stepKindFromProto(k notificationv1.StepKind) domain.StepKind {
	return domain.StepKind(strings.ToUpper(protoconv.EnumName(k, prefixStep)))
}

func stepKindToProto(k domain.StepKind) notificationv1.StepKind {
	return protoconv.EnumValue[notificationv1.StepKind](string(k), prefixStep)
}

// RedirectOutcomeFromProto maps the wire value to the domain's.
func RedirectOutcomeFromProto(o notificationv1.RedirectOutcome) domain.RedirectOutcome {
	return domain.RedirectOutcome(protoconv.EnumName(o, prefixRedirect))
}

// ConsultationOutcomeFromProto maps the wire value to the domain's.
func ConsultationOutcomeFromProto(o notificationv1.ConsultationOutcome) domain.ConsultationOutcome {
	return domain.ConsultationOutcome(protoconv.EnumName(o, prefixConsultation))
}

// WaiverEffortKindFromProto maps the wire value to the domain's.
func WaiverEffortKindFromProto(k notificationv1.WaiverEffortKind) domain.WaiverEffortKind {
	return domain.WaiverEffortKind(protoconv.EnumName(k, prefixEffort))
}

// WaiverOutcomeFromProto maps the wire value to the domain's.
func WaiverOutcomeFromProto(o notificationv1.WaiverOutcome) domain.WaiverOutcome {
	return domain.WaiverOutcome(protoconv.EnumName(o, prefixWaiver))
}

// StepKindFromProto maps the wire value to the domain's.
func StepKindFromProto(k notificationv1.StepKind) domain.StepKind { return stepKindFromProto(k) }

// requirementsFromDecision maps assessment's decision onto what the domain
// plans from. Adequacy is not copied from assessment's country_adequate:
// notification judges it again with the same function
// (policy.AdequacyRegistry.JudgeAuthority, on the received date, with the
// process's registry) and records the finding, with its reason and date, in
// PlanDerived; that finding governs the hold (see package policy).
func requirementsFromDecision(requestID string, d *assessmentv1.AssessmentDecided) domain.Requirements {
	r := d.GetRequirements()
	dec := d.GetDecision()
	req := domain.Requirements{
		RequestID:        requestID,
		DecisionID:       dec.GetDecisionId(),
		Decision:         domain.DecisionKind(protoconv.EnumName(dec.GetKind(), prefixDecision)),
		Customer:         domain.Customer{Controller: r.GetCustomerIsController(), ID: r.GetCustomerId()},
		AuthorityCountry: r.GetAuthorityCountry(),
		ReceivedAt:       protoconv.Time(r.GetReceiveTime()),
	}
	if p := r.GetProhibition(); p.GetPresent() {
		ref := strings.TrimSpace(p.GetReference())
		if ref == "" {
			// Intake does not demand a reference; the gag still binds, and
			// the plan must not stall for want of a label.
			ref = "non-disclosure order (no reference given at intake)"
		}
		req.Prohibition = domain.Prohibition{Present: true, Reference: ref, ExpiresAt: protoconv.Time(p.GetExpiresAt())}
	}
	if r.GetImminentRisk() {
		basis := "the assessment found an imminent risk of serious harm (decision " + dec.GetDecisionId() + ")"
		if dec.GetLegalBasis() == assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM {
			basis = "decision " + dec.GetDecisionId() + " discloses on the basis of an imminent risk of serious harm (2.1)"
		}
		req.ImminentRisk = domain.ImminentRisk{Present: true, Basis: basis}
	}
	if np := r.GetCustomerNoticePeriod(); np != nil {
		req.CustomerNoticePeriod = np.AsDuration()
	}
	return req
}

func inputsToProto(e domain.PlanDerived) *notificationv1.PlanInputs {
	r := e.Requirements
	out := &notificationv1.PlanInputs{
		DecisionId:            r.DecisionID,
		Decision:              protoconv.EnumValue[assessmentv1.DecisionKind](string(r.Decision), prefixDecision),
		CustomerIsController:  r.Customer.Controller,
		CustomerId:            r.Customer.ID,
		Prohibited:            r.Prohibition.Present,
		ProhibitionReference:  r.Prohibition.Reference,
		ProhibitionExpireTime: protoconv.Timestamp(r.Prohibition.ExpiresAt),
		ImminentRisk:          r.ImminentRisk.Present,
		ImminentRiskBasis:     r.ImminentRisk.Basis,
		AuthorityCountry:      r.AuthorityCountry,
		ReceiveTime:           protoconv.Timestamp(r.ReceivedAt),
		Adequacy: &notificationv1.Adequacy{
			Country:      string(e.Adequacy.Country),
			EvaluateTime: protoconv.Timestamp(e.Adequacy.At),
			Recipient:    string(e.Adequacy.Recipient),
			Adequate:     e.Adequacy.Adequate,
			Reason:       e.Adequacy.Reason,
		},
		LeadDpa:   e.Config.LeadDPA,
		OtherDpas: e.Config.OtherDPAs,
	}
	if r.CustomerNoticePeriod != 0 {
		out.CustomerNoticePeriod = durationpb.New(r.CustomerNoticePeriod)
	}
	return out
}

func inputsFromProto(requestID string, in *notificationv1.PlanInputs, at time.Time) domain.PlanDerived {
	a := in.GetAdequacy()
	return domain.PlanDerived{
		RequestID: requestID,
		Requirements: domain.Requirements{
			RequestID:        requestID,
			DecisionID:       in.GetDecisionId(),
			Decision:         domain.DecisionKind(protoconv.EnumName(in.GetDecision(), prefixDecision)),
			Customer:         domain.Customer{Controller: in.GetCustomerIsController(), ID: in.GetCustomerId()},
			Prohibition:      domain.Prohibition{Present: in.GetProhibited(), Reference: in.GetProhibitionReference(), ExpiresAt: protoconv.Time(in.GetProhibitionExpireTime())},
			ImminentRisk:     domain.ImminentRisk{Present: in.GetImminentRisk(), Basis: in.GetImminentRiskBasis()},
			AuthorityCountry: in.GetAuthorityCountry(),
			ReceivedAt:       protoconv.Time(in.GetReceiveTime()),
			CustomerNoticePeriod: func() time.Duration {
				if in.GetCustomerNoticePeriod() == nil {
					return 0
				}
				return in.GetCustomerNoticePeriod().AsDuration()
			}(),
		},
		Adequacy: policy.Adequacy{
			// Plans derived before the one spelling recorded UNKNOWN.
			Country:   policy.ParseCountry(a.GetCountry()),
			At:        protoconv.Time(a.GetEvaluateTime()),
			Recipient: policy.Recipient(a.GetRecipient()),
			Adequate:  a.GetAdequate(),
			Reason:    a.GetReason(),
		},
		Config: domain.Config{LeadDPA: in.GetLeadDpa(), OtherDPAs: in.GetOtherDpas()},
		At:     at,
	}
}

func redirectToProto(r domain.RedirectRecord) *notificationv1.RedirectRecord {
	return &notificationv1.RedirectRecord{
		Outcome:    protoconv.EnumValue[notificationv1.RedirectOutcome](string(r.Outcome), prefixRedirect),
		Support:    r.Support,
		RecordedBy: r.By,
		RecordTime: protoconv.Timestamp(r.At),
	}
}

func redirectFromProto(r *notificationv1.RedirectRecord) domain.RedirectRecord {
	return domain.RedirectRecord{Outcome: RedirectOutcomeFromProto(r.GetOutcome()), Support: r.GetSupport(), By: r.GetRecordedBy(), At: protoconv.Time(r.GetRecordTime())}
}

func deliveryToProto(d domain.Delivery) *notificationv1.Delivery {
	return &notificationv1.Delivery{
		Step:          stepKindToProto(d.Step),
		Recipient:     d.Recipient,
		Channel:       protoconv.EnumValue[notificationv1.DeliveryChannel](string(d.Channel), prefixChannel),
		DeliveryId:    d.DeliveryID,
		Receipt:       d.Receipt,
		DeliveryTime:  protoconv.Timestamp(d.At),
		Failed:        d.Failed,
		FailureReason: d.Reason,
	}
}

func deliveryFromProto(d *notificationv1.Delivery) domain.Delivery {
	return domain.Delivery{
		Step:       stepKindFromProto(d.GetStep()),
		Recipient:  d.GetRecipient(),
		Channel:    domain.Channel(protoconv.EnumName(d.GetChannel(), prefixChannel)),
		DeliveryID: d.GetDeliveryId(),
		Receipt:    d.GetReceipt(),
		At:         protoconv.Time(d.GetDeliveryTime()),
		Failed:     d.GetFailed(),
		Reason:     d.GetFailureReason(),
	}
}

func exemptionToProto(e domain.Exemption) *notificationv1.Exemption {
	return &notificationv1.Exemption{Step: stepKindToProto(e.Step), Reason: string(e.Reason), Basis: e.Basis, RecordedBy: e.By, RecordTime: protoconv.Timestamp(e.At)}
}

func exemptionFromProto(e *notificationv1.Exemption) domain.Exemption {
	return domain.Exemption{Step: stepKindFromProto(e.GetStep()), Reason: domain.SkipReason(e.GetReason()), Basis: e.GetBasis(), By: e.GetRecordedBy(), At: protoconv.Time(e.GetRecordTime())}
}

func consultationToProto(c domain.Consultation) *notificationv1.DpaConsultation {
	return &notificationv1.DpaConsultation{
		Authority:  c.Authority,
		Outcome:    protoconv.EnumValue[notificationv1.ConsultationOutcome](string(c.Outcome), prefixConsultation),
		Summary:    c.Summary,
		RecordedBy: c.By,
		RecordTime: protoconv.Timestamp(c.At),
	}
}

func consultationFromProto(c *notificationv1.DpaConsultation) domain.Consultation {
	return domain.Consultation{Authority: c.GetAuthority(), Outcome: ConsultationOutcomeFromProto(c.GetOutcome()), Summary: c.GetSummary(), By: c.GetRecordedBy(), At: protoconv.Time(c.GetRecordTime())}
}

func effortToProto(e domain.WaiverEffort, recordedBy string) *notificationv1.WaiverEffort {
	return &notificationv1.WaiverEffort{
		Kind:       protoconv.EnumValue[notificationv1.WaiverEffortKind](string(e.Kind), prefixEffort),
		Outcome:    protoconv.EnumValue[notificationv1.WaiverOutcome](string(e.Outcome), prefixWaiver),
		Person:     e.Person,
		EffortTime: protoconv.Timestamp(e.At),
		Notes:      e.Notes,
		RecordedBy: recordedBy,
	}
}

func effortFromProto(e *notificationv1.WaiverEffort) domain.WaiverEffort {
	return domain.WaiverEffort{Kind: WaiverEffortKindFromProto(e.GetKind()), Outcome: WaiverOutcomeFromProto(e.GetOutcome()), Person: e.GetPerson(), At: protoconv.Time(e.GetEffortTime()), Notes: e.GetNotes()}
}

// encoder turns the domain events a command decided into stream events. It
// folds each into p as it goes, so PlanDerived can carry the plan as
// derived and later events see the plan they follow.
type encoder struct {
	requestID string
	trigger   string // id the event ids derive from
	actor     string
	at        time.Time
	p         *domain.Plan
}

func (c encoder) encode(evs []domain.Event) ([]eventstore.Event, error) {
	var out []eventstore.Event
	add := func(payload proto.Message) {
		// The id derives from the event's declared subject ("notification.
		// plan_derived"), as it did when the names were typed here.
		k, _ := eventstore.KindOfMessage(payload)
		out = append(out, eventstore.Event{
			ID:        eventstore.DerivedID(c.trigger, k.Service+"."+k.Name),
			RequestID: c.requestID,
			Time:      c.at,
			Actor:     c.actor,
			Payload:   payload,
		})
	}
	id := c.requestID
	for _, e := range evs {
		if err := c.p.Apply(e); err != nil {
			return nil, err
		}
		switch e := e.(type) {
		case domain.PlanDerived:
			add(&notificationv1.PlanDerived{RequestId: id, Plan: PlanView(c.p, c.at), Inputs: inputsToProto(e), DeriveTime: protoconv.Timestamp(e.At)})
		case domain.HoldPlaced:
			add(&notificationv1.HoldPlaced{RequestId: id, Clause: policy.Clause4_2_1.Number(), Reason: c.p.Adequacy().Reason, HoldTime: protoconv.Timestamp(e.At)})
		case domain.HoldLifted:
			add(&notificationv1.HoldLifted{RequestId: id,
				Basis:    protoconv.EnumValue[notificationv1.HoldLiftBasis](string(e.Basis), prefixLift),
				LiftedBy: e.By, LiftTime: protoconv.Timestamp(e.At)})
		case domain.RedirectOutcomeRecorded:
			add(&notificationv1.RedirectOutcomeRecorded{RequestId: id, Redirect: redirectToProto(e.RedirectRecord)})
			if e.Outcome == domain.RedirectAgreed {
				add(&notificationv1.RequestRedirected{RequestId: id, SupportGiven: e.Support, RedirectTime: protoconv.Timestamp(e.At)})
			}
		case domain.NoticeDelivered:
			add(&notificationv1.NoticeDelivered{RequestId: id, Delivery: deliveryToProto(e.Delivery)})
		case domain.NoticeDeliveryFailed:
			n, _ := c.p.FailedAttempts(e.DeliveryID)
			add(&notificationv1.NoticeFailed{RequestId: id, Delivery: deliveryToProto(e.Delivery), Attempt: int32(n)})
		case domain.ExemptionRecorded:
			add(&notificationv1.ExemptionRecorded{RequestId: id, Exemption: exemptionToProto(e.Exemption)})
		case domain.DPAConsultationRecorded:
			add(&notificationv1.DpaConsulted{RequestId: id, Consultation: consultationToProto(e.Consultation)})
		case domain.WaiverEffortRecorded:
			add(&notificationv1.WaiverEffortRecorded{RequestId: id, Effort: effortToProto(e.WaiverEffort, c.actor)})
		case domain.RequestCleared:
			add(&notificationv1.RequestCleared{RequestId: id, DecisionId: c.p.Requirements().DecisionID, ClearTime: protoconv.Timestamp(e.At)})
		default:
			return nil, fmt.Errorf("notification: no proto event for %T", e)
		}
	}
	return out, nil
}

// decodeEvent maps one of notification's stream events to the domain. ok
// is false for events the fold does not need (RequestRedirected repeats
// what RedirectOutcomeRecorded says).
func decodeEvent(ev eventstore.Event) (domain.Event, bool, error) {
	switch m := ev.Payload.(type) {
	case *notificationv1.PlanDerived:
		if m.GetInputs() == nil {
			return nil, false, fmt.Errorf("notification: plan_derived at sequence %d has no inputs", ev.Sequence)
		}
		return inputsFromProto(ev.RequestID, m.GetInputs(), protoconv.Time(m.GetDeriveTime())), true, nil
	case *notificationv1.HoldPlaced:
		return domain.HoldPlaced{At: protoconv.Time(m.GetHoldTime())}, true, nil
	case *notificationv1.HoldLifted:
		return domain.HoldLifted{At: protoconv.Time(m.GetLiftTime()), Basis: domain.HoldLiftBasis(protoconv.EnumName(m.GetBasis(), prefixLift)), By: m.GetLiftedBy()}, true, nil
	case *notificationv1.RedirectOutcomeRecorded:
		return domain.RedirectOutcomeRecorded{RedirectRecord: redirectFromProto(m.GetRedirect())}, true, nil
	case *notificationv1.NoticeDelivered:
		return domain.NoticeDelivered{Delivery: deliveryFromProto(m.GetDelivery())}, true, nil
	case *notificationv1.NoticeFailed:
		return domain.NoticeDeliveryFailed{Delivery: deliveryFromProto(m.GetDelivery())}, true, nil
	case *notificationv1.ExemptionRecorded:
		return domain.ExemptionRecorded{Exemption: exemptionFromProto(m.GetExemption())}, true, nil
	case *notificationv1.DpaConsulted:
		return domain.DPAConsultationRecorded{Consultation: consultationFromProto(m.GetConsultation())}, true, nil
	case *notificationv1.WaiverEffortRecorded:
		return domain.WaiverEffortRecorded{WaiverEffort: effortFromProto(m.GetEffort())}, true, nil
	case *notificationv1.RequestCleared:
		return domain.RequestCleared{At: protoconv.Time(m.GetClearTime())}, true, nil
	}
	return nil, false, nil
}

// PlanView renders a plan for callers, with what blocks it at now.
func PlanView(p *domain.Plan, now time.Time) *notificationv1.Plan {
	out := &notificationv1.Plan{
		RequestId:  p.RequestID(),
		DecisionId: p.Requirements().DecisionID,
		DeriveTime: protoconv.Timestamp(p.DerivedAt()),
		ClearTime:  protoconv.Timestamp(p.ClearedAt()),
		Inputs:     inputsToProto(domain.PlanDerived{Requirements: p.Requirements(), Adequacy: p.Adequacy(), Config: p.Config()}),
	}
	h := p.Hold()
	out.HoldTime, out.HoldLiftTime = protoconv.Timestamp(h.PlacedAt), protoconv.Timestamp(h.LiftedAt)
	switch p.Outcome() {
	case domain.OutcomeRedirected:
		out.Status = notificationv1.PlanStatus_PLAN_STATUS_REDIRECTED
	case domain.OutcomeNoDisclosure:
		out.Status = notificationv1.PlanStatus_PLAN_STATUS_NOT_APPLICABLE
	case domain.OutcomeCleared:
		out.Status = notificationv1.PlanStatus_PLAN_STATUS_CLEARED
	default:
		out.Status = notificationv1.PlanStatus_PLAN_STATUS_OPEN
		if h.Open() {
			out.Status = notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD
		}
	}
	for _, s := range p.Steps() {
		out.Steps = append(out.Steps, &notificationv1.Step{
			StepId:     s.ID,
			Kind:       stepKindToProto(s.Kind),
			Clause:     s.Clause.Number(),
			Status:     protoconv.EnumValue[notificationv1.StepStatus](string(s.Status), prefixStatus),
			SkipReason: string(s.SkipReason),
			DueTime:    protoconv.Timestamp(s.ScheduledFor),
			Detail:     s.Basis,
		})
	}
	for _, b := range domain.Blockers(p, now) {
		out.Blockers = append(out.Blockers, &notificationv1.Blocker{StepId: string(b.Step), Clause: b.Clause.Number(), Explanation: b.Explanation})
	}
	for _, f := range p.Flags() {
		out.Flags = append(out.Flags, &notificationv1.PlanFlag{Code: f.Code, Clause: f.Clause.Number(), Explanation: f.Explanation})
	}
	if r, ok := p.Redirect(); ok {
		out.Redirect = redirectToProto(r)
	}
	for _, d := range p.Deliveries() {
		out.Deliveries = append(out.Deliveries, deliveryToProto(d))
	}
	for _, e := range p.Exemptions() {
		out.Exemptions = append(out.Exemptions, exemptionToProto(e))
	}
	for _, c := range p.Consultations() {
		out.Consultations = append(out.Consultations, consultationToProto(c))
	}
	for _, e := range p.WaiverEfforts() {
		out.WaiverEfforts = append(out.WaiverEfforts, effortToProto(e, ""))
	}
	return out
}
