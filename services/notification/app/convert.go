package app

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
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
	prefixMeans        = "DISPATCH_MEANS_"
	prefixStop         = "STOP_REASON_"
)

func stepKindFromProto(k notificationv1.StepKind) domain.StepKind {
	return domain.StepKind(strings.ToUpper(protoconv.EnumName(k, prefixStep)))
}

func stepKindToProto(k domain.StepKind) notificationv1.StepKind {
	return protoconv.EnumValue[notificationv1.StepKind](string(k), prefixStep)
}

// The decision is assessment's enum, recorded again in PlanDerived's inputs.
func decisionToProto(k policy.DecisionKind) assessmentv1.DecisionKind {
	return protoconv.EnumValue[assessmentv1.DecisionKind](string(k), prefixDecision)
}

func decisionFromProto(k assessmentv1.DecisionKind) policy.DecisionKind {
	return policy.DecisionKind(protoconv.EnumName(k, prefixDecision))
}

func liftBasisToProto(b domain.HoldLiftBasis) notificationv1.HoldLiftBasis {
	return protoconv.EnumValue[notificationv1.HoldLiftBasis](string(b), prefixLift)
}

func liftBasisFromProto(b notificationv1.HoldLiftBasis) domain.HoldLiftBasis {
	return domain.HoldLiftBasis(protoconv.EnumName(b, prefixLift))
}

// stepStatusToProto has no inverse: a step's status is derived by the
// domain, never read back from the wire.
func stepStatusToProto(s domain.StepStatus) notificationv1.StepStatus {
	return protoconv.EnumValue[notificationv1.StepStatus](string(s), prefixStatus)
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

// DispatchMeansFromProto maps the wire value to the domain's.
func DispatchMeansFromProto(m notificationv1.DispatchMeans) domain.DispatchMeans {
	return domain.DispatchMeans(protoconv.EnumName(m, prefixMeans))
}

// DecodeDecided reads assessment's decision event into what Derive plans
// from; the reactor (ports) calls it, so the app's command takes domain
// terms and this codec stays the one place events are read.
func DecodeDecided(ev eventstore.Event, d *assessmentv1.AssessmentDecided) Decided {
	return Decided{EventID: ev.ID, Sequence: ev.Sequence, Requirements: requirementsFromDecision(ev.RequestID, d)}
}

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
		Decision:         decisionFromProto(dec.GetKind()),
		Customer:         domain.Customer{Controller: r.GetCustomerIsController(), ID: r.GetCustomerId(), Establishment: r.GetCustomerEstablishment()},
		Customers:        customersFromProto(r.GetCustomers()),
		AuthorityCountry: r.GetAuthorityCountry(),
		ReceivedAt:       protoconv.Time(r.GetReceiveTime()),
		// The proposer may never confirm a safeguard lifted for the
		// decision. Decisions recorded before the field name it only as
		// decided_by, which is the proposer too.
		DecisionProposer: r.GetDecisionProposer(),
		ImminentRisk: domain.ImminentRisk{
			Claimed:       r.GetImminentRiskClaimed(),
			Justification: r.GetImminentRiskJustification(),
		},
	}
	if req.DecisionProposer == "" {
		req.DecisionProposer = dec.GetDecidedBy()
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
	// Several customers, each with its role (issue 16): the list is the
	// whole truth; the legacy fields describe the one customer of older
	// decisions only.
	if len(req.Customers) > 0 {
		req.Customer = req.Customers[0]
	}
	if r.GetImminentRisk() {
		basis := "the assessment found an imminent risk of serious harm (decision " + dec.GetDecisionId() + ")"
		if dec.GetLegalBasis() == assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM {
			basis = "decision " + dec.GetDecisionId() + " discloses on the basis of an imminent risk of serious harm (2.1)"
		}
		req.ImminentRisk.Present, req.ImminentRisk.Basis = true, basis
	}
	if np := r.GetCustomerNoticePeriod(); np != nil {
		req.CustomerNoticePeriod = np.AsDuration()
	}
	return req
}

