// Package browsertest drives the console in headless Chromium against the
// real all-in-one (embedded JetStream, mTLS) and the dev OpenID provider,
// both in-process: people sign in, review, decide and approve through the
// pages, as issue 23's "Must show" lists.
package browsertest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/console/web"
	"github.com/ddrsuite/ddr/services/devoidc/devop"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// chromium is Debian's package "chromium".
const chromium = "/usr/bin/chromium"

const member = "spiffe://ddr.local/group-member/acme-eu"

// env is one run: the suite, the dev provider, the console on a loopback
// port, and a headless browser.
type env struct {
	t       *testing.T
	proc    *runnertest.Proc
	console string
	browser context.Context
	shots   string
	axe     string
}

func start(t *testing.T) *env {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("SKIPPED, NOT TESTED: %s is missing (install Debian's package chromium: apt-get install -y chromium)", chromium)
	}
	axe, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// The console's address first: the provider must know its redirect.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	consoleURL := "http://" + ln.Addr().String()
	op, err := devop.Start(ctx, devop.Config{Addr: "127.0.0.1:0", RedirectURIs: []string{consoleURL + "/auth/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Close() })

	cfg := suite.DefaultConfig()
	p := runnertest.Start(t, runnertest.Options{OIDCIssuer: op.Issuer()}, cfg.Build)

	h, err := web.New(web.Config{
		IntakeAddr: p.Info.GRPCAddr, AssessmentAddr: p.Info.GRPCAddr, NotificationAddr: p.Info.GRPCAddr, ReportingAddr: p.Info.GRPCAddr,
		PKIDir:     string(p.PKI),
		OIDCIssuer: op.Issuer(), OIDCClientID: devop.DefaultClientID,
		PublicURL: consoleURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if c, ok := h.(interface{ Close() error }); ok {
			_ = c.Close()
		}
	})

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 1600),
		chromedp.Flag("disable-quic", true),
	)...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return &env{t: t, proc: p, console: consoleURL, browser: browser, shots: artifacts(t), axe: string(axe)}
}

// artifacts is <repo root>/.build/artifacts, where the screenshots stay.
func artifacts(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the test's directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, ".build", "artifacts")
	if err := os.MkdirAll(out, 0o750); err != nil {
		t.Fatal(err)
	}
	return out
}

// person is one signed-in person: a browser context of their own (cookies
// not shared), and the CSP reports of their pages.
type person struct {
	e    *env
	name string
	tab  context.Context // the tab, unbounded
	ctx  context.Context // the tab under the person's deadline

	mu  sync.Mutex
	csp []string
}

func (e *env) signIn(name string) *person {
	e.t.Helper()
	p := &person{e: e, name: name}
	tab, cancel := chromedp.NewContext(e.browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.listen))
	e.t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		e.t.Fatalf("a tab for %s: %v", name, err)
	}
	// Each person's steps share one bound; a step that hangs fails the
	// test instead of running into go test's timeout.
	ctx, cancelT := context.WithTimeout(tab, 2*time.Minute)
	e.t.Cleanup(cancelT)
	p.tab, p.ctx = tab, ctx
	p.run("sign in as "+name,
		enableLog,
		chromedp.Navigate(e.console+"/queue"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), name),
		chromedp.SendKeys(chromedp.ID("password"), devop.DevPassword),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("user")),
	)
	if who := get(p, "who is signed in", chromedp.Text(chromedp.ID("user"))); who != name {
		e.t.Fatalf("signed in as %q, want %q", who, name)
	}
	return p
}

// enableLog turns on the Log domain, where Chromium reports CSP violations.
func enableLog(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
	_, err := cdp.Call(ctx, t, log.Enable, cdp.Empty{})
	return chromedp.Void{}, err
}

// listen keeps what the browser says about the Content-Security-Policy.
func (p *person) listen(ev any) {
	var text string
	switch ev := ev.(type) {
	case *log.EventEntryAdded:
		text = ev.Entry.Text
	case *runtime.EventConsoleAPICalled:
		for _, a := range ev.Args {
			text += string(a.Value) + " "
		}
	case *runtime.EventExceptionThrown:
		text = ev.ExceptionDetails.Text
	}
	if strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Content-Security-Policy") {
		p.mu.Lock()
		p.csp = append(p.csp, text)
		p.mu.Unlock()
	}
}

