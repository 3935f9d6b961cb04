// Package ports exposes assessment over gRPC and to the event stream. It
// authenticates the Privacy Team member, runs the proto rules and hands the
// rest to the app.
//
// Who approves (issue 15): a disclosure on an imminent risk the authority
// did not claim, or on a compelling obligation without legal process, needs
// a legal approver (2.1). The authorization table lets the legal role call
// ApproveDecision and RejectDecision next to the approver role, rather than
// requiring legal approvers to hold both roles: a rule that only a person
// holding two roles could satisfy would fail silently wherever the roles
// file gives legal alone, and a legal user is an independent second pair of
// eyes on any disclosure. The handlers pass the caller's roles
// (auth.RequireStaffPerson) to the domain, which checks the legal-approver
// rule, the four-eyes rule and who may confirm a challenge outcome.
package ports

import (
	"context"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/validate"
)

// Server implements assessmentv1.AssessmentServiceServer.
type Server struct {
	assessmentv1.UnimplementedAssessmentServiceServer
	app   *app.Assessment
	queue *app.Queue
	valid *validate.Validator
	now   func() time.Time
}

// NewServer returns the gRPC server of assessment. now is the clock; nil
// means time.Now.
func NewServer(a *app.Assessment, q *app.Queue, v *validate.Validator, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	return &Server{app: a, queue: q, valid: v, now: now}
}

// staff is the authenticated Privacy Team member; the identity comes from
// the credentials and is what the events record as actor. It is checked
// before the request, so a caller who is not staff learns nothing from a
// validation error.
func (s *Server) staff(ctx context.Context, req proto.Message) (string, error) {
	id, err := auth.Require(ctx, auth.KindStaff)
	if err != nil {
		return "", err
	}
	return id.URI, s.valid.Check(req)
}

// reply renders the case a command left (or passes its error on) into the
// response R.
func reply[R any](s *Server, st *app.CaseState, err error, wrap func(*assessmentv1.Case) *R) (*R, error) {
	if err != nil {
		return nil, err
	}
	return wrap(caseToProto(st, s.now())), nil
}

// GetCase implements assessmentv1.AssessmentServiceServer.
func (s *Server) GetCase(ctx context.Context, req *assessmentv1.GetCaseRequest) (*assessmentv1.GetCaseResponse, error) {
	if _, err := s.staff(ctx, req); err != nil {
		return nil, err
	}
	st, err := s.app.View(ctx, req.GetRequestId())
	return reply(s, st, err, func(c *assessmentv1.Case) *assessmentv1.GetCaseResponse {
		return &assessmentv1.GetCaseResponse{Case: c}
	})
}

// ListCases implements assessmentv1.AssessmentServiceServer.
func (s *Server) ListCases(ctx context.Context, req *assessmentv1.ListCasesRequest) (*assessmentv1.ListCasesResponse, error) {
	if _, err := s.staff(ctx, req); err != nil {
		return nil, err
	}
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	f := app.ListFilter{Statuses: statusesToDomain(req.GetStatuses()), Assignee: req.GetAssignee()}
	now := s.now()
	var cases []*assessmentv1.Case
	next, err := s.queue.List(f, req.GetPageToken(), size, func(st *app.CaseState) {
		cases = append(cases, caseToProto(st, now))
	})
	if err != nil {
		return nil, err
	}
	return &assessmentv1.ListCasesResponse{Cases: cases, NextPageToken: next}, nil
}

// ClaimCase implements assessmentv1.AssessmentServiceServer.
func (s *Server) ClaimCase(ctx context.Context, req *assessmentv1.ClaimCaseRequest) (*assessmentv1.ClaimCaseResponse, error) {
	actor, err := s.staff(ctx, req)
	if err != nil {
		return nil, err
	}
	if a := req.GetAssignee(); a != "" {
		if id, err := auth.ParseSPIFFE(a); err != nil || id.Kind != auth.KindStaff {
			return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "assignee", Description: "must be a staff identity spiffe://<trust-domain>/staff/<name>"})
		}
	}
	st, err := s.app.Claim(ctx, actor, req.GetRequestId(), req.GetAssignee())
	return reply(s, st, err, func(c *assessmentv1.Case) *assessmentv1.ClaimCaseResponse {
		return &assessmentv1.ClaimCaseResponse{Case: c}
	})
}

