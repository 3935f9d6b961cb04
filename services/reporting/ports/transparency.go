package ports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// PublishTransparencyReport implements reportingv1.ReportingServiceServer.
// Kept for older clients: the whole site in one message, refused by the
// client once it outgrows its receive limit (PublishTransparencySite
// streams it).
func (s *Server) PublishTransparencyReport(ctx context.Context, req *reportingv1.PublishTransparencyReportRequest) (*reportingv1.PublishTransparencyReportResponse, error) {
	pub, err := s.publish(ctx, req, req.GetPeriod(), req.GetCorrection())
	if err != nil {
		return nil, err
	}
	return &reportingv1.PublishTransparencyReportResponse{Name: pub.Name, Added: pub.Added, Files: SiteFiles(pub.Site)}, nil
}

// PublishTransparencySite implements reportingv1.ReportingServiceServer:
// it publishes as PublishTransparencyReport does and streams the site in
// chunks ([SendSite]).
func (s *Server) PublishTransparencySite(req *reportingv1.PublishTransparencySiteRequest, stream grpc.ServerStreamingServer[reportingv1.PublishTransparencySiteResponse]) error {
	pub, err := s.publish(stream.Context(), req, req.GetPeriod(), req.GetCorrection())
	if err != nil {
		return err
	}
	return SendSite(pub, SiteChunk, stream.Send)
}

// publish authorizes and validates a publication and runs it.
func (s *Server) publish(ctx context.Context, req proto.Message, period string, correction bool) (*app.Publication, error) {
	if _, err := auth.Require(ctx, auth.KindStaff); err != nil {
		return nil, err
	}
	if err := s.valid.Check(req); err != nil {
		return nil, err
	}
	p, err := domain.ParsePeriod(period)
	if err != nil {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "period", Description: err.Error()})
	}
	if s.publisher == nil {
		return nil, ddrerr.ErrFailedPrecondition
	}
	return s.publisher.Publish(ctx, p, correction)
}

// SiteChunk is the most one PublishTransparencySite message carries: a
// quarter of gRPC's default 4 MiB receive limit, so a message with its
// framing stays far below it.
const SiteChunk = 1 << 20

// SendSite sends a publication as PublishTransparencySite does: the
// publication first, then every file in path order in chunks of at most
// chunk bytes, the last chunk of each with its size and SHA-256. An empty
// file is one empty last chunk.
func SendSite(pub *app.Publication, chunk int, send func(*reportingv1.PublishTransparencySiteResponse) error) error {
	files := SiteFiles(pub.Site)
	if err := send(&reportingv1.PublishTransparencySiteResponse{Name: pub.Name, Added: pub.Added, FileCount: int32(len(files))}); err != nil {
		return err
	}
	for _, f := range files {
		b := f.GetContent()
		sum := sha256.Sum256(b)
		for off := 0; ; off += chunk {
			end := min(off+chunk, len(b))
			m := &reportingv1.PublishTransparencySiteResponse{Path: f.GetPath(), Offset: int64(off), Data: b[off:end]}
			if end == len(b) {
				m.Last, m.Size, m.Sha256 = true, int64(len(b)), sum[:]
			}
			if err := send(m); err != nil {
				return err
			}
			if m.Last {
				break
			}
		}
	}
	return nil
}

// ErrSiteIncomplete is returned by [ReceiveSite] for a stream that does not
// put the site together whole.
var ErrSiteIncomplete = errors.New("the streamed site is incomplete or out of order")

// ReceiveSite puts together the site PublishTransparencySite streams,
// checking that each file's chunks follow one another and match its size
// and SHA-256, and that every announced file arrived. recv is the stream's
// Recv.
func ReceiveSite(recv func() (*reportingv1.PublishTransparencySiteResponse, error)) (*app.Publication, error) {
	first, err := recv()
	if err != nil {
		return nil, err
	}
	if first.GetPath() != "" || first.GetName() == "" {
		return nil, fmt.Errorf("%w: the first message does not name the report", ErrSiteIncomplete)
	}
	pub := &app.Publication{Name: first.GetName(), Added: first.GetAdded(), Site: map[string][]byte{}}
	var (
		path string
		buf  bytes.Buffer
	)
	for {
		m, err := recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch {
		case m.GetPath() == "":
			return nil, fmt.Errorf("%w: a chunk names no file", ErrSiteIncomplete)
		case path == "":
			if _, dup := pub.Site[m.GetPath()]; dup {
				return nil, fmt.Errorf("%w: %s sent twice", ErrSiteIncomplete, m.GetPath())
			}
			path = m.GetPath()
		case m.GetPath() != path:
			return nil, fmt.Errorf("%w: %s began before %s ended", ErrSiteIncomplete, m.GetPath(), path)
		}
		if m.GetOffset() != int64(buf.Len()) {
			return nil, fmt.Errorf("%w: %s: chunk at %d, %d bytes received", ErrSiteIncomplete, path, m.GetOffset(), buf.Len())
		}
		buf.Write(m.GetData())
		if !m.GetLast() {
			continue
		}
		sum := sha256.Sum256(buf.Bytes())
		if int64(buf.Len()) != m.GetSize() || !bytes.Equal(sum[:], m.GetSha256()) {
			return nil, fmt.Errorf("%w: %s does not match its size or SHA-256", ErrSiteIncomplete, path)
		}
		pub.Site[path] = bytes.Clone(buf.Bytes())
		path = ""
		buf.Reset()
	}
	if path != "" || len(pub.Site) != int(first.GetFileCount()) {
		return nil, fmt.Errorf("%w: %d of %d files", ErrSiteIncomplete, len(pub.Site), first.GetFileCount())
	}
	return pub, nil
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
