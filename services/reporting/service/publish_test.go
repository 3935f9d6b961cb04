package service_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/testkit"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/ports"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// publishing starts reporting with a signing key kept as the KEK is, and
// returns its verifier key.
func publishing(t *testing.T, c *testkit.Clock) (*env, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secrets", keys.SigningKeyFileName)
	vkey, err := keys.NewSigningKeyFile(path, "ddr-test-transparency")
	if err != nil {
		t.Fatal(err)
	}
	cfg := cfgAt(c, 100)
	cfg.SigningKeyFile, cfg.PublishOrigin = path, "example.com/transparency"
	return start(t, cfg), vkey
}

func publish(t *testing.T, e *env, period string, correction bool) *reportingv1.PublishTransparencyReportResponse {
	t.Helper()
	res, err := e.staff.PublishTransparencyReport(context.Background(), &reportingv1.PublishTransparencyReportRequest{Period: period, Correction: correction})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// publishStream publishes through the streamed RPC, as ddrctl does.
func publishStream(c reportingv1.ReportingServiceClient, period string) (*app.Publication, error) {
	stream, err := c.PublishTransparencySite(context.Background(), &reportingv1.PublishTransparencySiteRequest{Period: period})
	if err != nil {
		return nil, err
	}
	return ports.ReceiveSite(stream.Recv)
}

func siteMap(res *reportingv1.PublishTransparencyReportResponse) map[string][]byte {
	m := map[string][]byte{}
	for _, f := range res.GetFiles() {
		m[f.GetPath()] = f.GetContent()
	}
	return m
}

func writeSite(t *testing.T, res *reportingv1.PublishTransparencyReportResponse) string {
	t.Helper()
	dir := t.TempDir()
	if err := transparency.WriteSite(dir, siteMap(res)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The report of a half-year is published once, signed, as a static site
// that verifies offline with the public key alone. Publishing again gives
// the same bytes; a correction is a new report that names the first, and
// the first report's files do not change.
func TestClause5_1_PublishedOnceByteIdenticalCorrectedByANewLinkedReport(t *testing.T) {
	c := testkit.NewClock(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	e, vkey := publishing(t, c)
	generated(t, e, 300)

	first := publish(t, e, "2026-H1", false)
	if first.GetName() != "2026-H1" || !first.GetAdded() {
		t.Fatalf("first publication: %s added=%v", first.GetName(), first.GetAdded())
	}
	c.Advance(24 * time.Hour)
	// Again, streamed (PublishTransparencySite): the same site.
	again, err := publishStream(e.staff, "2026-H1")
	if err != nil {
		t.Fatal(err)
	}
	if again.Added || again.Name != "2026-H1" || len(again.Site) != len(first.GetFiles()) {
		t.Fatalf("second publication %s added=%v, %d files (first %d)", again.Name, again.Added, len(again.Site), len(first.GetFiles()))
	}
	for _, f := range first.GetFiles() {
		if !bytes.Equal(again.Site[f.GetPath()], f.GetContent()) {
			t.Fatalf("publishing twice changed %s", f.GetPath())
		}
	}
	dir := writeSite(t, first)
	check, err := transparency.VerifySite(os.DirFS(dir), vkey, nil)
	if err != nil {
		t.Fatal(err)
	}
	kept := siteMap(first)[transparency.PathCheckpoint]

	// A late-recorded request of the half-year: the published report stays
	// as it was; the correction counts it.
	const late = "req-late"
	e.append(t, late, received(late, time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC), intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "BR", 2, false, false))
	if err := e.comp.WaitFor(context.Background(), lastSeq(t, e)); err != nil {
		t.Fatal(err)
	}
	corr := publish(t, e, "2026-H1", true)
	if corr.GetName() != "2026-H1-c1" || !corr.GetAdded() {
		t.Fatalf("correction: %s added=%v", corr.GetName(), corr.GetAdded())
	}
	old, now := siteMap(first), siteMap(corr)
	for _, f := range append(transparency.ReportFiles, "statement.note") {
		p := transparency.ReportPath("2026-H1", f)
		if !bytes.Equal(old[p], now[p]) {
			t.Errorf("the published %s changed with the correction", p)
		}
	}
	if bytes.Equal(now[transparency.ReportPath("2026-H1-c1", transparency.FileJSON)], old[transparency.ReportPath("2026-H1", transparency.FileJSON)]) {
		t.Error("the correction is the same report")
	}
	if !bytes.Contains(now[transparency.PathIndex], []byte(`corrected by <a href="reports/2026-H1-c1/report.html">`)) {
		t.Errorf("the index does not link the correction:\n%s", now[transparency.PathIndex])
	}
	check2, err := transparency.VerifySite(os.DirFS(writeSite(t, corr)), vkey, kept)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("published %v at checkpoint %d, then %v at %d (%d files)", check.Reports, check.Checkpoint.Size, check2.Reports, check2.Checkpoint.Size, len(corr.GetFiles()))
}

func TestClause5_1_PublishingRefusals(t *testing.T) {
	c := testkit.NewClock(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	e, _ := publishing(t, c)
	ctx := context.Background()
	req := &reportingv1.PublishTransparencyReportRequest{Period: "2026-H2"}
	if _, err := e.member.PublishTransparencyReport(ctx, req); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("group member publishing: %v, want PERMISSION_DENIED", err)
	}
	if _, err := publishStream(e.member, "2026-H2"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("group member publishing, streamed: %v, want PERMISSION_DENIED", err)
	}
	if _, err := publishStream(e.staff, "2027-H1"); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a period not over, streamed: %v, want FAILED_PRECONDITION", err)
	}
	if _, err := e.staff.PublishTransparencyReport(ctx, &reportingv1.PublishTransparencyReportRequest{Period: "2026-H2", Correction: true}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("correction of an unpublished period: %v, want FAILED_PRECONDITION", err)
	}
	if _, err := e.staff.PublishTransparencyReport(ctx, &reportingv1.PublishTransparencyReportRequest{Period: "2027-H1"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a period not over: %v, want FAILED_PRECONDITION", err)
	}
	unsigned := start(t, cfgAt(c, 100))
	if _, err := unsigned.staff.PublishTransparencyReport(ctx, req); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("no signing key: %v, want FAILED_PRECONDITION", err)
	}
}

func lastSeq(t *testing.T, e *env) uint64 {
	t.Helper()
	s, err := e.js.Stream(context.Background(), eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

// The scheduled job (off by default) publishes the last finished
// half-year and writes the site to its directory.
func TestClause5_1_ScheduledPublicationWritesTheSite(t *testing.T) {
	c := testkit.NewClock(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "secrets", keys.SigningKeyFileName)
	vkey, err := keys.NewSigningKeyFile(path, "ddr-test-transparency")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := cfgAt(c, 100)
	cfg.SigningKeyFile, cfg.PublishDir, cfg.PublishEvery = path, dir, time.Hour
	start(t, cfg)
	testkit.Eventually(t, "the scheduled publication", func() bool {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(transparency.PathCheckpoint)))
		return err == nil
	})
	check, err := transparency.VerifySite(os.DirFS(dir), vkey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(check.Reports) != 1 || check.Reports[0] != "2026-H2" {
		t.Fatalf("scheduled job published %v", check.Reports)
	}
}
