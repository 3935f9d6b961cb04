package adapters

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/ddrsuite/ddr/services/notification/app"
)

// SMTPAddrSetting is the setting that names the SMTP server, quoted in the
// errors of the TLS rule.
const SMTPAddrSetting = "--notification-smtp-addr"

// SMTP sends notices through an SMTP server with go-mail. It requires TLS
// (STARTTLS, or implicit TLS on 465) unless the server is on loopback
// (see app.Target): the rule is checked when the sender is configured
// ([SMTP.Check]) and again before every connection, against the addresses
// the server's name then resolves to, which are the ones dialled. The
// server's certificate is verified against the system roots or RootCAs.
// The receipt is the server's reply to the message's final dot (most
// servers put the queue id there).
type SMTP struct {
	// Addr is host:port of the server.
	Addr string
	// TLSMode is one of app.SMTPTLSAuto (the default: implicit TLS on 465,
	// STARTTLS elsewhere, and STARTTLS if offered to a loopback server),
	// app.SMTPTLSStartTLS, app.SMTPTLSImplicit or app.SMTPTLSNone
	// (loopback only).
	TLSMode string
	// Hello is the name sent with EHLO; default "localhost".
	Hello string
	// Username and Password, if Username is set, authenticate with AUTH
	// PLAIN (only over TLS, or to loopback).
	Username, Password string
	// RootCAs verify the server's certificate; nil: the system roots.
	RootCAs *x509.CertPool
	// Resolver resolves the server's name before each connection; nil:
	// net.DefaultResolver.
	Resolver Resolver
	// Timeout bounds one whole send; default 30 s.
	Timeout time.Duration
	// Now dates the message; default time.Now.
	Now func() time.Time
}

var _ app.EmailSender = (*SMTP)(nil)

// MessageID is the Message-ID header of a delivery: the delivery id makes
// a retried send recognisable as the same message.
func MessageID(deliveryID string) string { return "<" + messageIDValue(deliveryID) + ">" }

func messageIDValue(deliveryID string) string { return deliveryID + "@ddr.local" }

// Target is the server as the TLS rule sees it.
func (s *SMTP) Target() (app.Target, error) {
	mode := s.TLSMode
	if mode == "" {
		mode = app.SMTPTLSAuto
	}
	return app.SMTPTarget(SMTPAddrSetting, s.Addr, mode)
}

// Check applies the TLS rule to the configuration as written; a service
// refuses to start with a sender that fails it.
func (s *SMTP) Check() error {
	t, err := s.Target()
	if err != nil {
		return err
	}
	return t.Check()
}

// SendEmail implements app.EmailSender.
func (s *SMTP) SendEmail(ctx context.Context, m app.Message) (string, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t, err := s.Target()
	if err != nil {
		return "", &app.SendError{Reason: "smtp: bad server address", Err: err}
	}
	msg, err := s.compose(m)
	if err != nil {
		return "", &app.SendError{Reason: "smtp: cannot compose", Err: err}
	}
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	tlsCfg := clientTLS(s.RootCAs, t.Host)
	opts := []mail.Option{
		mail.WithPort(t.Port),
		mail.WithHELO(hello),
		mail.WithTimeout(timeout),
		mail.WithTLSConfig(tlsCfg),
		// Every connection goes through the rule, to the addresses it
		// checked; implicit TLS is done there too (go-mail does not wrap
		// a connection from a custom dialer).
		mail.WithDialContextFunc(func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialChecked(ctx, s.Resolver, t, tlsCfg)
		}),
	}
	switch t.Security {
	case app.ImplicitTLS:
		opts = append(opts, mail.WithSSL())
	case app.StartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case app.Opportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	c, err := mail.NewClient(t.Host, opts...)
	if err != nil {
		return "", &app.SendError{Reason: "smtp: bad client configuration", Err: err}
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if msg.IsDelivered() {
		// The server accepted the message: a failed RSET or QUIT after
		// that changes nothing.
		return "250 " + msg.ServerResponse(), nil
	}
	return "", smtpErr(err)
}

// smtpErr turns a failed send into a reason fit for the record: the
// stage and the server's code, no addresses.
func smtpErr(err error) error {
	var refused *refusedError
	if errors.As(err, &refused) {
		return &app.SendError{Reason: "smtp: " + refused.reason, Err: err}
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code > 0 {
			return &app.SendError{Reason: fmt.Sprintf("smtp: %s (%d)", se.Reason, code), Err: err}
		}
		return &app.SendError{Reason: "smtp: " + se.Reason.String(), Err: err}
	}
	if strings.HasPrefix(err.Error(), "dial failed") {
		return &app.SendError{Reason: "smtp: cannot connect or start TLS", Err: err}
	}
	return &app.SendError{Reason: "smtp: send failed", Err: err}
}

func (s *SMTP) compose(m app.Message) (*mail.Msg, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	for _, v := range []string{m.From, m.To, m.DeliveryID, m.Kind} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, errors.New("header value with a line break")
		}
	}
	msg := mail.NewMsg(mail.WithEncoding(mail.EncodingQP), mail.WithCharset(mail.CharsetUTF8))
	if err := msg.From(m.From); err != nil {
		return nil, errors.New("invalid sender address")
	}
	if err := msg.To(m.To); err != nil {
		return nil, errors.New("invalid recipient address")
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(now().UTC())
	msg.SetMessageIDWithValue(messageIDValue(m.DeliveryID))
	msg.SetGenHeader("X-DDR-Delivery-Id", m.DeliveryID)
	msg.SetGenHeader("X-DDR-Kind", m.Kind)
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	return msg, nil
}
