package app

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Notices leave over TLS only. A customer notice (4.1.2) carries the
// details of a data disclosure request, the accounts concerned included,
// and a DPA packet (4.2.1) the request and its legal basis: in clear they
// could be read, or changed, on any network between here and the
// recipient. The one exception is loopback (a relay or a test server on the
// same machine), where there is no network to cross. The rule is checked
// twice, by the same function ([Target.Check]): when the configuration is
// loaded, against the host as written, and before every connection,
// against the addresses the host then resolves to, which are the ones
// dialled (a name cannot resolve to loopback for the check and elsewhere
// for the send).

// ErrPlaintext is the refusal of a notice target without TLS that is not
// loopback; compare with errors.Is.
var ErrPlaintext = errors.New("notices leave over TLS only, except to a loopback address")

// Security is how a connection to a notice target is protected.
type Security int

const (
	// Plaintext: no TLS (allowed to loopback only).
	Plaintext Security = iota
	// StartTLS: SMTP upgraded with STARTTLS before anything is sent; a
	// server that does not offer it is refused.
	StartTLS
	// ImplicitTLS: TLS from the first byte (SMTP on 465, HTTPS).
	ImplicitTLS
	// Opportunistic: SMTP STARTTLS if the server offers it, else clear.
	// It guarantees nothing, so the rule treats it as Plaintext; it is
	// what auto means for a loopback server (a local relay or the demo
	// mailbox may have no certificate).
	Opportunistic
)

func (s Security) String() string {
	switch s {
	case StartTLS:
		return "starttls"
	case ImplicitTLS:
		return "tls"
	case Opportunistic:
		return "starttls-if-offered"
	}
	return "none"
}

// SMTP TLS modes, the values of --notification-smtp-tls.
const (
	// SMTPTLSAuto is implicit TLS on port 465 and STARTTLS on any other
	// (required, except to a loopback host: there STARTTLS if offered).
	SMTPTLSAuto     = "auto"
	SMTPTLSStartTLS = "starttls"
	SMTPTLSImplicit = "tls"
	// SMTPTLSNone sends in clear: accepted for a loopback server only.
	SMTPTLSNone = "none"
)

// Target is where a notice connects to, as the rule sees it.
type Target struct {
	// Setting names the configuration that gave the target, for errors.
	Setting  string
	Host     string // a name or an IP literal, without brackets
	Port     int
	Security Security
	smtp     bool // for the remedy named in errors
}

// SMTPTarget reads an SMTP server address (host:port) and TLS mode (one of
// the SMTPTLS constants; empty is auto) into a target. It does not check
// the rule: call [Target.Check].
func SMTPTarget(setting, addr, mode string) (Target, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return Target{}, fmt.Errorf("%s: %q is not host:port", setting, addr)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return Target{}, fmt.Errorf("%s: %q has no valid port", setting, addr)
	}
	t := Target{Setting: setting, Host: host, Port: port, smtp: true}
	switch strings.ToLower(mode) {
	case "", SMTPTLSAuto:
		switch {
		case port == 465:
			t.Security = ImplicitTLS
		case LoopbackHost(host):
			t.Security = Opportunistic
		default:
			t.Security = StartTLS
		}
	case SMTPTLSStartTLS:
		t.Security = StartTLS
	case SMTPTLSImplicit:
		t.Security = ImplicitTLS
	case SMTPTLSNone:
		t.Security = Plaintext
	default:
		return Target{}, fmt.Errorf("%s: TLS mode %q is not one of auto, starttls, tls, none", setting, mode)
	}
	return t, nil
}

// WebhookTarget reads a webhook URL into a target: https is TLS, http is
// not. It does not check the rule: call [Target.Check].
func WebhookTarget(setting, rawURL string) (Target, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return Target{}, fmt.Errorf("%s: not an absolute URL", setting)
	}
	t := Target{Setting: setting, Host: u.Hostname()}
	switch u.Scheme {
	case "https":
		t.Security, t.Port = ImplicitTLS, 443
	case "http":
		t.Security, t.Port = Plaintext, 80
	default:
		return Target{}, fmt.Errorf("%s: scheme must be https (http only to a loopback address)", setting)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("%s: invalid port", setting)
		}
		t.Port = n
	}
	return t, nil
}

// Check is the rule: a target with TLS may be anywhere; one without TLS
// only on loopback. Without resolved addresses (when a configuration is
// loaded) the host is judged as written: a loopback IP literal or
// "localhost". With them (before a connection) every address must be
// loopback too, and they are the addresses to dial. The error names the
// setting and wraps [ErrPlaintext].
func (t Target) Check(resolved ...netip.Addr) error {
	if t.Security == StartTLS || t.Security == ImplicitTLS {
		return nil
	}
	if !LoopbackHost(t.Host) {
		return fmt.Errorf("%s: %w (use %s)", t.Setting, ErrPlaintext, t.remedy())
	}
	for _, a := range resolved {
		if !a.Unmap().IsLoopback() {
			return fmt.Errorf("%s: %w (the host resolves to a non-loopback address; use %s)", t.Setting, ErrPlaintext, t.remedy())
		}
	}
	return nil
}

func (t Target) remedy() string {
	if t.smtp {
		return "STARTTLS or implicit TLS"
	}
	return "https"
}

// LoopbackHost reports whether host, as written, names this machine: a
// loopback IP literal (127.0.0.0/8, ::1, an IPv4-mapped 127.x) or
// "localhost" (which RFC 6761 reserves for loopback; what it resolves to is
// checked again before each connection).
func LoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
