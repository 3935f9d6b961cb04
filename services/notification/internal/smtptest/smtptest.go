// Package smtptest is a real SMTP server for tests, built on
// github.com/emersion/go-smtp: it listens on loopback, offers STARTTLS or
// speaks implicit TLS when given a certificate, stores every message it
// accepts, and can be stopped and started again on the same address to
// play a server that is down for a while. [DevTLS] makes a certificate for
// it from the project's development PKI.
package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	smtp "github.com/emersion/go-smtp"

	"github.com/ddrsuite/ddr/services/platform/pki"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	// User is whom the session authenticated as; empty: no AUTH.
	User string
	Data string // headers and body as received, dot-unstuffed
	// TLS reports whether the session was encrypted when the message was
	// accepted (after STARTTLS, or implicit TLS).
	TLS bool
}

// Options configure a server.
type Options struct {
	// TLS, if set, is the server's certificate: offered with STARTTLS, or
	// from the first byte when Implicit.
	TLS      *tls.Config
	Implicit bool
	// Users, if set, are the AUTH PLAIN accounts (name: password),
	// offered over TLS only; MAIL is then refused until a client has
	// authenticated.
	Users map[string]string
}

// Server is a test SMTP server.
type Server struct {
	opts Options

	mu   sync.Mutex
	addr string
	srv  *smtp.Server
	done chan struct{}
	msgs []Message
	seq  int
}

// Start listens in clear on a free port of 127.0.0.1.
func Start() (*Server, error) { return StartWith(Options{}) }

// StartWith listens on a free port of 127.0.0.1 with o.
func StartWith(o Options) (*Server, error) {
	s := &Server{opts: o, addr: "127.0.0.1:0"}
	return s, s.Up()
}

// Reserve picks a free address without serving it yet (the server is down
// until [Server.Up]).
func Reserve() (*Server, error) { return ReserveWith(Options{}) }

// ReserveWith is [Reserve] with options.
func ReserveWith(o Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close() // only the free port was wanted
	return &Server{opts: o, addr: addr}, nil
}

// Addr is host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Up starts serving on the server's address.
func (s *Server) Up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.addr = ln.Addr().String()
	// A go-smtp Server cannot serve again once closed: one per Up.
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "smtptest.localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLSConfig = s.opts.TLS
	if s.opts.Implicit {
		if s.opts.TLS == nil {
			_ = ln.Close()
			return fmt.Errorf("smtptest: implicit TLS needs a certificate")
		}
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	s.srv, s.done = srv, done
	return nil
}

// Down stops serving; connections are refused until Up.
func (s *Server) Down() {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv, s.done = nil, nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
		<-done
	}
}

// Messages returns the accepted messages.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// To returns the accepted messages with rcpt among the recipients.
func (s *Server) To(rcpt string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, r := range m.To {
			if r == rcpt {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// session is one SMTP session (go-smtp calls Reset between messages).
type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

// AuthMechanisms offers PLAIN when the server has users (go-smtp offers
// AUTH only over TLS).
func (x *session) AuthMechanisms() []string {
	if len(x.s.opts.Users) == 0 {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || len(x.s.opts.Users) == 0 {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if want, ok := x.s.opts.Users[username]; !ok || want != password {
			return smtp.ErrAuthFailed
		}
		x.user = username
		return nil
	}), nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(x.s.opts.Users) > 0 && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, encrypted := x.conn.TLSConnectionState()
	x.s.mu.Lock()
	x.s.seq++
	id := x.s.seq
	x.s.msgs = append(x.s.msgs, Message{From: x.from, To: x.to, User: x.user, Data: string(b), TLS: encrypted})
	x.s.mu.Unlock()
	// go-smtp answers a nil error with a fixed "OK: queued"; a 250
	// SMTPError is its way to put a queue id in the reply, which the
	// sender records as the receipt.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: fmt.Sprintf("OK: queued as Q%d", id)}
}

// DevTLS issues a server certificate for 127.0.0.1, ::1 and localhost
// from a fresh development CA (services/platform/pki), and returns the
// server's configuration, the CA's pool and the CA certificate as PEM (to
// write as a CA file for the sender).
func DevTLS() (server *tls.Config, roots *x509.CertPool, caPEM []byte, err error) {
	ca, err := pki.NewCA("smtptest CA", time.Hour)
	if err != nil {
		return nil, nil, nil, err
	}
	leaf, err := ca.Issue(pki.URI("service/smtptest"), time.Hour, pki.ServerHosts...)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := leaf.TLS()
	if err != nil {
		return nil, nil, nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, ca.Pool(), ca.PEM, nil
}
