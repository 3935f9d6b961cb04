package ports

import (
	"context"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// The RPCs of the case's lifecycle (issue 16). Who may call each is the
// authorization table's (platform/authz): asking for information is a
// reviewer's; acknowledging a withdrawal, correcting facts and linking
// cases are any Privacy Team member's (reviewer, approver or legal); the
// domain checks who may confirm a weakening correction.

// staffRun runs a command as the authenticated staff member and renders
// the case it left into the response R.
func staffRun[R any](s *Server, ctx context.Context, req proto.Message, run func(actor string) (*app.CaseState, error), wrap func(*assessmentv1.Case) *R) (*R, error) {
	actor, err := s.staff(ctx, req)
	if err != nil {
		return nil, err
	}
	st, err := run(actor)
	return reply(s, st, err, wrap)
}

// RequestInformation implements assessmentv1.AssessmentServiceServer.
func (s *Server) RequestInformation(ctx context.Context, req *assessmentv1.RequestInformationRequest) (*assessmentv1.RequestInformationResponse, error) {
	return staffRun(s, ctx, req, func(actor string) (*app.CaseState, error) {
		return s.app.RequestInformation(ctx, actor, req.GetRequestId(), req.GetQuestion())
	}, func(c *assessmentv1.Case) *assessmentv1.RequestInformationResponse {
		return &assessmentv1.RequestInformationResponse{Case: c}
	})
}

// AcknowledgeWithdrawal implements assessmentv1.AssessmentServiceServer.
func (s *Server) AcknowledgeWithdrawal(ctx context.Context, req *assessmentv1.AcknowledgeWithdrawalRequest) (*assessmentv1.AcknowledgeWithdrawalResponse, error) {
	return staffRun(s, ctx, req, func(actor string) (*app.CaseState, error) {
		return s.app.AcknowledgeWithdrawal(ctx, actor, req.GetRequestId())
	}, func(c *assessmentv1.Case) *assessmentv1.AcknowledgeWithdrawalResponse {
		return &assessmentv1.AcknowledgeWithdrawalResponse{Case: c}
	})
}

// ProposeFactCorrection implements assessmentv1.AssessmentServiceServer.
func (s *Server) ProposeFactCorrection(ctx context.Context, req *assessmentv1.ProposeFactCorrectionRequest) (*assessmentv1.ProposeFactCorrectionResponse, error) {
	actor, err := s.staff(ctx, req)
	if err != nil {
		return nil, err
	}
	k := codec.CorrectionToDomain(req.GetCorrection(), false)
	st, id, err := s.app.ProposeFactCorrection(ctx, actor, req.GetRequestId(), k, req.GetReason(), req.GetEvidenceReference())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.ProposeFactCorrectionResponse{Case: caseToProto(st, s.now()), CorrectionId: id}, nil
}

// ConfirmFactCorrection implements assessmentv1.AssessmentServiceServer.
// The caller's roles go to the domain: the confirmer holds approver or
// legal and is not the proposer.
func (s *Server) ConfirmFactCorrection(ctx context.Context, req *assessmentv1.ConfirmFactCorrectionRequest) (*assessmentv1.ConfirmFactCorrectionResponse, error) {
	who, err := s.person(ctx, req)
	if err != nil {
		return nil, err
	}
	st, err := s.app.ConfirmFactCorrection(ctx, who, req.GetRequestId(), req.GetCorrectionId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.ConfirmFactCorrectionResponse{Case: caseToProto(st, s.now())}, nil
}

// LinkCase implements assessmentv1.AssessmentServiceServer.
func (s *Server) LinkCase(ctx context.Context, req *assessmentv1.LinkCaseRequest) (*assessmentv1.LinkCaseResponse, error) {
	return staffRun(s, ctx, req, func(actor string) (*app.CaseState, error) {
		return s.app.LinkCase(ctx, actor, req.GetRequestId(), req.GetLinkedRequestId(), req.GetReason())
	}, func(c *assessmentv1.Case) *assessmentv1.LinkCaseResponse {
		return &assessmentv1.LinkCaseResponse{Case: c}
	})
}

// lifecycleToProto fills the case's lifecycle view: its state, the open
// question, reopenings, earlier decisions, corrections and links.
func lifecycleToProto(st *app.CaseState, out *assessmentv1.Case) {
	c := st.Case
	out.LifecycleState = string(c.State())
	if q := c.OpenQuestion(); q != nil {
		out.OpenQuestion = &assessmentv1.CaseQuestion{Question: q.Text, AskedBy: q.By, AskTime: protoconv.Timestamp(q.At)}
	}
	for _, r := range c.Reopenings() {
		out.Reopenings = append(out.Reopenings, &assessmentv1.CaseReopening{
			Trigger: codec.ReopenTriggers.Proto(r.Trigger).String(), CauseEventId: r.CauseEventID, SupersededDecisionId: r.SupersededDecisionID,
			ReopenTime: protoconv.Timestamp(r.At), Reason: r.Reason, ReopenedBy: r.By,
		})
	}
	out.EarlierDecisions = st.EarlierDecisions()
	for _, k := range c.Corrections() {
		p := k.Proposal
		r := &assessmentv1.FactCorrectionRecord{
			Correction: codec.CorrectionToProto(p.Correction), Reason: p.Reason, ProposedBy: p.By, ProposeTime: protoconv.Timestamp(p.At),
			Weakens: codec.WeakeningsToProto(p.Weakens),
		}
		if p.Lift.ID != "" {
			r.Lift = protoconv.Lift(p.Lift)
		}
		if e := k.Effective; e != nil {
			r.Effective, r.ConfirmedBy, r.EffectiveTime = true, e.ConfirmedBy, protoconv.Timestamp(e.At)
		}
		out.Corrections = append(out.Corrections, r)
	}
	for _, l := range c.Links() {
		out.Links = append(out.Links, &assessmentv1.CaseLink{LinkedRequestId: l.RequestID, Reason: l.Reason, LinkedBy: l.By, LinkTime: protoconv.Timestamp(l.At)})
	}
	if a := c.WithdrawalAcknowledgement(); a != nil {
		out.WithdrawalAcknowledgedBy, out.WithdrawalAcknowledgeTime = a.By, protoconv.Timestamp(a.At)
	}
	out.Disclosed = c.Disclosed() || c.State() == lifecycle.Disclosed
}
