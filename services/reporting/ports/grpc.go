// Package ports exposes reporting over gRPC and to the event stream: it
// authenticates the caller, runs the proto rules, and hands the rest to the
// app.
package ports

import (
	"context"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/platform/validate"
	"github.com/ddrsuite/ddr/services/reporting/adapters/export"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// Server implements reportingv1.ReportingServiceServer.
//
// Records and dispositions are the Privacy Team's (staff) business; other
// services may read records, data protection authorities only the copy
// without personal data of the requests in their remit (GetRecordProof); any
// authenticated caller may get and verify reports, which are published
// anyway. The policy table (platform/authz) narrows this per role.
type Server struct {
	reportingv1.UnimplementedReportingServiceServer
	app     *app.Reporting
	reports *app.Reports
	valid   *validate.Validator
	// publisher publishes reports (ports/transparency.go); dpa serves
	// DPAs within their remit (ports/dpa.go).
	publisher *app.Publisher
	dpa       *app.DPA
	// rendered keeps GetRecord's messages (rendered.go).
	rendered renderedRecords
}

// NewServer returns the gRPC server of reporting; reports is the read model
// transparency reports are built from, publisher publishes them.
func NewServer(a *app.Reporting, reports *app.Reports, v *validate.Validator, publisher *app.Publisher, dpa *app.DPA) *Server {
	return &Server{app: a, reports: reports, valid: v, publisher: publisher, dpa: dpa}
}

// GetRecord implements reportingv1.ReportingServiceServer.
func (s *Server) GetRecord(ctx context.Context, req *reportingv1.GetRecordRequest) (*reportingv1.GetRecordResponse, error) {
	if _, err := auth.Require(ctx, auth.KindStaff, auth.KindService); err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	rec, err := s.app.Record(ctx, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &reportingv1.GetRecordResponse{Record: s.rendered.of(rec)}, nil
}

// VerifyRecord implements reportingv1.ReportingServiceServer.
func (s *Server) VerifyRecord(ctx context.Context, req *reportingv1.VerifyRecordRequest) (*reportingv1.VerifyRecordResponse, error) {
	if _, err := auth.Require(ctx, auth.KindStaff, auth.KindService); err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	var (
		v   app.Verification
		err error
	)
	if req.GetCopy() != nil {
		v, err = s.app.VerifyCopy(ctx, req.GetRequestId(), recordFromProto(req.GetCopy()))
	} else {
		v, err = s.app.VerifyRecord(ctx, req.GetRequestId())
	}
	if err != nil {
		return nil, err
	}
	return verificationToProto(v), nil
}

// RecordDisposition implements reportingv1.ReportingServiceServer.
func (s *Server) RecordDisposition(ctx context.Context, req *reportingv1.RecordDispositionRequest) (*reportingv1.RecordDispositionResponse, error) {
	id, err := auth.Require(ctx, auth.KindStaff)
	if err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	var d *reportingv1.Disposition
	switch k := req.GetKind().(type) {
	case *reportingv1.RecordDispositionRequest_Disclosure:
		d, err = s.app.RecordDisclosure(ctx, id.URI, req.GetRequestId(), app.DisclosureFromProto(k.Disclosure))
	case *reportingv1.RecordDispositionRequest_Outcome:
		d, err = s.app.RecordTerminal(ctx, id.URI, req.GetRequestId(), app.TerminalFromProto(k.Outcome))
	}
	if err != nil {
		return nil, err
	}
	return &reportingv1.RecordDispositionResponse{Disposition: d}, nil
}

// SetReportingRestriction implements reportingv1.ReportingServiceServer.
func (s *Server) SetReportingRestriction(ctx context.Context, req *reportingv1.SetReportingRestrictionRequest) (*reportingv1.SetReportingRestrictionResponse, error) {
	id, err := auth.Require(ctx, auth.KindStaff)
	if err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	ev, err := s.app.SetRestriction(ctx, id.URI, req.GetRequestId(), app.RestrictionFromProto(req.GetRestriction()), req.GetLegalReference())
	if err != nil {
		return nil, err
	}
	return &reportingv1.SetReportingRestrictionResponse{SetTime: ev.GetSetTime()}, nil
}

// ProposeReportingRestriction implements reportingv1.ReportingServiceServer.
func (s *Server) ProposeReportingRestriction(ctx context.Context, req *reportingv1.ProposeReportingRestrictionRequest) (*reportingv1.ProposeReportingRestrictionResponse, error) {
	id, err := auth.Require(ctx, auth.KindStaff)
	if err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	l, err := s.app.ProposeRestriction(ctx, id.URI, req.GetRequestId(), app.RestrictionFromProto(req.GetRestriction()), req.GetLegalReference())
	if err != nil {
		return nil, err
	}
	return &reportingv1.ProposeReportingRestrictionResponse{Lift: protoconv.Lift(l)}, nil
}

// ConfirmReportingRestriction implements reportingv1.ReportingServiceServer.
// The caller's roles (from the authorization policy) go to the domain,
// which needs a second legal person.
func (s *Server) ConfirmReportingRestriction(ctx context.Context, req *reportingv1.ConfirmReportingRestrictionRequest) (*reportingv1.ConfirmReportingRestrictionResponse, error) {
	who, err := auth.RequireStaffPerson(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	l, err := s.app.ConfirmRestriction(ctx, who, req.GetRequestId())
	if err != nil {
		return nil, err
	}
	return &reportingv1.ConfirmReportingRestrictionResponse{Lift: protoconv.Lift(l)}, nil
}

// GetTransparencyReport implements reportingv1.ReportingServiceServer.
func (s *Server) GetTransparencyReport(ctx context.Context, req *reportingv1.GetTransparencyReportRequest) (*reportingv1.GetTransparencyReportResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	p, err := domain.ParsePeriod(req.GetPeriod())
	if err != nil {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "period", Description: err.Error()})
	}
	rep, err := s.app.Report(s.reports, p)
	if err != nil {
		return nil, err
	}
	format := req.GetFormat()
	if format == reportingv1.ReportFormat_REPORT_FORMAT_UNSPECIFIED {
		format = reportingv1.ReportFormat_REPORT_FORMAT_JSON
	}
	f, ok := exportFormats[format]
	if !ok {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "format", Description: "is not a known format"})
	}
	content, ct, err := export.Render(rep, f)
	if err != nil {
		return nil, err
	}
	root := rep.Digest.MerkleRoot
	return &reportingv1.GetTransparencyReportResponse{Report: &reportingv1.TransparencyReport{
		Period: rep.Period.String(), Format: format, ContentType: ct, Content: content,
		MerkleRoot: root[:], RequestsCounted: int32(rep.Totals.Requests), RecordSequence: rep.RecordSequence,
		GenerateTime: protoconv.Timestamp(rep.GeneratedAt),
	}}, nil
}

// VerifyTransparencyReport implements reportingv1.ReportingServiceServer.
func (s *Server) VerifyTransparencyReport(ctx context.Context, req *reportingv1.VerifyTransparencyReportRequest) (*reportingv1.VerifyTransparencyReportResponse, error) {
	if _, err := auth.Require(ctx); err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	c, err := s.app.VerifyReport(ctx, req.GetReportJson())
	if err != nil {
		return nil, err
	}
	out := &reportingv1.VerifyTransparencyReportResponse{Valid: c.Mismatch == nil, MerkleRoot: c.Root[:]}
	if m := c.Mismatch; m != nil {
		out.Dimension, out.Key, out.Expected, out.Found, out.Detail = m.Dimension, m.Key, m.Expected, m.Found, m.Error()
	}
	return out, nil
}
