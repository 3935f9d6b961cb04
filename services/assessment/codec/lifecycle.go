package codec

import (
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// This file is the wire form of the case's lifecycle (issue 16): the
// reopenings, questions, withdrawal acknowledgements, links and fact
// corrections assessment writes, and the events of other services the case
// folds (a disclosure recorded, a redirect agreed).

const rolePrefix = "CUSTOMER_ROLE_"

// ReopenTriggers maps a reopen trigger both ways.
var ReopenTriggers = protoconv.Names[assessmentv1.ReopenTrigger, domain.ReopenTrigger]{Prefix: "REOPEN_TRIGGER_"}

// CustomersToDomain maps customers; an unspecified role stays unknown
// (read as controller).
func CustomersToDomain(cs []*intakev1.Customer) []domain.Customer {
	var out []domain.Customer
	for _, c := range cs {
		role := domain.RoleUnknown
		switch c.GetRole() {
		case intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER:
			role = domain.RoleController
		case intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER:
			role = domain.RoleNotController
		}
		out = append(out, domain.Customer{ID: c.GetCustomerId(), Role: role, Establishment: c.GetEstablishment()})
	}
	return out
}

// CustomersToProto maps customers.
func CustomersToProto(cs []domain.Customer) []*intakev1.Customer {
	return protoconv.Each(cs, func(c domain.Customer) *intakev1.Customer {
		return &intakev1.Customer{CustomerId: c.ID, Role: protoconv.EnumValue[intakev1.CustomerRole](string(c.Role), rolePrefix), Establishment: c.Establishment}
	})
}

// CorrectionToDomain reads a fact correction; the adequacy of a corrected
// country is the caller's judgement (adequate).
func CorrectionToDomain(p *assessmentv1.FactCorrection, adequate bool) domain.FactCorrection {
	k := domain.FactCorrection{ID: p.GetCorrectionId()}
	if cl := p.GetCustomers(); cl != nil {
		k.CustomersSet, k.Customers = true, CustomersToDomain(cl.GetCustomers())
	}
	if g := p.GetProhibition(); g != nil {
		k.Prohibition = &domain.Gag{Present: g.GetPresent(), Reference: g.GetReference(), Expires: protoconv.Time(g.GetExpiresAt())}
	}
	if p.AuthorityCountry != nil {
		c := p.GetAuthorityCountry()
		k.AuthorityCountry, k.CountryAdequate = &c, adequate
	}
	if p.EmergencyClaimed != nil {
		b := p.GetEmergencyClaimed()
		k.EmergencyClaimed = &b
	}
	if p.ImminentRiskClaimed != nil {
		b := p.GetImminentRiskClaimed()
		k.ImminentRiskClaimed = &b
	}
	return k
}

// CorrectionToProto renders a fact correction.
func CorrectionToProto(k domain.FactCorrection) *assessmentv1.FactCorrection {
	p := &assessmentv1.FactCorrection{CorrectionId: k.ID, AuthorityCountry: k.AuthorityCountry, EmergencyClaimed: k.EmergencyClaimed, ImminentRiskClaimed: k.ImminentRiskClaimed}
	if k.CustomersSet {
		p.Customers = &assessmentv1.CustomerList{Customers: CustomersToProto(k.Customers)}
	}
	if g := k.Prohibition; g != nil {
		p.Prohibition = &assessmentv1.Prohibition{Present: g.Present, Reference: g.Reference, ExpiresAt: protoconv.Timestamp(g.Expires)}
	}
	return p
}

// WeakeningsToProto renders the weakenings of a correction.
func WeakeningsToProto(ws []domain.Weakening) []*assessmentv1.Weakening {
	return protoconv.Each(ws, func(w domain.Weakening) *assessmentv1.Weakening {
		return &assessmentv1.Weakening{Clause: w.Clause.Number(), Reason: w.Reason}
	})
}

func weakeningsToDomain(ws []*assessmentv1.Weakening) []domain.Weakening {
	return protoconv.Each(ws, func(w *assessmentv1.Weakening) domain.Weakening {
		return domain.Weakening{Clause: policy.Clause(w.GetClause()), Reason: w.GetReason()}
	})
}

// encodeLifecycle is the wire form of the issue-16 events, with their ids:
// a reopening's derives from its cause, so a redelivered cause writes a
// duplicate the stream drops. prev is the id of the event written just
// before in the same append: a reopening that follows assessment's own
// event (a challenge outcome confirmed, a correction taking effect) names
// it as its cause.
func (e Encoder) encodeLifecycle(ev domain.Event, prev string) (proto.Message, string) {
	rid := e.RequestID
	switch ev := ev.(type) {
	case domain.CaseReopened:
		cause := ev.CauseEventID
		if (ev.Trigger == domain.ReopenChallengeOutcome || ev.Trigger == domain.ReopenFactCorrected) && prev != "" {
			cause = prev
		}
		id := e.ID("assessment.reopened")
		if cause != "" {
			id = eventstore.DerivedID(cause, "assessment.reopened")
		}
		return &assessmentv1.CaseReopened{
			RequestId: rid, Trigger: ReopenTriggers.Proto(ev.Trigger), CauseEventId: cause,
			SupersededDecisionId: ev.SupersededDecisionID, ReopenTime: protoconv.Timestamp(ev.At), Reason: ev.Reason, ReopenedBy: ev.By,
			ReviewDueTime: protoconv.Timestamp(ev.ReviewDue),
		}, id
	case domain.InformationRequested:
		return &assessmentv1.InformationRequested{RequestId: rid, Question: ev.Question, AskedBy: ev.By, AskTime: protoconv.Timestamp(ev.At)},
			e.ID("assessment.information_requested")
	case domain.WithdrawalAcknowledged:
		return &assessmentv1.WithdrawalAcknowledged{RequestId: rid, AcknowledgedBy: ev.By, AcknowledgeTime: protoconv.Timestamp(ev.At), AfterDisclosure: ev.AfterDisclosure},
			eventstore.DerivedID(rid, "assessment.withdrawal_acknowledged")
	case domain.CaseLinked:
		return &assessmentv1.CaseLinked{RequestId: rid, LinkedRequestId: ev.LinkedRequestID, Reason: ev.Reason, LinkedBy: ev.By, LinkTime: protoconv.Timestamp(ev.At)},
			eventstore.DerivedID(rid, "assessment.linked", ev.LinkedRequestID)
	case domain.FactCorrectionProposed:
		return &assessmentv1.FactCorrectionProposed{
			RequestId: rid, Correction: CorrectionToProto(ev.Correction), Reason: ev.Reason, Weakens: WeakeningsToProto(ev.Weakens),
			Lift: protoconv.Lift(ev.Lift), ProposedBy: ev.By, ProposeTime: protoconv.Timestamp(ev.At),
			CountryAdequate: ev.Correction.CountryAdequate,
		}, eventstore.DerivedID(ev.Correction.ID, "assessment.fact_correction_proposed")
	case domain.FactsCorrected:
		req := requirementsToProto(ev.Notification, ev.Facts.ReceivedAt)
		return &assessmentv1.FactsCorrected{
			RequestId: rid, CorrectionId: ev.CorrectionID, Correction: CorrectionToProto(ev.Correction), Reason: ev.Reason,
			ProposedBy: ev.ProposedBy, ConfirmedBy: ev.ConfirmedBy, CorrectTime: protoconv.Timestamp(ev.At),
			Facts: factsToProto(ev.Facts, e.AdequacyReason), Flags: flagsToProto(ev.Flags), Requirements: req,
		}, eventstore.DerivedID(ev.CorrectionID, "assessment.facts_corrected")
	}
	return nil, ""
}

// decodeLifecycle maps the issue-16 events, and the events of other
// services the case folds, onto domain events.
func decodeLifecycle(ev eventstore.Event) ([]domain.Event, error) {
	switch p := ev.Payload.(type) {
	case *assessmentv1.CaseReopened:
		return []domain.Event{domain.CaseReopened{Meta: meta(ev, p.GetReopenedBy(), p.GetReopenTime()), Trigger: ReopenTriggers.Domain(p.GetTrigger()),
			CauseEventID: p.GetCauseEventId(), SupersededDecisionID: p.GetSupersededDecisionId(), Reason: p.GetReason(),
			ReviewDue: protoconv.Time(p.GetReviewDueTime())}}, nil
	case *assessmentv1.InformationRequested:
		return []domain.Event{domain.InformationRequested{Meta: meta(ev, p.GetAskedBy(), p.GetAskTime()), Question: p.GetQuestion()}}, nil
	case *assessmentv1.WithdrawalAcknowledged:
		return []domain.Event{domain.WithdrawalAcknowledged{Meta: meta(ev, p.GetAcknowledgedBy(), p.GetAcknowledgeTime()), AfterDisclosure: p.GetAfterDisclosure()}}, nil
	case *assessmentv1.CaseLinked:
		return []domain.Event{domain.CaseLinked{Meta: meta(ev, p.GetLinkedBy(), p.GetLinkTime()), LinkedRequestID: p.GetLinkedRequestId(), Reason: p.GetReason()}}, nil
	case *assessmentv1.FactCorrectionProposed:
		return []domain.Event{domain.FactCorrectionProposed{Meta: meta(ev, p.GetProposedBy(), p.GetProposeTime()),
			Correction: CorrectionToDomain(p.GetCorrection(), p.GetCountryAdequate()), Reason: p.GetReason(),
			Weakens: weakeningsToDomain(p.GetWeakens()), Lift: protoconv.LiftFrom(p.GetLift())}}, nil
	case *assessmentv1.FactsCorrected:
		// The requirements are notification's to read; the case folds the
		// facts and flags.
		f := factsToDomain(p.GetRequestId(), p.GetFacts())
		k := CorrectionToDomain(p.GetCorrection(), f.CountryAdequate)
		return []domain.Event{domain.FactsCorrected{Meta: meta(ev, ev.Actor, p.GetCorrectTime()), CorrectionID: p.GetCorrectionId(), Correction: k,
			Reason: p.GetReason(), ProposedBy: p.GetProposedBy(), ConfirmedBy: p.GetConfirmedBy(), Facts: f, Flags: flagsToDomain(p.GetFlags())}}, nil
	case *reportingv1.DispositionRecorded:
		d := p.GetDisposition()
		// A disclosure is dated when the data left: the clocks it meets
		// (clocks.go) are met then, not when it was recorded.
		at := d.GetRecordTime()
		if d.GetDisclosure().GetDiscloseTime() != nil {
			at = d.GetDisclosure().GetDiscloseTime()
		}
		return []domain.Event{domain.DispositionRecorded{Meta: meta(ev, d.GetRecordedBy(), at),
			Disclosed: d.GetDisclosure() != nil, NoData: d.GetOutcome() == reportingv1.TerminalOutcome_TERMINAL_OUTCOME_NO_DATA_FOUND}}, nil
	case *notificationv1.RedirectOutcomeRecorded:
		if p.GetRedirect().GetOutcome() == notificationv1.RedirectOutcome_REDIRECT_OUTCOME_AGREED {
			return []domain.Event{domain.RedirectAgreed{Meta: meta(ev, p.GetRedirect().GetRecordedBy(), p.GetRedirect().GetRecordTime())}}, nil
		}
	}
	return nil, nil
}