func (p *person) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.e.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.fail(what, err)
	}
}

// post fills a form of the page with fill, sends it and waits for the
// next page's confirmation of action (#done-<action>); a refusal fails the
// test with what the page says.
func (p *person) post(action, form string, fill ...chromedp.Action[chromedp.Void]) {
	p.e.t.Helper()
	// The page being left is marked, so that only the next page's
	// confirmation or refusal counts (this one may show a refusal already).
	p.run(action, append(fill,
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.left = "1"`),
		chromedp.Click(chromedp.CSS("#"+form+" button")),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-left]) #done-"+action+", body:not([data-left]) .refusal")),
	)...)
	if n := get(p, "look for a refusal", chromedp.Evaluate[int](`document.querySelectorAll(".refusal").length`)); n > 0 {
		p.e.t.Fatalf("%s (%s) was refused:\n%s", action, p.name, p.text())
	}
}

// fail stops the test with what the page shows; the page is read under a
// fresh deadline, since a failed step may have used up the person's.
func (p *person) fail(what string, err error) {
	p.e.t.Helper()
	ctx, cancel := context.WithTimeout(p.tab, 10*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	p.mu.Lock()
	csp := strings.Join(p.csp, "\n")
	p.mu.Unlock()
	p.e.t.Fatalf("%s (%s): %v\nat %s, CSP reports: %s\npage text:\n%s", what, p.name, err, url, csp, body)
}

func get[T any](p *person, what string, a chromedp.Action[T]) T {
	p.e.t.Helper()
	v, err := chromedp.Run(p.ctx, a)
	if err != nil {
		p.fail(what, err)
	}
	return v
}

// text is the page's visible text.
func (p *person) text() string {
	p.e.t.Helper()
	return get(p, "read the page", chromedp.Text(chromedp.CSS("body")))
}

// until reloads url until its text holds every want (the services work
// through the stream asynchronously); the test's deadline bounds it.
func (p *person) until(url string, want ...string) string {
	p.e.t.Helper()
	for {
		p.run("open "+url, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
		s := p.text()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return s
		}
		select {
		case <-p.ctx.Done():
			p.e.t.Fatalf("%s never showed %q; last text:\n%s", url, missing, s)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// check is what every page checked passes: the expected text, a screenshot
// that is not blank (kept under .build/artifacts), no serious or critical
// axe-core violation, and no CSP report.
func (p *person) check(name string, want ...string) {
	p.e.t.Helper()
	p.checkPage(name, true, want...)
}

// checkPage is check; axe false skips axe-core, for the report's own page:
// it is served sandboxed without script (its CSP), where axe cannot run.
func (p *person) checkPage(name string, axe bool, want ...string) {
	p.e.t.Helper()
	s := p.text()
	for _, w := range want {
		if !strings.Contains(s, w) {
			p.e.t.Errorf("%s: page lacks %q; text:\n%s", name, w, s)
		}
	}
	shot := get(p, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(p.e.shots, "console-"+name+".png")
	if err := os.WriteFile(path, shot, 0o600); err != nil {
		p.e.t.Fatal(err)
	}
	notBlank(p.e.t, name, shot)
	type violation struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  int    `json:"nodes"`
	}
	if !axe {
		p.e.t.Logf("%s: axe-core not run (sandboxed, no script)", name)
		p.reportCSP(name)
		return
	}
	p.run("inject axe-core into "+name, chromedp.Evaluate[chromedp.Void](p.e.axe))
	violations := get(p, "axe-core on "+name, chromedp.Evaluate[[]violation](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length})))`,
		chromedp.EvalAwaitPromise))
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			p.e.t.Errorf("%s: axe-core %s violation %s (%s) on %d element(s)", name, v.Impact, v.ID, v.Help, v.Nodes)
		} else {
			p.e.t.Logf("%s: axe-core %s: %s (%s)", name, v.Impact, v.ID, v.Help)
		}
	}
	p.reportCSP(name)
	p.e.t.Logf("%s: screenshot %s", name, path)
}

func (p *person) reportCSP(name string) {
	p.e.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.csp {
		p.e.t.Errorf("%s: CSP report: %s", name, c)
	}
	p.csp = nil
}

