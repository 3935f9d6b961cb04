package app_test

import (
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/adapters"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/notification/internal/smtptest"
)

// The 4.1.2 notice over implicit TLS (SMTP on its own TLS port, here a
// go-smtp server on loopback with a development-PKI certificate): it
// arrives on an encrypted session, verified, with the details of the
// request the customer is owed.
func TestClause4_1_2_NoticeOverImplicitTLSArrivesWithTheRequestDetails(t *testing.T) {
	e := newEnv(t)
	cfg, roots := devTLS()
	srv, err := smtptest.StartWith(smtptest.Options{TLS: cfg, Implicit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Down)
	d := app.NewDeliverer(e.n, app.NewIndex(e.store, nil), app.DeliveryConfig{
		Contacts:  contacts(""),
		Email:     &adapters.SMTP{Addr: srv.Addr(), TLSMode: app.SMTPTLSImplicit, RootCAs: roots, Now: e.clock.Now},
		RetryBase: time.Minute,
		Logger:    e.log,
	})
	const id = "req-implicit-tls"
	if err := e.n.Derive(e.ctx, decided(e.t, e.receive(request{id: id, country: "DE"}))); err != nil {
		t.Fatal(err)
	}
	must[app.PlanView](t)(e.n.RecordRedirectOutcome(e.ctx, staff, id, domain.RedirectDeclined, ""))
	if err := d.Deliver(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := step(e.plan(id), notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER).GetStatus(); got != notificationv1.StepStatus_STEP_STATUS_DONE {
		t.Fatalf("notice step = %v, want DONE", got)
	}
	mails := srv.To(custEmail)
	if len(mails) != 1 {
		t.Fatalf("%d notices, want 1", len(mails))
	}
	if !mails[0].TLS {
		t.Error("the notice was accepted on a session without TLS")
	}
	subject, body := readMail(t, mails[0].Data)
	if !strings.Contains(subject, id) {
		t.Errorf("subject %q does not name the request", subject)
	}
	for _, want := range []string{id, "Example Public Security Bureau", "DE", "PO-2026-17", targetValue, "privacy@corp.example"} {
		if !strings.Contains(body, want) {
			t.Errorf("the notice lacks %q:\n%s", want, body)
		}
	}
}

// readMail decodes a received message's subject and quoted-printable body.
func readMail(t *testing.T, data string) (subject, body string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	r := m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(m.Body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return subject, string(b)
}
