package ports

import (
	"context"

	"google.golang.org/protobuf/proto"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// GetRecordProof implements reportingv1.ReportingServiceServer: a DPA, and
// only a DPA, reads the copy of a request in its remit.
func (s *Server) GetRecordProof(ctx context.Context, req *reportingv1.GetRecordProofRequest) (*reportingv1.GetRecordProofResponse, error) {
	id, err := s.dpaCall(ctx, req, auth.KindDPA)
	if err != nil {
		return nil, err
	}
	p, err := s.dpa.RecordProof(ctx, id, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return RecordProofToProto(p), nil
}

// GetRecordLogConsistency implements reportingv1.ReportingServiceServer.
func (s *Server) GetRecordLogConsistency(ctx context.Context, req *reportingv1.GetRecordLogConsistencyRequest) (*reportingv1.GetRecordLogConsistencyResponse, error) {
	if _, err := s.dpaCall(ctx, req, auth.KindDPA, auth.KindStaff); err != nil {
		return nil, err
	}
	cp, proof, err := s.dpa.Consistency(ctx, req.GetOldSize())
	if err != nil {
		return nil, err
	}
	return &reportingv1.GetRecordLogConsistencyResponse{Checkpoint: cp, Proof: hashesToProto(proof)}, nil
}

// OpenRecordToDpa implements reportingv1.ReportingServiceServer.
func (s *Server) OpenRecordToDpa(ctx context.Context, req *reportingv1.OpenRecordToDpaRequest) (*reportingv1.OpenRecordToDpaResponse, error) {
	id, err := s.dpaCall(ctx, req, auth.KindStaff)
	if err != nil {
		return nil, err
	}
	ev, err := s.dpa.OpenToDPA(ctx, id.URI, req.GetRequestId(), req.GetDpa(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &reportingv1.OpenRecordToDpaResponse{GrantTime: ev.GetGrantTime()}, nil
}

// dpaCall authenticates a caller of one of kinds, checks the request's
// rules, and refuses when the DPA queries are not configured.
func (s *Server) dpaCall(ctx context.Context, req proto.Message, kinds ...string) (auth.Identity, error) {
	id, err := auth.Require(ctx, kinds...)
	if err != nil {
		return auth.Identity{}, err
	}
	if err := s.valid.Check(req); err != nil {
		return auth.Identity{}, err
	}
	if s.dpa == nil {
		return auth.Identity{}, ddrerr.ErrFailedPrecondition
	}
	return id, nil
}