// notBlank fails unless the PNG shows a page: many pixels that are not the
// background, in more than a handful of colours.
func notBlank(t *testing.T, name string, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", name, err)
	}
	bounds := img.Bounds()
	bg := img.At(bounds.Max.X-1, bounds.Max.Y-1)
	colours := map[[3]uint32]bool{}
	other := 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			c := img.At(x, y)
			r, g, bl, _ := c.RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if c != bg {
				other++
			}
		}
	}
	total := (bounds.Dx() / 2) * (bounds.Dy() / 2)
	if len(colours) < 8 || other < total/100 {
		t.Errorf("%s: screenshot looks blank (%d colours, %d of %d sampled pixels differ from the background)", name, len(colours), other, total)
	}
}

func TestVendoredAxeMatchesItsChecksum(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sum, name, ok := strings.Cut(strings.TrimSpace(string(b)), "  ")
	if !ok || name != "axe.min.js" {
		t.Fatalf("SHA256SUMS: %q", b)
	}
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.Sum256(data)
	if hex.EncodeToString(got[:]) != sum {
		t.Errorf("axe.min.js: sha256 %x, recorded %s", got, sum)
	}
}

// submit hands intake a demand as the group member's own system would.
func (e *env) submit(key string, emergency bool) string {
	e.t.Helper()
	in := intakev1.NewIntakeServiceClient(e.proc.Dial(e.t, member))
	req := &intakev1.DataDisclosureRequest{
		ReceivedAt: timestamppb.New(time.Now().Add(-time.Hour)),
		Channel:    intakev1.Channel_CHANNEL_EMAIL,
		// The FBI: in the authority directory (a call back is possible),
		// and the US is not adequate for a public body (clause 4.2.1).
		Authority:      &intakev1.Authority{Name: "Federal Bureau of Investigation", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "US"},
		LegalProcess:   &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER, Reference: "SDNY 26-mj-0421"},
		Targets:        []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-" + key}},
		DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
		TimeRange:      &intakev1.TimeRange{From: timestamppb.New(time.Now().AddDate(0, 0, -7)), To: timestamppb.New(time.Now().Add(-2 * time.Hour))},
		StatedPurpose:  "kidnapping investigation",
	}
	if emergency {
		req.Emergency = &intakev1.Emergency{Claimed: true, HarmDescribed: "a child is missing and believed to be in danger"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: key, Request: req})
	if err != nil {
		e.t.Fatalf("Submit %s: %v", key, err)
	}
	return res.GetRequestId()
}

func value[E ~int32](v E) string { return fmt.Sprint(int32(v)) }