func inputsToProto(e domain.PlanDerived) *notificationv1.PlanInputs {
	r := e.Requirements
	out := &notificationv1.PlanInputs{
		DecisionId:                r.DecisionID,
		Decision:                  decisionToProto(r.Decision),
		CustomerIsController:      r.Customer.Controller,
		CustomerId:                r.Customer.ID,
		CustomerEstablishment:     r.Customer.Establishment,
		Prohibited:                r.Prohibition.Present,
		ProhibitionReference:      r.Prohibition.Reference,
		ProhibitionExpireTime:     protoconv.Timestamp(r.Prohibition.ExpiresAt),
		ImminentRisk:              r.ImminentRisk.Present,
		ImminentRiskBasis:         r.ImminentRisk.Basis,
		AuthorityCountry:          r.AuthorityCountry,
		ReceiveTime:               protoconv.Timestamp(r.ReceivedAt),
		Adequacy:                  adequacyToProto(e.Adequacy),
		LeadDpa:                   e.Config.LeadDPA,
		OtherDpas:                 e.Config.OtherDPAs,
		ImminentRiskClaimed:       r.ImminentRisk.Claimed,
		ImminentRiskJustification: r.ImminentRisk.Justification,
		DecisionProposer:          r.DecisionProposer,
		Authorities:               e.Authorities,
		Customers:                 customersToProto(r.Customers),
	}
	if r.CustomerNoticePeriod != 0 {
		out.CustomerNoticePeriod = durationpb.New(r.CustomerNoticePeriod)
	}
	if e.Config.ConsultationPeriod != 0 {
		out.ConsultationPeriod = durationpb.New(e.Config.ConsultationPeriod)
	}
	if e.Config.NoticeWindow != 0 {
		out.NoticeWindow = durationpb.New(e.Config.NoticeWindow)
	}
	return out
}

func inputsFromProto(requestID string, in *notificationv1.PlanInputs, at time.Time) domain.PlanDerived {
	a := in.GetAdequacy()
	return domain.PlanDerived{
		RequestID: requestID,
		Requirements: domain.Requirements{
			RequestID:   requestID,
			DecisionID:  in.GetDecisionId(),
			Decision:    decisionFromProto(in.GetDecision()),
			Customer:    domain.Customer{Controller: in.GetCustomerIsController(), ID: in.GetCustomerId(), Establishment: in.GetCustomerEstablishment()},
			Customers:   customersFromProto(in.GetCustomers()),
			Prohibition: domain.Prohibition{Present: in.GetProhibited(), Reference: in.GetProhibitionReference(), ExpiresAt: protoconv.Time(in.GetProhibitionExpireTime())},
			ImminentRisk: domain.ImminentRisk{Present: in.GetImminentRisk(), Basis: in.GetImminentRiskBasis(),
				Claimed: in.GetImminentRiskClaimed(), Justification: in.GetImminentRiskJustification()},
			DecisionProposer:     in.GetDecisionProposer(),
			AuthorityCountry:     in.GetAuthorityCountry(),
			ReceivedAt:           protoconv.Time(in.GetReceiveTime()),
			CustomerNoticePeriod: duration(in.GetCustomerNoticePeriod()),
		},
		Adequacy: adequacyFromProto(a),
		Config: domain.Config{LeadDPA: in.GetLeadDpa(), OtherDPAs: in.GetOtherDpas(), ConsultationPeriod: duration(in.GetConsultationPeriod()),
			NoticeWindow: duration(in.GetNoticeWindow())},
		Authorities: in.GetAuthorities(),
		At:          at,
	}
}

// duration reads an optional duration: unset is zero.
func duration(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}

func adequacyToProto(a policy.Adequacy) *notificationv1.Adequacy {
	return &notificationv1.Adequacy{
		Country:      string(a.Country),
		EvaluateTime: protoconv.Timestamp(a.At),
		Recipient:    string(a.Recipient),
		Adequate:     a.Adequate,
		Reason:       a.Reason,
	}
}

func adequacyFromProto(a *notificationv1.Adequacy) policy.Adequacy {
	return policy.Adequacy{
		// Plans derived before the one spelling recorded UNKNOWN.
		Country:   policy.ParseCountry(a.GetCountry()),
		At:        protoconv.Time(a.GetEvaluateTime()),
		Recipient: policy.Recipient(a.GetRecipient()),
		Adequate:  a.GetAdequate(),
		Reason:    a.GetReason(),
	}
}

