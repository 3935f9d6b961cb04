package ports

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/validate"
)

// ClocksServer implements assessmentv1.ClocksServiceServer: the legal
// clocks of issue 18 over gRPC. It authenticates like [Server] (the
// authorization table says which roles call what).
type ClocksServer struct {
	assessmentv1.UnimplementedClocksServiceServer
	srv *Server
}

// NewClocksServer returns the gRPC server of the clocks.
func NewClocksServer(a *app.Assessment, q *app.Queue, v *validate.Validator, now func() time.Time) *ClocksServer {
	return &ClocksServer{srv: NewServer(a, q, v, now)}
}

func nextDeadline(c *domain.Case) *assessmentv1.DeadlineView {
	v, ok := c.NearestDeadline()
	if !ok {
		return nil
	}
	return codec.DeadlineViewToProto(v)
}

func deadlinesToProto(vs []deadline.View) []*assessmentv1.DeadlineView {
	out := make([]*assessmentv1.DeadlineView, len(vs))
	for i, v := range vs {
		out[i] = codec.DeadlineViewToProto(v)
	}
	return out
}

// ListDeadlines implements assessmentv1.ClocksServiceServer.
func (s *ClocksServer) ListDeadlines(ctx context.Context, req *assessmentv1.ListDeadlinesRequest) (*assessmentv1.ListDeadlinesResponse, error) {
	if _, err := s.srv.staff(ctx, req); err != nil {
		return nil, err
	}
	st, err := s.srv.app.Get(ctx, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &assessmentv1.ListDeadlinesResponse{Deadlines: deadlinesToProto(st.Case.Deadlines()), Next: nextDeadline(st.Case)}, nil
}

// onClocks runs a clock command as the authenticated staff member (with
// their roles) and answers with the request's deadlines as it left them.
func onClocks[R any](s *ClocksServer, ctx context.Context, req proto.Message, run func(policy.Person) (*app.CaseState, error), wrap func([]*assessmentv1.DeadlineView) *R) (*R, error) {
	who, err := s.srv.person(ctx, req)
	if err != nil {
		return nil, err
	}
	st, err := run(who)
	if err != nil {
		return nil, err
	}
	return wrap(deadlinesToProto(st.Case.Deadlines())), nil
}

// RecordEnforcingAuthorityConfirmation implements assessmentv1.ClocksServiceServer.
func (s *ClocksServer) RecordEnforcingAuthorityConfirmation(ctx context.Context, req *assessmentv1.RecordEnforcingAuthorityConfirmationRequest) (*assessmentv1.RecordEnforcingAuthorityConfirmationResponse, error) {
	return onClocks(s, ctx, req, func(who policy.Person) (*app.CaseState, error) {
		return s.srv.app.ConfirmEnforcingAuthority(ctx, who, req.GetRequestId())
	}, func(ds []*assessmentv1.DeadlineView) *assessmentv1.RecordEnforcingAuthorityConfirmationResponse {
		return &assessmentv1.RecordEnforcingAuthorityConfirmationResponse{Deadlines: ds}
	})
}

// ExtendPreservation implements assessmentv1.ClocksServiceServer.
func (s *ClocksServer) ExtendPreservation(ctx context.Context, req *assessmentv1.ExtendPreservationRequest) (*assessmentv1.ExtendPreservationResponse, error) {
	return onClocks(s, ctx, req, func(who policy.Person) (*app.CaseState, error) {
		return s.srv.app.ExtendPreservation(ctx, who.ID, req.GetRequestId())
	}, func(ds []*assessmentv1.DeadlineView) *assessmentv1.ExtendPreservationResponse {
		return &assessmentv1.ExtendPreservationResponse{Deadlines: ds}
	})
}

// MarkDeadlineMet implements assessmentv1.ClocksServiceServer.
func (s *ClocksServer) MarkDeadlineMet(ctx context.Context, req *assessmentv1.MarkDeadlineMetRequest) (*assessmentv1.MarkDeadlineMetResponse, error) {
	return onClocks(s, ctx, req, func(who policy.Person) (*app.CaseState, error) {
		return s.srv.app.MarkDeadlineMet(ctx, who.ID, req.GetRequestId(), req.GetDeadlineId())
	}, func(ds []*assessmentv1.DeadlineView) *assessmentv1.MarkDeadlineMetResponse {
		return &assessmentv1.MarkDeadlineMetResponse{Deadlines: ds}
	})
}
