// Command demo-mailbox plays the customer and the data protection authority
// in `make demo`: a minimal SMTP server on loopback that accepts every
// message the suite sends (the customer notice of clause 4.1.2, the DPA
// packet of clause 4.2.1) and prints one line per message. Its reply to the
// message is what the suite records as the delivery receipt. It is a demo
// prop, not a mail server: no TLS, no auth, no storage.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:7690", "address to listen on (make run's --notification-smtp-addr)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo-mailbox:", err)
		os.Exit(1)
	}
	go func() {
		<-ctx.Done()
		_ = lis.Close()
	}()
	var queued atomic.Int64
	for {
		conn, err := lis.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			fmt.Fprintln(os.Stderr, "demo-mailbox:", err)
			continue
		}
		go serve(conn, &queued)
	}
}

// serve speaks just enough SMTP for net/smtp: EHLO, MAIL, RCPT, DATA, QUIT.
func serve(conn net.Conn, queued *atomic.Int64) {
	defer conn.Close()
	tp := textproto.NewConn(conn)
	reply := func(line string) bool { return tp.PrintfLine("%s", line) == nil }
	if !reply("220 demo-mailbox ESMTP") {
		return
	}
	var to []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO", "HELO":
			reply("250 demo-mailbox")
		case "MAIL", "RSET", "NOOP":
			to = nil
			reply("250 OK")
		case "RCPT":
			_, arg, _ := strings.Cut(line, ":")
			to = append(to, strings.Trim(arg, "<> "))
			reply("250 OK")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			body, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			n := queued.Add(1)
			subject := "(no subject)"
			if msg, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(string(body)))); err == nil {
				dec := new(mime.WordDecoder)
				if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
					subject = s
				}
			}
			fmt.Printf("%s received: %s\n", strings.Join(to, ", "), subject)
			reply(fmt.Sprintf("250 OK queued as demo-%d", n))
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}