// Issue 23's "Must show": the whole review of an emergency request in the
// browser, each action the signed-in person's.
func TestConsole_ReviewOfAnEmergencyInTheBrowser(t *testing.T) {
	e := start(t)
	routine := e.submit("routine-1", false)
	emergency := e.submit("emergency-1", true)

	alice := e.signIn("alice")
	// The queue: the emergency first, although it came last.
	s := alice.until(e.console+"/queue", routine, emergency)
	first := get(alice, "first row", chromedp.Text(chromedp.CSS("table.queue tbody tr:first-child a.case-link")))
	if first != emergency {
		t.Fatalf("top of the queue is %s, want the emergency %s\n%s", first, emergency, s)
	}
	alice.check("queue", "Review queue", "emergency", emergency)
	// The filters answer through htmx (no eval, no injected styles: the
	// CSP would report either): emergencies only leaves the routine out.
	alice.run("filter the queue",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("queue").dataset.left = "1"`),
		chromedp.Click(chromedp.CSS(`input[name="emergency"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue:not([data-left]) a.case-link`)),
	)
	if q := get(alice, "the filtered queue", chromedp.Text(chromedp.ID("queue"))); strings.Contains(q, routine) || !strings.Contains(q, emergency) {
		t.Errorf("emergencies only: the queue shows\n%s", q)
	}
	if loc := get(alice, "the page's address", chromedp.Location()); !strings.Contains(loc, "emergency=1") {
		t.Errorf("the filter is not in the address (%s): a reload would lose it", loc)
	}
	alice.check("queue-emergencies", emergency)

	alice.run("open the emergency case",
		chromedp.Click(chromedp.CSS("table.queue tbody tr:first-child a.case-link")),
		chromedp.WaitVisible(chromedp.ID("decide-form")),
	)
	alice.post("claim", "claim-form")
	// Deciding before the review factors: refused with clause 3.3.
	disclose := []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.ID("decide-kind"), value(assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE)),
		chromedp.SetValue(chromedp.ID("decide-basis"), value(assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION)),
	}
	alice.run("decide before the factors", append(disclose,
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.left = "1"`),
		chromedp.Click(chromedp.CSS("#decide-form button")),
		chromedp.WaitVisible(chromedp.CSS("body:not([data-left]) .refusal")),
	)...)
	clause := get(alice, "read the refusal", chromedp.Text(chromedp.CSS(".refusal .clause-no")))
	if clause != "3.3" {
		t.Errorf("refusal names clause %q, want 3.3\n%s", clause, alice.text())
	}
	alice.check("case-refused-3.3", "Refused by the policy", "clause 3.3")

	// The call back through the directory (issue 18), the six factors, the
	// challenge consideration, then the disclosure.
	alice.post("verification", "verify-form",
		chromedp.SetValue(chromedp.ID("verify-outcome"), value(assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED)))
	var factors []chromedp.Action[chromedp.Void]
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		factors = append(factors, chromedp.SendKeys(chromedp.ID("factor-"+value(f)), "assessed in the browser: "+f.String()))
	}
	factors = append(factors, chromedp.SendKeys(chromedp.ID("rights"), "one subscriber record against a child's life; proportionate"))
	alice.post("factors", "factors-form", factors...)
	alice.post("challenge", "challenge-form", chromedp.SendKeys(chromedp.ID("reasoning"), "valid court order; no grounds to challenge"))
	alice.post("decision", "decide-form", disclose...)
	alice.check("case-proposed", "pending approval", "Your own decision needs another person's approval")

	// Bob approves: four eyes see two people.
	bob := e.signIn("bob")
	bob.run("open the case", chromedp.Navigate(e.console+"/cases/"+emergency), chromedp.WaitVisible(chromedp.ID("approve-form")))
	bob.post("approval", "approve-form")
	bob.check("case-approved", "approved", "spiffe://ddr.local/staff/bob")

	// The plan: held for a country that is not adequate.
	bob.until(e.console+"/plans/"+emergency, "on hold", "4.2.1", "US")
	bob.check("plan", "Holds", "4.2.1", "on hold")

	// The hold lifts on the lead DPA's answer, each step two people's on
	// the plan page: alice records that the packet went out by hand and
	// bob confirms it; alice records the DPA's no-objection and bob
	// confirms it (clauses 2.2, 4.2.1).
	plan := e.console + "/plans/" + emergency
	alice.run("open the plan", chromedp.Navigate(plan), chromedp.WaitVisible(chromedp.ID("dpa-form")))
	lead := get(alice, "the lead DPA", chromedp.Evaluate[string](`document.querySelector("#plan-authorities option").value`))
	alice.post("dispatch", "dispatch-form",
		chromedp.SendKeys(chromedp.ID("dispatch-authority"), lead),
		chromedp.SetValue(chromedp.ID("dispatch-means"), value(notificationv1.DispatchMeans_DISPATCH_MEANS_PORTAL)),
		chromedp.SendKeys(chromedp.ID("dispatch-reference"), "PORTAL-4471"))
	bob.run("open the plan", chromedp.Navigate(plan), chromedp.WaitVisible(chromedp.ID("confirm-lift-0")))
	bob.post("confirm", "confirm-lift-0")
	alice.run("open the plan again", chromedp.Navigate(plan), chromedp.WaitVisible(chromedp.ID("dpa-form")))
	alice.post("dpa", "dpa-form",
		chromedp.SendKeys(chromedp.ID("dpa-authority"), lead),
		chromedp.SetValue(chromedp.ID("dpa-outcome"), value(notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_NO_OBJECTION)),
		chromedp.SendKeys(chromedp.ID("dpa-summary"), "no objection to the disclosure"),
		chromedp.SendKeys(chromedp.ID("dpa-reference"), "DPA-2026-118"),
		chromedp.SetValue(chromedp.ID("dpa-date"), time.Now().UTC().Format("2006-01-02")))
	alice.check("plan-dpa-recorded", "The DPA's answer is recorded", "needs someone else")
	bob.run("open the plan", chromedp.Navigate(plan), chromedp.WaitVisible(chromedp.ID("confirm-lift-0")))
	bob.post("confirm", "confirm-lift-0")
	bob.until(plan, "Not on hold")
	if st := get(bob, "the plan's status", chromedp.Text(chromedp.ID("plan-status"))); st != "cleared" {
		t.Errorf("after the DPA's confirmed answer the plan is %q, want cleared", st)
	}
	bob.check("plan-hold-lifted", "Not on hold", lead)

	// The record: the verified chain.
	alice.until(e.console+"/records/"+emergency, "Verified", "AssessmentDecided", "HoldPlaced")
	alice.check("record", "Verified", "Timeline")

	// The case file for legal: one JSON file with every part.
	file := get(alice, "fetch the case file", chromedp.Evaluate[string](`fetch("/cases/`+emergency+`/export").then(r => r.text())`, chromedp.EvalAwaitPromise))
	var parts map[string]json.RawMessage
	if err := json.Unmarshal([]byte(file), &parts); err != nil {
		t.Fatalf("case file: %v\n%s", err, file)
	}
	for _, k := range []string{"request", "case", "plan", "record", "verification"} {
		if len(parts[k]) == 0 || bytes.Contains(parts[k], []byte(`"unavailable"`)) {
			t.Errorf("case file: part %s is %s", k, parts[k])
		}
	}

	// The transparency report with its charts.
	alice.run("report", chromedp.Navigate(e.console+"/report"), chromedp.WaitVisible(chromedp.CSS("#report-frame")))
	alice.check("report", "Transparency report", "Requests counted")
	src := get(alice, "the report's frame", chromedp.Evaluate[string](`document.getElementById("report-frame").getAttribute("src")`))
	alice.run("the report on its own page", chromedp.Navigate(e.console+src), chromedp.WaitVisible(chromedp.CSS("svg")))
	charts := get(alice, "count the charts", chromedp.Evaluate[int](`document.querySelectorAll("svg").length`))
	if charts == 0 {
		t.Error("the report shows no chart")
	}
	_, period, _ := strings.Cut(src, "period=")
	alice.checkPage("report-view", false, "Transparency report", period)
}

