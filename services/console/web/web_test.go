package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	commonv1 "github.com/ddrsuite/ddr/gen/ddr/common/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
	"github.com/ddrsuite/ddr/services/platform/pki"
)

// services is a gRPC server on loopback standing in for the suite in these
// tests of the web layer: it records who called with which token and
// answers as the real services would (the browser test runs the real
// suite). It serves intake and assessment; the console dials all four
// addresses to it.
type services struct {
	assessmentv1.UnimplementedAssessmentServiceServer
	intakev1.UnimplementedIntakeServiceServer
	notificationv1.UnimplementedNotificationServiceServer
	reportingv1.UnimplementedReportingServiceServer

	mu     sync.Mutex
	tokens []string
	// last is each method's last request and the token it came with;
	// refuse names the methods refused with a policy clause.
	last   map[string]seen
	refuse map[string]string
}

type seen struct {
	req   proto.Message
	token string
}

// got records an action's call and answers with the refusal set for its
// method, if any.
func (s *services) got(ctx context.Context, req proto.Message) error {
	s.saw(ctx)
	md, _ := metadata.FromIncomingContext(ctx)
	m, _ := grpc.Method(ctx)
	m = m[strings.LastIndex(m, "/")+1:]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]seen{}
	}
	s.last[m] = seen{req, strings.Join(md.Get("authorization"), ",")}
	if clause, ok := s.refuse[m]; ok {
		return policyRefusal(clause, "REFUSED_IN_TEST", "refused by clause "+clause+" in this test")
	}
	return nil
}

func (s *services) refuseWith(method, clause string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse == nil {
		s.refuse = map[string]string{}
	}
	s.refuse[method] = clause
}

func (s *services) lastCall(t *testing.T, method string) proto.Message {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.last[method]
	if !ok {
		t.Fatalf("%s was not called", method)
	}
	if c.token != "Bearer id-token-of-alice" {
		t.Errorf("%s carried authorization %q, want the person's ID token", method, c.token)
	}
	return c.req
}

// policyRefusal is a FAILED_PRECONDITION naming a clause, in the wire
// form of grpcstatus, as the services refuse.
func policyRefusal(clause, reason, explanation string) error {
	st, err := status.New(codes.FailedPrecondition, "refused by clause "+clause).WithDetails(
		&errdetails.ErrorInfo{Domain: grpcstatus.ErrorDomain, Reason: reason, Metadata: map[string]string{grpcstatus.ClauseMetadataKey: clause}},
		&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
			Type: grpcstatus.PolicyViolationType, Subject: grpcstatus.ClauseSubjectPrefix + clause, Description: explanation,
		}}},
	)
	if err != nil {
		return err
	}
	return st.Err()
}

func (s *services) saw(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = append(s.tokens, strings.Join(md.Get("authorization"), ","))
}

func (s *services) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}

const caseID = "0193c0de-0000-7000-8000-000000000001"

func theCase() *assessmentv1.Case {
	return &assessmentv1.Case{
		RequestId: caseID, Status: assessmentv1.CaseStatus_CASE_STATUS_IN_REVIEW, Emergency: true,
		ReviewDueTime: timestamppb.New(time.Now().Add(-time.Hour)), Overdue: true,
		Flags: []*assessmentv1.Flag{{Code: assessmentv1.FlagCode(1), Clause: "3.2", Explanation: "an emergency claim"}},
		// What the case page's confirmations need: a withdrawal not yet
		// acknowledged, a challenge outcome and a correction awaiting a
		// second person.
		WithdrawTime: timestamppb.New(time.Now().Add(-time.Minute)),
		Review: &assessmentv1.Review{Challenge: &assessmentv1.ChallengeConsideration{
			Considered: true, Warranted: true, Outcome: assessmentv1.ChallengeOutcome_CHALLENGE_OUTCOME_UPHELD,
			OutcomeLift: &commonv1.Lift{Id: "challenge/1", RecordedBy: "spiffe://ddr.local/staff/bob"},
		}},
		Corrections: []*assessmentv1.FactCorrectionRecord{{
			Correction: &assessmentv1.FactCorrection{CorrectionId: "corr-1"}, Reason: "the country was wrong", ProposedBy: "spiffe://ddr.local/staff/bob",
		}},
	}
}

func (s *services) ListCases(ctx context.Context, _ *assessmentv1.ListCasesRequest) (*assessmentv1.ListCasesResponse, error) {
	s.saw(ctx)
	return &assessmentv1.ListCasesResponse{Cases: []*assessmentv1.Case{theCase()}}, nil
}

func (s *services) GetCase(ctx context.Context, _ *assessmentv1.GetCaseRequest) (*assessmentv1.GetCaseResponse, error) {
	s.saw(ctx)
	return &assessmentv1.GetCaseResponse{Case: theCase()}, nil
}

func (s *services) GetRequestForReview(ctx context.Context, _ *intakev1.GetRequestForReviewRequest) (*intakev1.GetRequestForReviewResponse, error) {
	s.saw(ctx)
	return nil, status.Error(codes.NotFound, "no such request")
}