func redirectToProto(r domain.RedirectRecord) *notificationv1.RedirectRecord {
	return &notificationv1.RedirectRecord{
		Outcome:     protoconv.EnumValue[notificationv1.RedirectOutcome](string(r.Outcome), prefixRedirect),
		Support:     r.Support,
		RecordedBy:  r.By,
		RecordTime:  protoconv.Timestamp(r.At),
		CustomerRef: r.CustomerRef,
	}
}

func redirectFromProto(r *notificationv1.RedirectRecord) domain.RedirectRecord {
	return domain.RedirectRecord{Outcome: RedirectOutcomeFromProto(r.GetOutcome()), Support: r.GetSupport(), By: r.GetRecordedBy(), At: protoconv.Time(r.GetRecordTime()),
		CustomerRef: r.GetCustomerRef()}
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
		CustomerRef:   d.CustomerRef,
		Dpa:           deliveryDPA(d),
		RequestEnd:    string(d.End),
	}
}

// deliveryDPA names the authority of a DPA packet or outcome notice, in the
// unsealed field reporting reads for the DPA's remit; empty for a customer
// notice.
func deliveryDPA(d domain.Delivery) string {
	switch d.Step {
	case domain.StepNotifyDPA, domain.StepHoldAndConsultDPA, domain.StepNotifyDPAOutcome:
		return domain.PacketAuthority(d)
	}
	return ""
}

func deliveryFromProto(d *notificationv1.Delivery) domain.Delivery {
	return domain.Delivery{
		Step:        stepKindFromProto(d.GetStep()),
		Recipient:   d.GetRecipient(),
		Channel:     domain.Channel(protoconv.EnumName(d.GetChannel(), prefixChannel)),
		DeliveryID:  d.GetDeliveryId(),
		Receipt:     d.GetReceipt(),
		At:          protoconv.Time(d.GetDeliveryTime()),
		Failed:      d.GetFailed(),
		Reason:      d.GetFailureReason(),
		CustomerRef: d.GetCustomerRef(),
		End:         policy.Outcome(d.GetRequestEnd()),
	}
}

func exemptionToProto(e domain.Exemption) *notificationv1.Exemption {
	return &notificationv1.Exemption{Step: stepKindToProto(e.Step), Reason: string(e.Reason), Basis: e.Basis, RecordedBy: e.By, RecordTime: protoconv.Timestamp(e.At),
		LiftId: e.LiftID, EvidenceReference: e.Evidence, Statute: e.Statute, WhyNoticeDefeats: e.WhyNoticeDefeats, CustomerRef: e.CustomerRef}
}

func exemptionFromProto(e *notificationv1.Exemption) domain.Exemption {
	return domain.Exemption{Step: stepKindFromProto(e.GetStep()), Reason: domain.SkipReason(e.GetReason()), Basis: e.GetBasis(), By: e.GetRecordedBy(), At: protoconv.Time(e.GetRecordTime()),
		LiftID: e.GetLiftId(), Evidence: e.GetEvidenceReference(), Statute: e.GetStatute(), WhyNoticeDefeats: e.GetWhyNoticeDefeats(), CustomerRef: e.GetCustomerRef()}
}

func dispatchToProto(m domain.ManualDispatch) *notificationv1.ManualDispatch {
	out := &notificationv1.ManualDispatch{Authority: m.Authority, Means: protoconv.EnumValue[notificationv1.DispatchMeans](string(m.Means), prefixMeans),
		Reference: m.Reference, SentTime: protoconv.Timestamp(m.SentAt), LiftId: m.LiftID, RequestEnd: string(m.End)}
	if m.Step != "" {
		out.Step = stepKindToProto(m.Step)
	}
	return out
}

func dispatchFromProto(m *notificationv1.ManualDispatch) domain.ManualDispatch {
	return domain.ManualDispatch{Authority: m.GetAuthority(), Means: DispatchMeansFromProto(m.GetMeans()),
		Reference: m.GetReference(), SentAt: protoconv.Time(m.GetSentTime()), LiftID: m.GetLiftId(),
		Step: DispatchStepFromProto(m.GetStep()), End: policy.Outcome(m.GetRequestEnd())}
}