// maxText bounds the free-text fields the proto leaves unbounded.
const maxText = 20000

// RecordFactors implements assessmentv1.AssessmentServiceServer.
func (s *Server) RecordFactors(ctx context.Context, req *assessmentv1.RecordFactorsRequest) (*assessmentv1.RecordFactorsResponse, error) {
	actor, err := s.staff(ctx, req)
	if err != nil {
		return nil, err
	}
	var v ddrerr.Collector
	for i, f := range req.GetFactors() {
		if utf8.RuneCountInString(f.GetAssessment()) > maxText {
			v.Add(indexed("factors", i, "assessment"), "at most 20000 characters")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.app.RecordFactors(ctx, actor, req.GetRequestId(), factorsToApp(req.GetFactors()), req.GetRightsAssessment())
	return reply(s, st, err, func(c *assessmentv1.Case) *assessmentv1.RecordFactorsResponse {
		return &assessmentv1.RecordFactorsResponse{Case: c}
	})
}

// RecordCounselConsultation implements assessmentv1.AssessmentServiceServer.
func (s *Server) RecordCounselConsultation(ctx context.Context, req *assessmentv1.RecordCounselConsultationRequest) (*assessmentv1.RecordCounselConsultationResponse, error) {
	actor, err := s.staff(ctx, req)
	if err != nil {
		return nil, err
	}
	c := req.GetConsultation()
	var v ddrerr.Collector
	if utf8.RuneCountInString(c.GetCounsel()) > 300 {
		v.Add("consultation.counsel", "at most 300 characters")
	}
	if utf8.RuneCountInString(c.GetSummary()) > maxText {
		v.Add("consultation.summary", "at most 20000 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.app.RecordCounsel(ctx, actor, req.GetRequestId(), consultationToApp(c))
	return reply(s, st, err, func(c *assessmentv1.Case) *assessmentv1.RecordCounselConsultationResponse {
		return &assessmentv1.RecordCounselConsultationResponse{Case: c}
	})
}

// RecordChallengeConsideration implements assessmentv1.AssessmentServiceServer.
func (s *Server) RecordChallengeConsideration(ctx context.Context, req *assessmentv1.RecordChallengeConsiderationRequest) (*assessmentv1.RecordChallengeConsiderationResponse, error) {
	actor, err := s.staff(ctx, req)
	if err != nil {
		return nil, err
	}
	if !req.GetConsidered() {
		// The record is of a consideration that took place; "not
		// considered" is the absence of one, which 3.3 does not accept.
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "considered", Description: "must be true: record the consideration once it has taken place (3.3)"})
	}
	st, err := s.app.ConsiderChallenge(ctx, actor, req.GetRequestId(), req.GetWarranted(), req.GetReasoning())
	return reply(s, st, err, func(c *assessmentv1.Case) *assessmentv1.RecordChallengeConsiderationResponse {
		return &assessmentv1.RecordChallengeConsiderationResponse{Case: c}
	})
}

// Decide implements assessmentv1.AssessmentServiceServer.
func (s *Server) Decide(ctx context.Context, req *assessmentv1.DecideRequest) (*assessmentv1.DecideResponse, error) {
	actor, err := s.staff(ctx, req)
	if err != nil {
		return nil, err
	}
	d, err := decisionFromRequest(req)
	if err != nil {
		return nil, err
	}
	st, err := s.app.Decide(ctx, actor, req.GetRequestId(), d, req.GetExpectedVersion())
	return reply(s, st, err, func(c *assessmentv1.Case) *assessmentv1.DecideResponse { return &assessmentv1.DecideResponse{Case: c} })
}

// person is the authenticated staff member with the roles the
// authorization policy gave them, for the commands whose rules look at the
// caller's roles (a legal approver, a legal confirmer). Like staff, it is
// checked before the request.
func (s *Server) person(ctx context.Context, req proto.Message) (policy.Person, error) {
	p, err := auth.RequireStaffPerson(ctx)
	if err != nil {
		return policy.Person{}, err
	}
	return p, s.valid.Check(req)
}

// asPerson runs a command that needs the caller's roles (a legal approver,
// a legal confirmer) and renders the case it left into the response R.
func asPerson[R any](s *Server, ctx context.Context, req proto.Message, run func(policy.Person) (*app.CaseState, error), wrap func(*assessmentv1.Case) *R) (*R, error) {
	who, err := s.person(ctx, req)
	if err != nil {
		return nil, err
	}
	st, err := run(who)
	return reply(s, st, err, wrap)
}

// ApproveDecision implements assessmentv1.AssessmentServiceServer.
func (s *Server) ApproveDecision(ctx context.Context, req *assessmentv1.ApproveDecisionRequest) (*assessmentv1.ApproveDecisionResponse, error) {
	return asPerson(s, ctx, req, func(who policy.Person) (*app.CaseState, error) {
		return s.app.Approve(ctx, who, req.GetRequestId(), req.GetDecisionId())
	}, func(c *assessmentv1.Case) *assessmentv1.ApproveDecisionResponse {
		return &assessmentv1.ApproveDecisionResponse{Case: c}
	})
}

// RejectDecision implements assessmentv1.AssessmentServiceServer.
func (s *Server) RejectDecision(ctx context.Context, req *assessmentv1.RejectDecisionRequest) (*assessmentv1.RejectDecisionResponse, error) {
	actor, err := s.staff(ctx, req)
	if err != nil {
		return nil, err
	}
	st, err := s.app.RejectDecision(ctx, actor, req.GetRequestId(), req.GetDecisionId(), req.GetReason())
	return reply(s, st, err, func(c *assessmentv1.Case) *assessmentv1.RejectDecisionResponse {
		return &assessmentv1.RejectDecisionResponse{Case: c}
	})
}

// JustifyImminentRisk implements assessmentv1.AssessmentServiceServer.
func (s *Server) JustifyImminentRisk(ctx context.Context, req *assessmentv1.JustifyImminentRiskRequest) (*assessmentv1.JustifyImminentRiskResponse, error) {
	return asPerson(s, ctx, req, func(who policy.Person) (*app.CaseState, error) {
		return s.app.JustifyImminentRisk(ctx, who.ID, req.GetRequestId(), req.GetJustification())
	}, func(c *assessmentv1.Case) *assessmentv1.JustifyImminentRiskResponse {
		return &assessmentv1.JustifyImminentRiskResponse{Case: c}
	})
}

// ProposeChallengeOutcome implements assessmentv1.AssessmentServiceServer.
func (s *Server) ProposeChallengeOutcome(ctx context.Context, req *assessmentv1.ProposeChallengeOutcomeRequest) (*assessmentv1.ProposeChallengeOutcomeResponse, error) {
	return asPerson(s, ctx, req, func(who policy.Person) (*app.CaseState, error) {
		o := codec.ChallengeOutcomes.Domain(req.GetOutcome())
		return s.app.ProposeChallengeOutcome(ctx, who.ID, req.GetRequestId(), o, req.GetBasis(), req.GetEvidenceReference())
	}, func(c *assessmentv1.Case) *assessmentv1.ProposeChallengeOutcomeResponse {
		return &assessmentv1.ProposeChallengeOutcomeResponse{Case: c}
	})
}

// ConfirmChallengeOutcome implements assessmentv1.AssessmentServiceServer.
func (s *Server) ConfirmChallengeOutcome(ctx context.Context, req *assessmentv1.ConfirmChallengeOutcomeRequest) (*assessmentv1.ConfirmChallengeOutcomeResponse, error) {
	return asPerson(s, ctx, req, func(who policy.Person) (*app.CaseState, error) {
		return s.app.ConfirmChallengeOutcome(ctx, who, req.GetRequestId())
	}, func(c *assessmentv1.Case) *assessmentv1.ConfirmChallengeOutcomeResponse {
		return &assessmentv1.ConfirmChallengeOutcomeResponse{Case: c}
	})
}