// Decide refuses as assessment does before the review factors: a
// FAILED_PRECONDITION naming clause 3.3, in the wire form of grpcstatus.
func (s *services) Decide(ctx context.Context, _ *assessmentv1.DecideRequest) (*assessmentv1.DecideResponse, error) {
	s.saw(ctx)
	return nil, policyRefusal("3.3", "REVIEW_INCOMPLETE", "the six review factors must be recorded before a decision")
}

type fixture struct {
	c    *Console
	svc  *services
	logs *bytes.Buffer
	now  time.Time
	mu   sync.Mutex
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func newFixture(t *testing.T, publicURL string) *fixture {
	t.Helper()
	ca, err := pki.NewCA("test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tlsOf := func(uri string, hosts ...string) tls.Certificate {
		leaf, err := ca.Issue(uri, time.Hour, hosts...)
		if err != nil {
			t.Fatal(err)
		}
		c, err := leaf.TLS()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	svc := &services{}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(pki.ServerConfig(ca.Pool(), tlsOf("spiffe://ddr.local/service/all", "127.0.0.1")))))
	assessmentv1.RegisterAssessmentServiceServer(srv, svc)
	intakev1.RegisterIntakeServiceServer(srv, svc)
	notificationv1.RegisterNotificationServiceServer(srv, svc)
	reportingv1.RegisterReportingServiceServer(srv, svc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)

	f := &fixture{svc: svc, logs: &bytes.Buffer{}, now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	addr := ln.Addr().String()
	h, err := New(Config{
		IntakeAddr: addr, AssessmentAddr: addr, NotificationAddr: addr, ReportingAddr: addr,
		TLS:        pki.ClientConfig(ca.Pool(), tlsOf("spiffe://ddr.local/"+Identity)),
		OIDCIssuer: "http://127.0.0.1:1", OIDCClientID: "ddr-console",
		PublicURL: publicURL,
		Logger:    slog.New(slog.NewTextHandler(f.logs, nil)),
		Now:       f.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.c = h.(*Console)
	t.Cleanup(func() { _ = f.c.Close() })
	return f
}

// signIn makes a session as a completed sign-in would.
func (f *fixture) signIn(ttl time.Duration) *session {
	return f.c.store.newSession("alice", "alice", "id-token-of-alice", f.clock().Add(ttl))
}

func (f *fixture) do(method, target string, ss *session, form url.Values) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if ss != nil {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: ss.id})
	}
	w := httptest.NewRecorder()
	f.c.ServeHTTP(w, r)
	return w
}

func TestWithoutSessionNoServiceIsCalled(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:7700")
	if w := f.do("GET", "/queue", nil, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/auth/login" {
		t.Errorf("GET /queue without a session: %d %q, want a redirect to sign-in", w.Code, w.Header().Get("Location"))
	}
	forged := &session{id: "not-a-session"}
	if w := f.do("POST", "/cases/"+caseID+"/decide", forged, url.Values{"csrf": {"x"}, "kind": {"1"}}); w.Code != http.StatusUnauthorized {
		t.Errorf("POST with an unknown session: %d, want 401", w.Code)
	}
	if got := f.svc.calls(); len(got) != 0 {
		t.Errorf("the services were called %d times without a signed-in person", len(got))
	}
}

func TestEveryCallCarriesThePersonsIDToken(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:7700")
	ss := f.signIn(time.Hour)
	w := f.do("GET", "/queue", ss, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /queue: %d\n%s", w.Code, w.Body)
	}
	if !strings.Contains(w.Body.String(), caseID) || !strings.Contains(w.Body.String(), "overdue") {
		t.Errorf("queue lacks the case or its overdue mark:\n%s", w.Body)
	}
	calls := f.svc.calls()
	if len(calls) == 0 {
		t.Fatal("no call reached the services")
	}
	for _, tok := range calls {
		if tok != "Bearer id-token-of-alice" {
			t.Errorf("call carried authorization %q, want the person's ID token", tok)
		}
	}
}

func TestPOSTWithoutTheSessionsCSRFTokenIsRefused(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:7700")
	ss := f.signIn(time.Hour)
	other := f.signIn(time.Hour)
	for name, form := range map[string]url.Values{
		"no token":                  {"kind": {"1"}},
		"another session's token":   {"kind": {"1"}, "csrf": {other.csrf}},
		"a token that is not valid": {"kind": {"1"}, "csrf": {"x" + ss.csrf}},
	} {
		if w := f.do("POST", "/cases/"+caseID+"/decide", ss, form); w.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, w.Code)
		}
	}
	if got := f.svc.calls(); len(got) != 0 {
		t.Errorf("a POST without the CSRF token reached the services (%d calls)", len(got))
	}
	// From another origin, even with the token.
	r := httptest.NewRequest("POST", "/cases/"+caseID+"/decide", strings.NewReader(url.Values{"csrf": {ss.csrf}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://evil.example")
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: ss.id})
	w := httptest.NewRecorder()
	f.c.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d, want 403", w.Code)
	}
	// A browser that names no origin but says the request is cross-site.
	r = httptest.NewRequest("POST", "/cases/"+caseID+"/decide", strings.NewReader(url.Values{"csrf": {ss.csrf}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: ss.id})
	w = httptest.NewRecorder()
	f.c.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", w.Code)
	}
}

