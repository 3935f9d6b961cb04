package ports

import (
	"context"
	"slices"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// PublishTransparencyReport implements reportingv1.ReportingServiceServer.
func (s *Server) PublishTransparencyReport(ctx context.Context, req *reportingv1.PublishTransparencyReportRequest) (*reportingv1.PublishTransparencyReportResponse, error) {
	if _, err := auth.Require(ctx, auth.KindStaff); err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	p, err := domain.ParsePeriod(req.GetPeriod())
	if err != nil {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "period", Description: err.Error()})
	}
	if s.publisher == nil {
		return nil, ddrerr.ErrFailedPrecondition
	}
	pub, err := s.publisher.Publish(ctx, p, req.GetCorrection())
	if err != nil {
		return nil, err
	}
	return &reportingv1.PublishTransparencyReportResponse{Name: pub.Name, Added: pub.Added, Files: SiteFiles(pub.Site)}, nil
}

// SiteFiles lists a site's files sorted by path.
func SiteFiles(site map[string][]byte) []*reportingv1.SiteFile {
	out := make([]*reportingv1.SiteFile, 0, len(site))
	for p, b := range site {
		out = append(out, &reportingv1.SiteFile{Path: p, Content: b})
	}
	slices.SortFunc(out, func(a, b *reportingv1.SiteFile) int {
		switch {
		case a.GetPath() < b.GetPath():
			return -1
		case a.GetPath() > b.GetPath():
			return 1
		}
		return 0
	})
	return out
}
