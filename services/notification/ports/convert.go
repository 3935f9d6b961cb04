package ports

import (
	"google.golang.org/protobuf/types/known/durationpb"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// The conversions of notification's RPC-only messages. What is also an
// event payload (a plan, a delivery, a waiver effort's enums) is converted
// by the app's event codec (app/convert.go), once, and used from here.

// planToProto is the plan every command and GetPlan answer with. The
// conversion itself is app.EncodePlan, shared with the PlanDerived event
// payload, so that the event and the RPC answer cannot drift apart.
func planToProto(v app.PlanView) *notificationv1.Plan { return app.EncodePlan(v) }

// holdToProto is one standing hold as ListHolds answers it.
func holdToProto(h domain.OpenHold) *notificationv1.Hold {
	return &notificationv1.Hold{
		RequestId:  h.RequestID,
		HoldTime:   protoconv.Timestamp(h.PlacedAt),
		Age:        durationpb.New(h.Age),
		Clause:     policy.Clause4_2_1.Number(),
		Country:    string(h.Country),
		WaitingFor: h.WaitingFor,
	}
}

// effortFromRequest is the waiver effort a RecordWaiverEffort request
// records.
func effortFromRequest(req *notificationv1.RecordWaiverEffortRequest) domain.WaiverEffort {
	return domain.WaiverEffort{
		Kind:    app.WaiverEffortKindFromProto(req.GetKind()),
		Outcome: app.WaiverOutcomeFromProto(req.GetOutcome()),
		Person:  req.GetPerson(),
		Notes:   req.GetNotes(),
		At:      protoconv.Time(req.GetEffortTime()),
	}
}

// exemptionFromRequest is the exemption a ProposeExemption request proposes.
func exemptionFromRequest(req *notificationv1.ProposeExemptionRequest) domain.ExemptionProposal {
	return domain.ExemptionProposal{
		Step:             app.StepKindFromProto(req.GetStep()),
		Reason:           domain.SkipReason(req.GetReason()),
		Basis:            req.GetBasis(),
		Evidence:         req.GetEvidenceReference(),
		Statute:          req.GetStatute(),
		WhyNoticeDefeats: req.GetWhyNoticeDefeats(),
		CustomerRef:      req.GetCustomerRef(),
	}
}

// consultationFromRequest is the DPA answer a ProposeConsultationOutcome
// request records.
func consultationFromRequest(req *notificationv1.ProposeConsultationOutcomeRequest) domain.Consultation {
	return domain.Consultation{
		Authority:      req.GetAuthority(),
		Outcome:        app.ConsultationOutcomeFromProto(req.GetOutcome()),
		Summary:        req.GetSummary(),
		ReplyReference: req.GetReplyReference(),
		ReplyDate:      protoconv.Time(req.GetReplyTime()),
	}
}

// dispatchFromRequest is the packet a ProposeManualDispatch request records.
func dispatchFromRequest(req *notificationv1.ProposeManualDispatchRequest) domain.ManualDispatch {
	return domain.ManualDispatch{
		Authority: req.GetAuthority(),
		Means:     app.DispatchMeansFromProto(req.GetMeans()),
		Reference: req.GetReference(),
		SentAt:    protoconv.Time(req.GetSentTime()),
		Step:      app.DispatchStepFromProto(req.GetStep()),
	}
}

// weakeningFromRequest is the weakening a ProposeWeakening request proposes.
func weakeningFromRequest(req *notificationv1.ProposeWeakeningRequest) app.Weakening {
	return app.Weakening{Step: app.StepKindFromProto(req.GetStep()), Basis: req.GetBasis(), Evidence: req.GetEvidenceReference()}
}

// The answers of the Propose* calls: the plan and the lift to confirm.
func exemptionProposed(p *notificationv1.Plan, lift string) *notificationv1.ProposeExemptionResponse {
	return &notificationv1.ProposeExemptionResponse{Plan: p, LiftId: lift}
}

func consultationProposed(p *notificationv1.Plan, lift string) *notificationv1.ProposeConsultationOutcomeResponse {
	return &notificationv1.ProposeConsultationOutcomeResponse{Plan: p, LiftId: lift}
}

func dispatchProposed(p *notificationv1.Plan, lift string) *notificationv1.ProposeManualDispatchResponse {
	return &notificationv1.ProposeManualDispatchResponse{Plan: p, LiftId: lift}
}

func weakeningProposed(p *notificationv1.Plan, lift string) *notificationv1.ProposeWeakeningResponse {
	return &notificationv1.ProposeWeakeningResponse{Plan: p, LiftId: lift}
}