func TestClause3_3_RefusalShowsTheClauseAndExplanation(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:7700")
	ss := f.signIn(time.Hour)
	w := f.do("POST", "/cases/"+caseID+"/decide", ss, url.Values{"csrf": {ss.csrf}, "kind": {"1"}, "basis": {"1"}})
	if w.Code != http.StatusConflict {
		t.Fatalf("refused decision: %d, want 409", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{"clause 3.3", "REVIEW_INCOMPLETE", "the six review factors must be recorded before a decision", `role="alert"`} {
		if !strings.Contains(body, want) {
			t.Errorf("refusal page lacks %q", want)
		}
	}
	// The request part's own answer (not found here) is shown in place.
	if !strings.Contains(body, "Not found") {
		t.Error("the request section does not say it was not found")
	}
}

func TestSessionExpires(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:7700")
	ss := f.signIn(30 * time.Minute)
	if w := f.do("GET", "/queue", ss, nil); w.Code != http.StatusOK {
		t.Fatalf("fresh session: %d", w.Code)
	}
	before := len(f.svc.calls())
	f.advance(30 * time.Minute)
	if w := f.do("GET", "/queue", ss, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/auth/login" {
		t.Errorf("expired session: %d %q, want a redirect to sign-in", w.Code, w.Header().Get("Location"))
	}
	if w := f.do("POST", "/cases/"+caseID+"/decide", ss, url.Values{"csrf": {ss.csrf}}); w.Code != http.StatusUnauthorized {
		t.Errorf("POST on an expired session: %d, want 401", w.Code)
	}
	if after := len(f.svc.calls()); after != before {
		t.Errorf("an expired session reached the services (%d calls)", after-before)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:7700")
	ss := f.signIn(time.Hour)
	page := f.do("GET", "/queue", ss, nil)
	static := f.do("GET", "/static/htmx.min.js", nil, nil)
	if static.Code != http.StatusOK || static.Body.Len() < 10000 {
		t.Fatalf("htmx: %d, %d bytes", static.Code, static.Body.Len())
	}
	for name, w := range map[string]*httptest.ResponseRecorder{"page": page, "static": static} {
		csp := w.Header().Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", name, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline or eval: %q", name, csp)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", name)
		}
	}
	if cc := page.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("page with personal data: Cache-Control %q, want no-store", cc)
	}
	body := page.Body.String()
	if !strings.Contains(body, `"includeIndicatorStyles":false`) || !strings.Contains(body, `"allowEval":false`) {
		t.Error("htmx is not configured without indicator styles and eval")
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") || strings.Contains(body, " on") && strings.Contains(body, "onclick") {
		t.Error("the page has inline script or style")
	}
}

func TestCookiesAreHttpOnlyStrictAndSecureOverHTTPS(t *testing.T) {
	for _, tc := range []struct {
		url    string
		secure bool
	}{{"http://127.0.0.1:7700", false}, {"https://console.example", true}} {
		f := newFixture(t, tc.url)
		w := httptest.NewRecorder()
		f.c.setCookie(w, sessionCookie, "id", http.SameSiteStrictMode, f.clock().Add(time.Hour))
		ck := w.Result().Cookies()[0]
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure != tc.secure || ck.Path != "/" {
			t.Errorf("%s: cookie %+v", tc.url, ck)
		}
	}
}

func TestLogsHoldNoPersonalData(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:7700")
	ss := f.signIn(time.Hour)
	f.do("POST", "/intake", ss, url.Values{"csrf": {ss.csrf}, "targets": {"subject-acct-4711"}, "authority_name": {"Polizei"}, "harm": {"a named person at risk"}})
	f.do("GET", "/queue?status=1&assignee=subject-acct-4711", ss, nil)
	logs := f.logs.String()
	if !strings.Contains(logs, "route=") {
		t.Fatalf("no access log:\n%s", logs)
	}
	for _, pd := range []string{"subject-acct-4711", "named person", "id-token-of-alice", ss.id, ss.csrf} {
		if strings.Contains(logs, pd) {
			t.Errorf("log holds %q:\n%s", pd, logs)
		}
	}
}

// The vendored scripts are the ones whose checksums were recorded when
// they were taken from npm.
func TestVendoredFilesMatchTheirChecksums(t *testing.T) {
	checkSums(t, filepath.Join("static", "SHA256SUMS"))
}

func checkSums(t *testing.T, sums string) {
	t.Helper()
	b, err := os.ReadFile(sums)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		sum, name, ok := strings.Cut(strings.TrimSpace(line), "  ")
		if !ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(filepath.Dir(sums), name))
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s: sha256 %x, recorded %s", name, got, sum)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("%s lists no file", sums)
	}
}
