package adapters

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/notification/app"
)

// SMTP sends notices through an SMTP server with net/smtp. It speaks
// EHLO, STARTTLS when the server offers it (unless disabled), AUTH when
// credentials are set, MAIL, RCPT, DATA and QUIT, and returns the server's
// reply to the message's final dot as the receipt (most servers put the
// queue id there).
type SMTP struct {
	// Addr is host:port of the server.
	Addr string
	// Hello is the name sent with EHLO; default "localhost".
	Hello string
	// Auth, if set, authenticates (net/smtp refuses PLAIN without TLS
	// except to localhost).
	Auth smtp.Auth
	// TLS is used for STARTTLS; nil: ServerName from Addr.
	TLS *tls.Config
	// NoStartTLS sends in the clear even when the server offers STARTTLS.
	NoStartTLS bool
	// Timeout bounds one whole send; default 30 s.
	Timeout time.Duration
	// Now dates the message; default time.Now.
	Now func() time.Time
}

var _ app.EmailSender = (*SMTP)(nil)

// MessageID is the Message-ID header of a delivery: the delivery id makes
// a retried send recognisable as the same message.
func MessageID(deliveryID string) string { return "<" + deliveryID + "@ddr.local>" }

// SendEmail implements app.EmailSender.
func (s *SMTP) SendEmail(ctx context.Context, m app.Message) (string, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return "", &app.SendError{Reason: "smtp: cannot connect", Err: err}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return "", smtpErr("greeting", err)
	}
	defer c.Close()
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return "", smtpErr("EHLO", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.NoStartTLS {
		cfg := s.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return "", smtpErr("STARTTLS", err)
		}
	}
	if s.Auth != nil {
		if err := c.Auth(s.Auth); err != nil {
			return "", smtpErr("AUTH", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return "", smtpErr("MAIL", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return "", smtpErr("RCPT", err)
	}
	body, err := s.compose(m)
	if err != nil {
		return "", &app.SendError{Reason: "smtp: cannot compose", Err: err}
	}
	receipt, err := data(c, body)
	if err != nil {
		return "", smtpErr("DATA", err)
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return receipt, nil
}

// data runs DATA like smtp.Client.Data, but keeps the server's final reply,
// which Client.Data discards: it is the receipt.
func data(c *smtp.Client, body []byte) (string, error) {
	id, err := c.Text.Cmd("DATA")
	if err != nil {
		return "", err
	}
	c.Text.StartResponse(id)
	_, _, err = c.Text.ReadResponse(354)
	c.Text.EndResponse(id)
	if err != nil {
		return "", err
	}
	w := c.Text.DotWriter()
	if _, err := w.Write(body); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	code, msg, err := c.Text.ReadResponse(250)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %s", code, msg), nil
}

func smtpErr(stage string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &app.SendError{Reason: fmt.Sprintf("smtp: %s refused (%d)", stage, te.Code), Err: err}
	}
	return &app.SendError{Reason: "smtp: " + stage + " failed", Err: err}
}

func (s *SMTP) compose(m app.Message) ([]byte, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	for _, v := range []string{m.From, m.To, m.DeliveryID} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, errors.New("header value with a line break")
		}
	}
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", m.From)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", now().UTC().Format(time.RFC1123Z))
	h("Message-ID", MessageID(m.DeliveryID))
	h("X-DDR-Delivery-Id", m.DeliveryID)
	h("X-DDR-Kind", m.Kind)
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
