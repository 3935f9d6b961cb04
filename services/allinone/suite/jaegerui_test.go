package suite_test

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// chromium is Debian's package "chromium"; .ci/run installs it.
const chromiumBin = "/usr/bin/chromium"

// The SRE's view: the Jaeger that `make jaeger` runs serves the real UI
// (the committed tools/jaeger/ui assets, embedded by make jaeger-build),
// and a request's trace page, opened in headless Chromium, shows the spans
// of all four services. The screenshot is kept in .build/artifacts.
func TestJaegerUIShowsTheRequestsTraceWithAllFourServices(t *testing.T) {
	if _, err := os.Stat(chromiumBin); err != nil {
		t.Skipf("SKIPPED, NOT TESTED: %s is missing (install Debian's package chromium: apt-get install -y chromium)", chromiumBin)
	}
	jaeger := startJaeger(t)

	// The UI, not the placeholder a Jaeger without assets serves.
	index := get(t, jaeger.query+"/")
	if strings.Contains(index, "Test Page") || !strings.Contains(index, "jaeger-ui-root") {
		t.Fatalf("Jaeger serves no UI at /; is tools/jaeger/ui embedded (make jaeger-build)?\n%.500s", index)
	}

	p := startSuite(t, runnertest.Options{OTLPEndpoint: jaeger.otlp})
	id := driveRequest(t, p, "warrant-2026-ui")
	p.Stop(t)
	traces := jaeger.waitTraces(t, "intake", id, func(ts []jaegerTrace) bool {
		return slices.ContainsFunc(ts, func(tr jaegerTrace) bool { return tr.hasServices(services...) })
	})
	var traceID string
	for _, tr := range traces {
		if tr.hasServices(services...) {
			traceID = tr.TraceID
		}
	}
	page := jaeger.query + "/trace/" + traceID

	dir := t.TempDir()
	dom := chromium(t, dir, "--dump-dom", page)
	text := visibleText(dom)
	for _, svc := range services {
		if !regexp.MustCompile(`\b` + svc + `\b`).MatchString(text) {
			t.Errorf("the trace page shows no %s span; page text:\n%.3000s", svc, text)
		}
	}
	if !strings.Contains(text, traceID[:7]) {
		t.Errorf("the trace page does not name trace %s; page text:\n%.3000s", traceID, text)
	}

	artifacts := filepath.Join(repoRoot(), ".build", "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifacts, "jaeger-ui-trace.png")
	chromium(t, dir, "--screenshot="+shot, page)
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	seen := map[[3]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	// Each service has its colour in the timeline, and text is
	// anti-aliased: a blank or error page has a handful of colours.
	if len(seen) < 50 {
		t.Errorf("screenshot %s looks blank: %d colours", shot, len(seen))
	}
	t.Logf("trace %s of request %s: screenshot %s (%v, %d colours)", traceID, id, shot, img.Bounds().Size(), len(seen))
}

// chromium runs headless Chromium on url with a fresh profile, giving the
// page's scripts time to fetch the trace (virtual time runs ahead while the
// page is idle), and returns its standard output.
func chromium(t *testing.T, dir, mode, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	profile, err := os.MkdirTemp(dir, "profile")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, chromiumBin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+profile, "--window-size=1600,1000",
		"--virtual-time-budget=30000", mode, url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", mode, err, stderr.String())
	}
	return stdout.String()
}

var (
	scriptOrStyle = regexp.MustCompile(`(?is)<(script|style|noscript)\b.*?</(script|style|noscript)>`)
	tag           = regexp.MustCompile(`(?s)<[^>]*>`)
	spaces        = regexp.MustCompile(`\s+`)
)

// visibleText is the page's text without markup, scripts and styles, so a
// name found in it was rendered, not carried in a script.
func visibleText(html string) string {
	s := scriptOrStyle.ReplaceAllString(html, " ")
	s = tag.ReplaceAllString(s, " ")
	return spaces.ReplaceAllString(s, " ")
}

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return string(b)
}
