// Package web is the Privacy Team console: the review of government data
// requests in a browser. It is a gRPC client of the four services and holds
// no state of its own beyond sign-in sessions; every action is the signed-in
// person's, because the person's OpenID Connect ID token goes with each
// call (metadata "authorization: Bearer ...") over the console's own mTLS
// certificate, and the services check both. So four eyes and the roles file
// apply to people, and the console cannot act for someone who has not
// signed in.
//
// Pages are rendered on the server (html/template); htmx, vendored and
// embedded, only makes the queue's filters and claims quicker. Every page
// works without JavaScript.
package web

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/pki"
)

// Identity is the console's own certificate name in the PKI directory.
const Identity = "service/console"

// Config of the console.
type Config struct {
	// IntakeAddr, AssessmentAddr, NotificationAddr and ReportingAddr are
	// each a gRPC target or a comma list of replicas.
	IntakeAddr, AssessmentAddr, NotificationAddr, ReportingAddr string
	// PKIDir holds the CA and the console's certificate (service/console).
	PKIDir string
	// TLS replaces the configuration read from PKIDir (tests).
	TLS *tls.Config
	// OIDCIssuer is the OpenID provider's issuer URL; OIDCClientID the
	// console's client id there (the services' expected audience).
	OIDCIssuer, OIDCClientID string
	// PublicURL is where people reach the console, e.g.
	// http://127.0.0.1:7700. Its scheme decides whether cookies are Secure;
	// the OIDC redirect is PublicURL + /auth/callback.
	PublicURL string
	// SessionTTL bounds a session (never beyond the ID token's expiry).
	// If not set, 8 hours.
	SessionTTL time.Duration
	// CallTimeout bounds each page's calls. If not set, 15 seconds.
	CallTimeout time.Duration
	// HTTPClient reaches the OpenID provider; nil: http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives the access log (method, route, status; no query,
	// no form values) and failures; nil: discard.
	Logger *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Console is the console's handler. Close releases its connections.
type Console struct {
	cfg        Config
	mux        *http.ServeMux
	store      *store
	oidc       *signIn
	secure     bool
	origin     string
	sessionTTL time.Duration
	timeout    time.Duration
	log        *slog.Logger
	now        func() time.Time
	tmpl       templates

	intake       intakev1.IntakeServiceClient
	assessment   assessmentv1.AssessmentServiceClient
	verification assessmentv1.VerificationServiceClient
	notification notificationv1.NotificationServiceClient
	reporting    reportingv1.ReportingServiceClient
	conns        []*grpc.ClientConn
}

//go:embed static
var staticFS embed.FS

// New returns the console's handler. It dials nothing yet: a service that
// is down shows on the page that needs it.
func New(cfg Config) (http.Handler, error) {
	if cfg.OIDCIssuer == "" || cfg.OIDCClientID == "" {
		return nil, errors.New("web: the OIDC issuer and client id are required")
	}
	pub, err := url.Parse(cfg.PublicURL)
	if err != nil || (pub.Scheme != "http" && pub.Scheme != "https") || pub.Host == "" {
		return nil, fmt.Errorf("web: public URL %q: want http(s)://host[:port]", cfg.PublicURL)
	}
	c := &Console{
		cfg:        cfg,
		mux:        http.NewServeMux(),
		store:      newStore(),
		secure:     pub.Scheme == "https",
		origin:     pub.Scheme + "://" + pub.Host,
		sessionTTL: cfg.SessionTTL,
		timeout:    cfg.CallTimeout,
		log:        cfg.Logger,
		now:        cfg.Now,
	}
	c.oidc = &signIn{issuer: cfg.OIDCIssuer, clientID: cfg.OIDCClientID, redirect: c.origin + "/auth/callback", client: cfg.HTTPClient}
	if c.sessionTTL <= 0 {
		c.sessionTTL = 8 * time.Hour
	}
	if c.timeout <= 0 {
		c.timeout = 15 * time.Second
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.tmpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	if err := c.dial(); err != nil {
		_ = c.Close() // the dial error is the one to report
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) dial() error {
	tlsCfg := c.cfg.TLS
	if tlsCfg == nil {
		if c.cfg.PKIDir == "" {
			return errors.New("web: a PKI directory (the console's certificate) is required")
		}
		var err error
		if tlsCfg, err = pki.Dir(c.cfg.PKIDir).Files(Identity).ClientTLS(); err != nil {
			return fmt.Errorf("web: the console's certificate: %w", err)
		}
	}
	conn := func(addr string) (*grpc.ClientConn, error) {
		cc, err := grpcclient.Dial(addr, grpcclient.WithTLS(tlsCfg))
		if err != nil {
			return nil, err
		}
		c.conns = append(c.conns, cc)
		return cc, nil
	}
	for _, s := range []struct {
		addr *string
		set  func(*grpc.ClientConn)
	}{
		{&c.cfg.IntakeAddr, func(cc *grpc.ClientConn) { c.intake = intakev1.NewIntakeServiceClient(cc) }},
		{&c.cfg.AssessmentAddr, func(cc *grpc.ClientConn) {
			c.assessment = assessmentv1.NewAssessmentServiceClient(cc)
			c.verification = assessmentv1.NewVerificationServiceClient(cc)
		}},
		{&c.cfg.NotificationAddr, func(cc *grpc.ClientConn) { c.notification = notificationv1.NewNotificationServiceClient(cc) }},
		{&c.cfg.ReportingAddr, func(cc *grpc.ClientConn) { c.reporting = reportingv1.NewReportingServiceClient(cc) }},
	} {
		if *s.addr == "" {
			return errors.New("web: every service address is required")
		}
		cc, err := conn(*s.addr)
		if err != nil {
			return err
		}
		s.set(cc)
	}
	return nil
}

// Close closes the connections to the services.
func (c *Console) Close() error {
	var errs []error
	for _, cc := range c.conns {
		errs = append(errs, cc.Close())
	}
	return errors.Join(errs...)
}

// ServeHTTP sets the headers every answer carries, then routes.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := c.now()
	h := w.Header()
	// No inline script or style anywhere: htmx is configured by a meta
	// tag, with eval and its injected indicator styles off.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on the console's own form posts, and the origin check
	// below needs the real one. Other sites still get no referrer.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if c.secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	c.mux.ServeHTTP(rw, r)
	// The route pattern, not the URL: no query string, nothing typed into
	// a form reaches the log.
	c.log.Info("http", "method", r.Method, "route", r.Pattern, "status", rw.status, "ms", c.now().Sub(start).Milliseconds())
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})))
	c.mux.HandleFunc("GET /auth/login", c.handleLogin)
	c.mux.HandleFunc("GET /auth/callback", c.handleCallback)
	c.mux.HandleFunc("POST /auth/logout", c.handleLogout)
	c.mux.HandleFunc("GET /signed-out", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusOK, "signedout", &view{Title: "Signed out"})
	})
	c.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/queue", http.StatusSeeOther)
	})
	// Everything else is for signed-in people only, so every route goes
	// through authed in one place: these pages and forms, and the action
	// tables of the case, plan and record pages (see register).
	for _, rt := range []struct {
		pattern string
		h       func(http.ResponseWriter, *http.Request, *session)
	}{
		{"GET /queue", c.queuePage},
		{"POST /cases/{id}/claim", c.claim},
		{"GET /cases/{id}", c.casePage},
		{"POST /cases/{id}/reveal", c.reveal},
		{"POST /cases/{id}/factors", c.factors},
		{"POST /cases/{id}/counsel", c.counsel},
		{"POST /cases/{id}/challenge", c.challenge},
		{"POST /cases/{id}/verify", c.verify},
		{"POST /cases/{id}/decide", c.decide},
		{"POST /cases/{id}/approve", c.approve},
		{"POST /cases/{id}/reject", c.rejectDecision},
		{"GET /cases/{id}/export", c.export},
		{"GET /plans/{id}", c.planPage},
		{"POST /plans/{id}/confirm", c.confirmLift},
		{"GET /records/{id}", c.recordPage},
		{"GET /report", c.reportPage},
		{"GET /report/view", c.reportView},
		{"GET /report/export", c.reportExport},
		{"POST /report/publish", c.publish},
		{"GET /intake", c.intakePage},
		{"POST /intake", c.submit},
	} {
		c.mux.HandleFunc(rt.pattern, c.authed(rt.h))
	}
	c.caseActions()
	c.planActions()
	c.recordActions()
}

