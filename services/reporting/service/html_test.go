package service_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/testkit"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// chromium is Debian's package "chromium"; .ci/run installs it.
const chromium = "/usr/bin/chromium"

// The HTML report, as it would be published, opened in a real browser: the
// screenshot must decode and show a page with charts, not a blank or an
// error page. Set DDR_REPORT_SCREENSHOT to a path to keep the PNG.
func TestClause5_1_HTMLReportRendersInHeadlessChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("SKIPPED, NOT TESTED: %s is missing (install Debian's package chromium: apt-get install -y chromium)", chromium)
	}
	c := testkit.NewClock(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	e := start(t, cfgAt(c, 100))
	generated(t, e, 400)
	res := getReport(t, e, "2026-H1", reportingv1.ReportFormat_REPORT_FORMAT_HTML)
	if res.GetContentType() != "text/html; charset=utf-8" {
		t.Errorf("content type %q", res.GetContentType())
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, res.GetContent(), 0o600); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	if p := os.Getenv("DDR_REPORT_SCREENSHOT"); p != "" {
		shot = p
	}
	looksRendered(t, "file://"+page, shot, dir)
}

// The published site, as written by a publication, opened in a real
// browser: the index and a report page both render (relative links, so the
// site works from any directory or web server).
func TestClause5_1_PublishedSiteRendersInHeadlessChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("SKIPPED, NOT TESTED: %s is missing (install Debian's package chromium: apt-get install -y chromium)", chromium)
	}
	c := testkit.NewClock(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	e, _ := publishing(t, c)
	generated(t, e, 400)
	site := writeSite(t, publish(t, e, "2026-H1", false))
	dir := t.TempDir()
	for _, page := range []string{transparency.PathIndex, transparency.ReportPath("2026-H1", transparency.FileHTML)} {
		looksRendered(t, "file://"+filepath.Join(site, filepath.FromSlash(page)), filepath.Join(dir, strings.ReplaceAll(page, "/", "_")+".png"), dir)
	}
}

// looksRendered screenshots url with headless Chromium into shot and fails
// unless the picture is a page with text and graphics, not a blank or an
// error page.
func looksRendered(t *testing.T, url, shot, dir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--screenshot="+shot, "--window-size=1280,2000",
		url)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	colours, ink := census(img)
	t.Logf("screenshot %s of %s: %v, %d distinct colours, %.1f%% non-white", shot, url, img.Bounds().Size(), colours, ink*100)
	// Text anti-aliasing and the blue bars give hundreds of colours; a blank
	// or single-colour page has a handful.
	if colours < 50 || ink < 0.01 {
		t.Fatalf("screenshot of %s looks blank: %d colours, %.2f%% non-white", url, colours, ink*100)
	}
}

// census counts distinct colours and the share of pixels that are not white.
func census(img image.Image) (int, float64) {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if r>>8 < 250 || g>>8 < 250 || bl>>8 < 250 {
				ink++
			}
		}
	}
	return len(seen), float64(ink) / float64(b.Dx()*b.Dy())
}
