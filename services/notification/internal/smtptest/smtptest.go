// Package smtptest is a small but real SMTP server for tests: it speaks
// EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT over TCP, stores every
// message it accepts, and can be stopped and started again on the same
// address to play a server that is down for a while.
package smtptest

import (
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data string // headers and body as received, dot-unstuffed
}

// Server is a test SMTP server.
type Server struct {
	mu   sync.Mutex
	addr string
	ln   net.Listener
	msgs []Message
	seq  int
	wg   sync.WaitGroup
}

// Start listens on a free port of 127.0.0.1.
func Start() (*Server, error) {
	s := &Server{addr: "127.0.0.1:0"}
	return s, s.Up()
}

// Reserve picks a free address without serving it yet (the server is down
// until [Server.Up]).
func Reserve() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	return &Server{addr: addr}, nil
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
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.ln, s.addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go s.accept(ln)
	return nil
}

// Down stops serving; connections are refused until Up.
func (s *Server) Down() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	s.wg.Wait()
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

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer c.Close()
			s.serve(textproto.NewConn(c))
		}()
	}
}

func (s *Server) serve(c *textproto.Conn) {
	reply := func(code int, msg string) bool { return c.PrintfLine("%d %s", code, msg) == nil }
	if !reply(220, "smtptest ESMTP ready") {
		return
	}
	var from string
	var to []string
	for {
		line, err := c.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if c.PrintfLine("250-smtptest greets %s", arg) != nil || !reply(250, "8BITMIME") {
				return
			}
		case "HELO", "NOOP":
			reply(250, "ok")
		case "RSET":
			from, to = "", nil
			reply(250, "ok")
		case "MAIL":
			from = addr(arg)
			reply(250, "sender ok")
		case "RCPT":
			if from == "" {
				reply(503, "MAIL first")
				continue
			}
			to = append(to, addr(arg))
			reply(250, "recipient ok")
		case "DATA":
			if len(to) == 0 {
				reply(503, "RCPT first")
				continue
			}
			if !reply(354, "end with <CRLF>.<CRLF>") {
				return
			}
			b, err := c.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.seq++
			id := s.seq
			s.msgs = append(s.msgs, Message{From: from, To: to, Data: string(b)})
			s.mu.Unlock()
			reply(250, fmt.Sprintf("ok queued as Q%d", id))
			from, to = "", nil
		case "QUIT":
			reply(221, "bye")
			return
		default:
			reply(502, "not implemented")
		}
	}
}

// addr takes the address out of "FROM:<a@b>" or "TO:<a@b>".
func addr(arg string) string {
	_, v, _ := strings.Cut(arg, ":")
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ' '); i >= 0 {
		v = v[:i]
	}
	return strings.Trim(v, "<>")
}
