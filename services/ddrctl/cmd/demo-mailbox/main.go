// Command demo-mailbox plays the customer and the data protection authority
// in `make demo`: an SMTP server (github.com/emersion/go-smtp) on loopback
// that accepts every message the suite sends (the customer notice of clause
// 4.1.2, the DPA packet of clause 4.2.1) and prints one line per message.
// Its reply to the message is what the suite records as the delivery
// receipt. It is a demo prop, not a mail server: no auth, no storage, and
// no TLS, which the suite accepts only because the mailbox is on loopback
// (notices leave over TLS to anywhere else); it refuses to listen
// elsewhere.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	smtp "github.com/emersion/go-smtp"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:7690", "loopback address to listen on (make run's --notification-smtp-addr)")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "demo-mailbox:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if a, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !a.IsLoopback()) {
		return fmt.Errorf("-listen %s: a mailbox without TLS listens on a loopback address only", addr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var queued atomic.Int64
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{queued: &queued}, nil
	}))
	srv.Domain = "demo-mailbox.localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(os.Stderr, "demo-mailbox: ", 0)
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(lis); err != nil && ctx.Err() == nil && !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	return nil
}

// session accepts one message at a time and prints who got what.
type session struct {
	queued *atomic.Int64
	to     []string
}

func (s *session) Reset()        { s.to = nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	subject := "(no subject)"
	if msg, err := mail.ReadMessage(r); err == nil {
		if v, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err == nil {
			subject = v
		}
	}
	_, _ = io.Copy(io.Discard, r) // go-smtp wants the message read
	n := s.queued.Add(1)
	fmt.Printf("%s received: %s\n", strings.Join(s.to, ", "), subject)
	// go-smtp answers a nil error with a fixed "OK: queued"; a 250
	// SMTPError puts the queue id in the reply, which the suite records
	// as the receipt.
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: fmt.Sprintf("OK queued as demo-%d", n)}
}