// authed admits only a signed-in person: without a session a page
// redirects to sign-in, and no service is called. Every POST must carry
// the session's CSRF token and, when the browser says where it comes
// from, the console's own origin.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Every page below shows what people asked for, or about whom:
		// none of it is kept by the browser or a proxy.
		w.Header().Set("Cache-Control", "no-store")
		ss := c.sessionOf(r)
		if ss == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/auth/login", http.StatusSeeOther)
				return
			}
			c.renderError(w, r, http.StatusUnauthorized, "Your session has ended. Please sign in again.")
			return
		}
		if r.Method == http.MethodPost {
			if o := r.Header.Get("Origin"); (o != "" && o != c.origin) || !sameOriginFetch(r) {
				c.renderError(w, r, http.StatusForbidden, "This form was not sent from the console.")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := r.ParseForm(); err != nil || !ss.validCSRF(r.PostForm.Get("csrf")) {
				c.renderError(w, r, http.StatusForbidden, "The form has expired. Reload the page and try again.")
				return
			}
		}
		h(w, r, ss)
	}
}

// sameOriginFetch is false when the browser says the request came from
// another site or origin (Sec-Fetch-Site); older browsers send nothing.
func sameOriginFetch(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

func (c *Console) sessionOf(r *http.Request) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	return c.store.get(ck.Value, c.now())
}

// call bounds a page's calls and sends the person's ID token with them.
func (c *Console) call(r *http.Request, ss *session) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), c.timeout)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+ss.idToken), cancel
}

type ctxT = context.Context

func nowPB(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// onRequest resolves the request the route names and a context for the
// person's calls on it (the caller defers cancel); ok is false when the
// route names none, and the 404 page has been written.
func (c *Console) onRequest(w http.ResponseWriter, r *http.Request, ss *session) (id string, ctx context.Context, cancel context.CancelFunc, ok bool) {
	id, ok = requestID(r)
	if !ok {
		c.renderError(w, r, http.StatusNotFound, "No such request.")
		return "", nil, nil, false
	}
	ctx, cancel = c.call(r, ss)
	return id, ctx, cancel, true
}

// requestID is the {id} of the route, refused unless it looks like an id,
// so nothing else is ever echoed into a page or a call.
func requestID(r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if id == "" || len(id) > 64 || strings.Trim(id, "0123456789abcdefABCDEF-") != "" {
		return "", false
	}
	return id, true
}
