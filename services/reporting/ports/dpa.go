package ports

import (
	"context"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// GetRecordProof implements reportingv1.ReportingServiceServer: a DPA, and
// only a DPA, reads the copy of a request in its remit.
func (s *Server) GetRecordProof(ctx context.Context, req *reportingv1.GetRecordProofRequest) (*reportingv1.GetRecordProofResponse, error) {
	id, err := auth.Require(ctx, auth.KindDPA)
	if err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	if s.dpa == nil {
		return nil, ddrerr.ErrFailedPrecondition
	}
	p, err := s.dpa.RecordProof(ctx, id, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return RecordProofToProto(p), nil
}

// GetRecordLogConsistency implements reportingv1.ReportingServiceServer.
func (s *Server) GetRecordLogConsistency(ctx context.Context, req *reportingv1.GetRecordLogConsistencyRequest) (*reportingv1.GetRecordLogConsistencyResponse, error) {
	if _, err := auth.Require(ctx, auth.KindDPA, auth.KindStaff); err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	if s.dpa == nil {
		return nil, ddrerr.ErrFailedPrecondition
	}
	cp, proof, err := s.dpa.Consistency(req.GetOldSize())
	if err != nil {
		return nil, err
	}
	return &reportingv1.GetRecordLogConsistencyResponse{Checkpoint: cp, Proof: hashesToProto(proof)}, nil
}

// OpenRecordToDpa implements reportingv1.ReportingServiceServer.
func (s *Server) OpenRecordToDpa(ctx context.Context, req *reportingv1.OpenRecordToDpaRequest) (*reportingv1.OpenRecordToDpaResponse, error) {
	id, err := auth.Require(ctx, auth.KindStaff)
	if err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	if s.dpa == nil {
		return nil, ddrerr.ErrFailedPrecondition
	}
	ev, err := s.dpa.OpenToDPA(ctx, id.URI, req.GetRequestId(), req.GetDpa(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &reportingv1.OpenRecordToDpaResponse{GrantTime: ev.GetGrantTime()}, nil
}
