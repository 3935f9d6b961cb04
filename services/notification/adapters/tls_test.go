package adapters_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/adapters"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/internal/smtptest"
)

// pinnedResolver answers every name with one address. It stands in for a
// DNS answer the test cannot get for real (only loopback is reachable
// here): a name such as localhost that resolves to a public address.
type pinnedResolver netip.Addr

func (r pinnedResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.Addr(r)}, nil
}

var public = pinnedResolver(netip.MustParseAddr("192.0.2.10")) // TEST-NET-1

func notice() app.Message {
	return app.Message{DeliveryID: "dl-1", RequestID: "req-1", Kind: app.KindCustomerNotice,
		From: "privacy@corp.example", To: "legal@cust.example", Subject: "Data disclosure request", Body: "details"}
}

// Every delivery checks the rule before it connects: an SMTP server
// without TLS whose name resolves to a non-loopback address is refused and
// nothing is sent, though a server listens on the loopback port. The same
// sender with the system resolver (localhost is loopback) delivers, so the
// refusal is the check's and not a dead server's.
func TestClause4_1_2_DeliveryRefusesPlaintextSMTPToANonLoopbackAddress(t *testing.T) {
	srv, err := smtptest.Start() // plaintext, on 127.0.0.1
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Down)
	_, port, _ := net.SplitHostPort(srv.Addr())
	s := &adapters.SMTP{Addr: net.JoinHostPort("localhost", port), TLSMode: app.SMTPTLSNone, Resolver: public, Timeout: 10 * time.Second}
	if err := s.Check(); err != nil {
		t.Fatalf("localhost without TLS refused as written: %v", err)
	}
	_, err = s.SendEmail(t.Context(), notice())
	var se *app.SendError
	if !errors.Is(err, app.ErrPlaintext) || !errors.As(err, &se) || !strings.HasPrefix(se.Reason, "smtp: refused") {
		t.Fatalf("SendEmail = %v, want a refusal by the TLS rule", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages sent despite the refusal", n)
	}

	s.Resolver = nil
	if _, err := s.SendEmail(t.Context(), notice()); err != nil {
		t.Fatalf("to loopback: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("to loopback: %d messages, want 1", n)
	}
}

// A sender built around the configuration check (an address literal, no
// TLS) is refused at delivery as well, before any connection.
func TestClause4_1_2_DeliveryRefusesPlaintextSMTPToAPublicAddressLiteral(t *testing.T) {
	s := &adapters.SMTP{Addr: "192.0.2.10:25", TLSMode: app.SMTPTLSNone, Timeout: 10 * time.Second}
	if err := s.Check(); !errors.Is(err, app.ErrPlaintext) {
		t.Fatalf("Check = %v, want ErrPlaintext", err)
	}
	if _, err := s.SendEmail(t.Context(), notice()); !errors.Is(err, app.ErrPlaintext) {
		t.Fatalf("SendEmail = %v, want ErrPlaintext before connecting", err)
	}
}

// STARTTLS is required, not hoped for: in starttls mode (auto's choice for
// any server not on loopback) a server that does not offer it gets nothing.
func TestClause4_1_2_STARTTLSRequiredWhenServerDoesNotOfferIt(t *testing.T) {
	srv, err := smtptest.Start() // no STARTTLS
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Down)
	s := &adapters.SMTP{Addr: srv.Addr(), TLSMode: app.SMTPTLSStartTLS, Timeout: 10 * time.Second}
	if _, err := s.SendEmail(t.Context(), notice()); err == nil {
		t.Fatal("sent without STARTTLS in starttls mode")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages sent without TLS", n)
	}
}