// DispatchStepFromProto maps what a manual dispatch sent; UNSPECIFIED (a
// dispatch of before issue 21) is the packet, as the empty step.
func DispatchStepFromProto(k notificationv1.StepKind) domain.StepKind {
	if k == notificationv1.StepKind_STEP_KIND_UNSPECIFIED {
		return ""
	}
	return stepKindFromProto(k)
}

func consultationToProto(c domain.Consultation) *notificationv1.DpaConsultation {
	return &notificationv1.DpaConsultation{
		Authority:      c.Authority,
		Outcome:        protoconv.EnumValue[notificationv1.ConsultationOutcome](string(c.Outcome), prefixConsultation),
		Summary:        c.Summary,
		RecordedBy:     c.By,
		RecordTime:     protoconv.Timestamp(c.At),
		ReplyReference: c.ReplyReference,
		ReplyTime:      protoconv.Timestamp(c.ReplyDate),
		LiftId:         c.LiftID,
	}
}

func consultationFromProto(c *notificationv1.DpaConsultation) domain.Consultation {
	return domain.Consultation{Authority: c.GetAuthority(), Outcome: ConsultationOutcomeFromProto(c.GetOutcome()), Summary: c.GetSummary(), By: c.GetRecordedBy(), At: protoconv.Time(c.GetRecordTime()),
		ReplyReference: c.GetReplyReference(), ReplyDate: protoconv.Time(c.GetReplyTime()), LiftID: c.GetLiftId()}
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
			add(&notificationv1.PlanDerived{RequestId: id, Plan: EncodePlan(PlanView{Plan: c.p, At: c.at}), Inputs: inputsToProto(e), DeriveTime: protoconv.Timestamp(e.At)})
		case domain.HoldPlaced:
			add(&notificationv1.HoldPlaced{RequestId: id, Clause: policy.Clause4_2_1.Number(), Reason: c.p.Adequacy().Reason, HoldTime: protoconv.Timestamp(e.At)})
		case domain.HoldLifted:
			add(&notificationv1.HoldLifted{RequestId: id,
				Basis:    liftBasisToProto(e.Basis),
				LiftedBy: e.By, LiftTime: protoconv.Timestamp(e.At)})
		case domain.RedirectOutcomeRecorded:
			add(&notificationv1.RedirectOutcomeRecorded{RequestId: id, Redirect: redirectToProto(e.RedirectRecord)})
			// Redirected only once every controller customer's authority
			// agreed (domain/customers.go).
			if e.Outcome == domain.RedirectAgreed && c.p.Outcome() == domain.OutcomeRedirected {
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
			// Every path of the app gives the plan the registry, so adequacy
			// was judged again at clearance (domain.Plan.UseRegistry).
			add(&notificationv1.RequestCleared{RequestId: id, DecisionId: c.p.Requirements().DecisionID, ClearTime: protoconv.Timestamp(e.At),
				Adequate: c.p.Adequacy().Adequate, AdequacyJudged: true})
		case domain.ExemptionProposed:
			add(&notificationv1.ExemptionProposed{RequestId: id, Exemption: exemptionToProto(e.Exemption), Lift: protoconv.Lift(e.Lift)})
		case domain.ConsultationOutcomeProposed:
			add(&notificationv1.ConsultationOutcomeProposed{RequestId: id, Consultation: consultationToProto(e.Consultation), Lift: protoconv.Lift(e.Lift)})
		case domain.ManualDispatchProposed:
			add(&notificationv1.ManualDispatchProposed{RequestId: id, Dispatch: dispatchToProto(e.Dispatch), Lift: protoconv.Lift(e.Lift)})
		case domain.WeakeningProposed:
			add(&notificationv1.WeakeningProposed{RequestId: id, Step: stepKindToProto(e.Step), Lift: protoconv.Lift(e.Lift)})
		case domain.LiftConfirmed:
			roles := make([]string, len(e.By.Roles))
			for i, r := range e.By.Roles {
				roles[i] = string(r)
			}
			add(&notificationv1.LiftConfirmed{RequestId: id, LiftId: e.LiftID, ConfirmedBy: e.By.ID, Roles: roles, ConfirmTime: protoconv.Timestamp(e.At)})
		case domain.AdequacyLost:
			add(&notificationv1.AdequacyLost{RequestId: id, Adequacy: adequacyToProto(e.Adequacy), JudgeTime: protoconv.Timestamp(e.At)})
		case domain.StepsStopped:
			steps := make([]notificationv1.StepKind, len(e.Steps))
			for i, k := range e.Steps {
				steps[i] = stepKindToProto(k)
			}
			add(&notificationv1.StepsStopped{RequestId: id, Reason: protoconv.EnumValue[notificationv1.StopReason](string(e.Reason), prefixStop),
				CauseEventId: e.CauseEventID, Steps: steps, StopTime: protoconv.Timestamp(e.At)})
		case domain.DpaObjected:
			add(&notificationv1.DpaObjected{RequestId: id, DecisionId: e.DecisionID, Dpa: e.DPA, ConfirmTime: protoconv.Timestamp(e.At)})
		case domain.NoticeOverdue:
			add(&notificationv1.NoticeOverdue{RequestId: id, DeadlineId: e.DeadlineID, Step: stepKindToProto(e.Step), CustomerRef: e.CustomerRef,
				DueTime: protoconv.Timestamp(e.Due), OverdueTime: protoconv.Timestamp(e.At)})
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
		return domain.HoldLifted{At: protoconv.Time(m.GetLiftTime()), Basis: liftBasisFromProto(m.GetBasis()), By: m.GetLiftedBy()}, true, nil
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
	case *notificationv1.ExemptionProposed:
		return domain.ExemptionProposed{Exemption: exemptionFromProto(m.GetExemption()), Lift: protoconv.LiftFrom(m.GetLift())}, true, nil
	case *notificationv1.ConsultationOutcomeProposed:
		return domain.ConsultationOutcomeProposed{Consultation: consultationFromProto(m.GetConsultation()), Lift: protoconv.LiftFrom(m.GetLift())}, true, nil
	case *notificationv1.ManualDispatchProposed:
		return domain.ManualDispatchProposed{Dispatch: dispatchFromProto(m.GetDispatch()), Lift: protoconv.LiftFrom(m.GetLift())}, true, nil
	case *notificationv1.WeakeningProposed:
		return domain.WeakeningProposed{Step: stepKindFromProto(m.GetStep()), Lift: protoconv.LiftFrom(m.GetLift())}, true, nil
	case *notificationv1.LiftConfirmed:
		by := policy.Person{ID: m.GetConfirmedBy()}
		for _, r := range m.GetRoles() {
			by.Roles = append(by.Roles, policy.Role(r))
		}
		return domain.LiftConfirmed{LiftID: m.GetLiftId(), By: by, At: protoconv.Time(m.GetConfirmTime())}, true, nil
	case *notificationv1.AdequacyLost:
		return domain.AdequacyLost{Adequacy: adequacyFromProto(m.GetAdequacy()), At: protoconv.Time(m.GetJudgeTime())}, true, nil
	case *notificationv1.StepsStopped:
		var steps []domain.StepKind
		for _, k := range m.GetSteps() {
			steps = append(steps, stepKindFromProto(k))
		}
		return domain.StepsStopped{Reason: domain.StopReason(strings.ToUpper(protoconv.EnumName(m.GetReason(), prefixStop))),
			CauseEventID: m.GetCauseEventId(), Steps: steps, At: protoconv.Time(m.GetStopTime())}, true, nil
	case *notificationv1.DpaObjected:
		return domain.DpaObjected{DecisionID: m.GetDecisionId(), DPA: m.GetDpa(), At: protoconv.Time(m.GetConfirmTime())}, true, nil
	case *notificationv1.NoticeOverdue:
		return domain.NoticeOverdue{DeadlineID: m.GetDeadlineId(), Step: stepKindFromProto(m.GetStep()), CustomerRef: m.GetCustomerRef(),
			Due: protoconv.Time(m.GetDueTime()), At: protoconv.Time(m.GetOverdueTime())}, true, nil
	}
	return nil, false, nil
}