// Clauses 3.1 and 3.2: reception takes a demand by phone and records it
// through the console, signed in as the group member's desk.
func TestClause3_1_IntakeByHandInTheBrowser(t *testing.T) {
	e := start(t)
	desk := e.signIn("reception-acme-eu")
	desk.run("open the form", chromedp.Navigate(e.console+"/intake"), chromedp.WaitVisible(chromedp.ID("intake-form")))
	desk.check("intake", "Record a demand", "Targets, one per line")
	desk.run("fill and send",
		chromedp.SetValue(chromedp.ID("channel"), value(intakev1.Channel_CHANNEL_PHONE)),
		chromedp.SendKeys(chromedp.ID("authority_name"), "Polizei Berlin"),
		chromedp.SetValue(chromedp.ID("authority_kind"), value(intakev1.AuthorityKind_AUTHORITY_KIND_POLICE)),
		chromedp.SendKeys(chromedp.ID("authority_country"), "DE"),
		chromedp.SetValue(chromedp.ID("process_type"), value(intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER)),
		chromedp.SendKeys(chromedp.ID("process_reference"), "AG Tiergarten 77/26"),
		chromedp.SendKeys(chromedp.ID("targets"), "acct-by-phone-1"),
		chromedp.Click(chromedp.CSS(`input[name="category"][value="`+value(intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER)+`"]`)),
		chromedp.SendKeys(chromedp.ID("purpose"), "fraud investigation"),
		chromedp.Click(chromedp.CSS("#intake-form button")),
		chromedp.WaitVisible(chromedp.CSS("#submitted, .refusal")),
	)
	if n := get(desk, "look for a refusal", chromedp.Evaluate[int](`document.querySelectorAll(".refusal").length`)); n > 0 {
		t.Fatalf("the demand was refused:\n%s", desk.text())
	}
	id := get(desk, "the request id", chromedp.Text(chromedp.CSS("#submitted strong")))
	desk.check("intake-recorded", "Recorded as request", id)

	// It is the group member's request, as if its own system had sent it.
	in := intakev1.NewIntakeServiceClient(e.proc.Dial(t, member))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
	if err != nil {
		t.Fatalf("the group member cannot see the request it recorded by hand: %v", err)
	}
	if r.GetRequest().GetRequestId() != id {
		t.Errorf("Get answered %s, want %s", r.GetRequest().GetRequestId(), id)
	}
}