// Verification is on: a server whose certificate the sender's roots do not
// know (the system roots do not hold the development CA) gets nothing.
func TestClause4_1_2_UnverifiedSMTPServerGetsNothing(t *testing.T) {
	cfg, roots, _, err := smtptest.DevTLS()
	if err != nil {
		t.Fatal(err)
	}
	for _, implicit := range []bool{false, true} {
		srv, err := smtptest.StartWith(smtptest.Options{TLS: cfg, Implicit: implicit})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Down)
		mode := app.SMTPTLSStartTLS
		if implicit {
			mode = app.SMTPTLSImplicit
		}
		s := &adapters.SMTP{Addr: srv.Addr(), TLSMode: mode, Timeout: 10 * time.Second}
		if _, err := s.SendEmail(t.Context(), notice()); err == nil {
			t.Errorf("%s: sent to a server the system roots do not verify", mode)
		}
		s.RootCAs = roots
		receipt, err := s.SendEmail(t.Context(), notice())
		if err != nil {
			t.Fatalf("%s with the development CA: %v", mode, err)
		}
		msgs := srv.Messages()
		if len(msgs) != 1 || !msgs[0].TLS || !strings.HasPrefix(receipt, "250 ") || !strings.Contains(receipt, "queued as Q1") {
			t.Errorf("%s: %d messages (TLS %v), receipt %q; want 1 over TLS and the server's queue id", mode, len(msgs), len(msgs) == 1 && msgs[0].TLS, receipt)
		}
	}
}

// Webhooks: an http:// endpoint whose name resolves to a non-loopback
// address is refused before connecting, and so is a redirect from https
// to http:// elsewhere; with the system resolver the same loopback
// endpoint is reached.
func TestClause4_1_2_DeliveryRefusesPlaintextWebhookToANonLoopbackAddress(t *testing.T) {
	var calls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hook.Close)
	_, port, _ := net.SplitHostPort(hook.Listener.Addr().String())
	url := "http://" + net.JoinHostPort("localhost", port) + "/ddr"
	secret := app.Webhook{URL: url, Secret: "s"}

	w := &adapters.Webhooks{Resolver: public}
	_, err := w.PostWebhook(t.Context(), secret, notice())
	var se *app.SendError
	if !errors.Is(err, app.ErrPlaintext) || !errors.As(err, &se) || !strings.HasPrefix(se.Reason, "webhook: refused") {
		t.Fatalf("PostWebhook = %v, want a refusal by the TLS rule", err)
	}
	if calls.Load() != 0 {
		t.Fatal("the endpoint was called despite the refusal")
	}
	if _, err := (&adapters.Webhooks{}).PostWebhook(t.Context(), secret, notice()); err != nil || calls.Load() != 1 {
		t.Fatalf("to loopback: %v, %d calls", err, calls.Load())
	}

	// A verified https endpoint that redirects to http:// elsewhere.
	redirect := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://hooks.example.com/ddr", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)
	roots := redirect.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	_, err = (&adapters.Webhooks{RootCAs: roots}).PostWebhook(t.Context(), app.Webhook{URL: redirect.URL, Secret: "s"}, notice())
	if !errors.Is(err, app.ErrPlaintext) {
		t.Fatalf("redirect to http://: %v, want ErrPlaintext", err)
	}
	// An http:// URL outside loopback is refused as written.
	if _, err := (&adapters.Webhooks{}).PostWebhook(t.Context(), app.Webhook{URL: "http://hooks.example.com/ddr", Secret: "s"}, notice()); !errors.Is(err, app.ErrPlaintext) {
		t.Fatalf("http:// to a name: %v, want ErrPlaintext", err)
	}
}

// AUTH PLAIN goes over the verified STARTTLS session, so the password
// never crosses in clear; the server sees the user.
func TestSMTPAuthenticatesOverSTARTTLS(t *testing.T) {
	cfg, roots, _, err := smtptest.DevTLS()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := smtptest.StartWith(smtptest.Options{TLS: cfg, Users: map[string]string{"ddr": "pw-1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Down)
	s := &adapters.SMTP{Addr: srv.Addr(), TLSMode: app.SMTPTLSStartTLS, RootCAs: roots, Username: "ddr", Password: "wrong", Timeout: 10 * time.Second}
	if _, err := s.SendEmail(t.Context(), notice()); err == nil {
		t.Fatal("sent with a wrong password")
	}
	s.Password = "pw-1"
	if _, err := s.SendEmail(t.Context(), notice()); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].User != "ddr" || !msgs[0].TLS {
		t.Fatalf("messages = %+v, want one from user ddr over TLS", msgs)
	}
}
