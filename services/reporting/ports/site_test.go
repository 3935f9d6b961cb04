package ports_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/ports"
)

// siteServer serves one fixed publication both ways, over real gRPC.
type siteServer struct {
	reportingv1.UnimplementedReportingServiceServer
	pub *app.Publication
}

func (s siteServer) PublishTransparencyReport(context.Context, *reportingv1.PublishTransparencyReportRequest) (*reportingv1.PublishTransparencyReportResponse, error) {
	return &reportingv1.PublishTransparencyReportResponse{Name: s.pub.Name, Added: s.pub.Added, Files: ports.SiteFiles(s.pub.Site)}, nil
}

func (s siteServer) PublishTransparencySite(_ *reportingv1.PublishTransparencySiteRequest, stream grpc.ServerStreamingServer[reportingv1.PublishTransparencySiteResponse]) error {
	return ports.SendSite(s.pub, ports.SiteChunk, stream.Send)
}

func serve(t *testing.T, pub *app.Publication) reportingv1.ReportingServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	reportingv1.RegisterReportingServiceServer(srv, siteServer{pub: pub})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	// Default options: the 4 MiB receive limit of every gRPC client.
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return reportingv1.NewReportingServiceClient(conn)
}

// bigSite is a site of 9 MiB and more: one page larger than two chunks,
// an empty file, and many small ones.
func bigSite() *app.Publication {
	site := map[string][]byte{
		"reports/2026-H2/report.html": bytes.Repeat([]byte("<p>figures</p>\n"), 9<<20/15+1),
		"reports/2026-H2/empty.txt":   {},
	}
	for i := range 300 {
		site[fmt.Sprintf("reports/%04d/report.json", i)] = []byte(strings.Repeat(fmt.Sprint(i), 100))
	}
	return &app.Publication{Name: "2026-H2", Added: true, Site: site}
}

// Clause 5.1 (issue 21): a published site larger than the default 4 MiB
// message limit comes through the stream whole, where the one-message
// RPC fails.
func TestClause5_1_ASiteLargerThanTheMessageLimitIsStreamedWhole(t *testing.T) {
	pub := bigSite()
	c := serve(t, pub)
	ctx := context.Background()
	if _, err := c.PublishTransparencyReport(ctx, &reportingv1.PublishTransparencyReportRequest{Period: "2026-H2"}); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("the one-message RPC with a 9 MiB site: %v, want RESOURCE_EXHAUSTED", err)
	}
	stream, err := c.PublishTransparencySite(ctx, &reportingv1.PublishTransparencySiteRequest{Period: "2026-H2"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ports.ReceiveSite(stream.Recv)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != pub.Name || !got.Added || len(got.Site) != len(pub.Site) {
		t.Fatalf("received %s added=%v with %d files, want %d", got.Name, got.Added, len(got.Site), len(pub.Site))
	}
	for p, b := range pub.Site {
		if !bytes.Equal(got.Site[p], b) {
			t.Fatalf("%s: %d bytes received, %d sent", p, len(got.Site[p]), len(b))
		}
	}
}

// The receiver refuses a stream that does not put the site together: a
// missing chunk, a changed byte, a file cut short, a file never sent.
func TestReceiveSiteRefusesAnIncompleteStream(t *testing.T) {
	pub := &app.Publication{Name: "2026-H2", Site: map[string][]byte{"a.html": bytes.Repeat([]byte("a"), 10), "b.csv": []byte("x,y\n")}}
	var msgs []*reportingv1.PublishTransparencySiteResponse
	if err := ports.SendSite(pub, 4, func(m *reportingv1.PublishTransparencySiteResponse) error { msgs = append(msgs, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1+3+1 {
		t.Fatalf("%d messages, want the publication, 3 chunks of a.html and 1 of b.csv", len(msgs))
	}
	replay := func(ms []*reportingv1.PublishTransparencySiteResponse) func() (*reportingv1.PublishTransparencySiteResponse, error) {
		return func() (*reportingv1.PublishTransparencySiteResponse, error) {
			if len(ms) == 0 {
				return nil, io.EOF
			}
			m := ms[0]
			ms = ms[1:]
			return m, nil
		}
	}
	if got, err := ports.ReceiveSite(replay(msgs)); err != nil || string(got.Site["a.html"]) != "aaaaaaaaaa" || string(got.Site["b.csv"]) != "x,y\n" {
		t.Fatalf("the whole stream: %v %v", got, err)
	}
	changed := proto.CloneOf(msgs[2])
	changed.Data = []byte("aaab")
	for name, ms := range map[string][]*reportingv1.PublishTransparencySiteResponse{
		"a chunk missing":  {msgs[0], msgs[1], msgs[3], msgs[4]},
		"a byte changed":   {msgs[0], msgs[1], changed, msgs[3], msgs[4]},
		"a file cut short": {msgs[0], msgs[1], msgs[2]},
		"a file not sent":  {msgs[0], msgs[4]},
		"no publication":   msgs[1:],
	} {
		if _, err := ports.ReceiveSite(replay(ms)); !errors.Is(err, ports.ErrSiteIncomplete) {
			t.Errorf("%s: %v, want ErrSiteIncomplete", name, err)
		}
	}
}