// EncodePlan renders a plan view as the proto Plan, with what blocks it at
// v.At. It is the ONE plan conversion: the PlanDerived event carries the plan
// as derived (the encoder above), and the RPC answers carry the same message
// (ports/convert.go calls this rather than keep a copy), so a plan is never
// converted twice nor two ways.
func EncodePlan(v PlanView) *notificationv1.Plan {
	p, now := v.Plan, v.At
	out := &notificationv1.Plan{
		RequestId:   p.RequestID(),
		DecisionId:  p.Requirements().DecisionID,
		DeriveTime:  protoconv.Timestamp(p.DerivedAt()),
		ClearTime:   protoconv.Timestamp(p.ClearedAt()),
		Inputs:      inputsToProto(domain.PlanDerived{Requirements: p.Requirements(), Adequacy: p.Adequacy(), Config: p.Config(), Authorities: p.Authorities()}),
		Authorities: p.Authorities(),
	}
	for _, l := range p.Lifts() {
		out.Lifts = append(out.Lifts, protoconv.Lift(l))
	}
	for _, k := range p.Weakenings() {
		out.Weakenings = append(out.Weakenings, stepKindToProto(k))
	}
	for _, m := range p.Dispatches() {
		out.Dispatches = append(out.Dispatches, dispatchToProto(m))
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
	case domain.OutcomeWithdrawn:
		out.Status = notificationv1.PlanStatus_PLAN_STATUS_WITHDRAWN
	case domain.OutcomeAwaitingDecision:
		out.Status = notificationv1.PlanStatus_PLAN_STATUS_AWAITING_DECISION
	default:
		out.Status = notificationv1.PlanStatus_PLAN_STATUS_OPEN
		if h.Open() {
			out.Status = notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD
		}
	}
	for _, s := range p.Steps() {
		out.Steps = append(out.Steps, &notificationv1.Step{
			StepId:      s.ID,
			Kind:        stepKindToProto(s.Kind),
			Clause:      s.Clause.Number(),
			Status:      stepStatusToProto(s.Status),
			SkipReason:  string(s.SkipReason),
			DueTime:     protoconv.Timestamp(s.ScheduledFor),
			Detail:      s.Basis,
			CustomerRef: s.CustomerRef,
		})
	}
	out.DisclosureTime = protoconv.Timestamp(p.Disclosed())
	for _, v := range p.NoticeDeadlines() {
		out.NoticeDeadlines = append(out.NoticeDeadlines, &notificationv1.NoticeDeadline{DeadlineId: v.ID, What: v.What, CustomerRef: refOfDeadline(v.ID),
			StartTime: protoconv.Timestamp(v.Start), DueTime: protoconv.Timestamp(v.Due.At), Status: string(v.Status)})
	}
	for _, b := range domain.Blockers(p, now) {
		id := b.StepID
		if id == "" {
			id = string(b.Step)
		}
		out.Blockers = append(out.Blockers, &notificationv1.Blocker{StepId: id, Clause: b.Clause.Number(), Explanation: b.Explanation})
	}
	for _, f := range p.Flags() {
		out.Flags = append(out.Flags, &notificationv1.PlanFlag{Code: f.Code, Clause: f.Clause.Number(), Explanation: f.Explanation})
	}
	if r, ok := p.Redirect(); ok {
		out.Redirect = redirectToProto(r)
	}
	for _, r := range p.Redirects() {
		out.Redirects = append(out.Redirects, redirectToProto(r))
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

// customersFromProto reads the decision's customers; a role left
// unspecified reads as controller, the stricter reading.
func customersFromProto(cs []*intakev1.Customer) []domain.Customer {
	var out []domain.Customer
	for _, c := range cs {
		out = append(out, domain.Customer{ID: c.GetCustomerId(), Establishment: c.GetEstablishment(),
			Controller: c.GetRole() != intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER})
	}
	return out
}

func customersToProto(cs []domain.Customer) []*intakev1.Customer {
	var out []*intakev1.Customer
	for _, c := range cs {
		role := intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER
		if c.Controller {
			role = intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER
		}
		out = append(out, &intakev1.Customer{CustomerId: c.ID, Role: role, Establishment: c.Establishment})
	}
	return out
}

// refOfDeadline is the customer reference a notice deadline's id ends
// with ("notice/after-emergency/c2"), if any.
func refOfDeadline(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 && strings.HasPrefix(id[i+1:], "c") && id[i+1:] != "" {
		if rest := id[i+1:]; len(rest) > 1 && strings.Trim(rest[1:], "0123456789") == "" {
			return rest
		}
	}
	return ""
}
