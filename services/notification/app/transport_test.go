package app_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/ddrsuite/ddr/services/notification/app"
)

// The one rule of notices over TLS, as a configuration is loaded (the
// host as written) and as a delivery connects (the addresses it resolved
// to).
func TestNoticesLeaveOverTLSExceptToLoopback(t *testing.T) {
	const smtpSetting, hookSetting = "--notification-smtp-addr", "customers.c.webhooks[0].url"
	loop4, loop6 := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")
	remote := netip.MustParseAddr("192.0.2.10")
	tests := []struct {
		name     string
		smtp     string // host:port, or empty for a webhook
		mode     string
		url      string
		resolved []netip.Addr
		wantSec  app.Security
		refused  bool
	}{
		// SMTP: the port decides what auto means.
		{name: "smtp name port 25 auto is STARTTLS", smtp: "mail.example.com:25", wantSec: app.StartTLS},
		{name: "smtp name port 587 auto is STARTTLS", smtp: "mail.example.com:587", mode: "auto", wantSec: app.StartTLS},
		{name: "smtp name port 465 auto is implicit TLS", smtp: "mail.example.com:465", wantSec: app.ImplicitTLS},
		{name: "smtp name port 587 implicit", smtp: "mail.example.com:587", mode: "tls", wantSec: app.ImplicitTLS},
		{name: "smtp name port 465 starttls", smtp: "mail.example.com:465", mode: "starttls", wantSec: app.StartTLS},
		{name: "smtp name port 25 none refused", smtp: "mail.example.com:25", mode: "none", wantSec: app.Plaintext, refused: true},
		{name: "smtp name port 587 none refused", smtp: "mail.example.com:587", mode: "none", wantSec: app.Plaintext, refused: true},
		{name: "smtp public v4 none refused", smtp: "192.0.2.10:25", mode: "none", wantSec: app.Plaintext, refused: true},
		{name: "smtp public v6 none refused", smtp: "[2001:db8::1]:25", mode: "none", wantSec: app.Plaintext, refused: true},
		{name: "smtp private v4 none refused", smtp: "10.0.0.5:25", mode: "none", wantSec: app.Plaintext, refused: true},
		{name: "smtp unspecified none refused", smtp: "0.0.0.0:25", mode: "none", wantSec: app.Plaintext, refused: true},
		{name: "smtp loopback v4 none", smtp: "127.0.0.1:25", mode: "none", wantSec: app.Plaintext},
		{name: "smtp loopback v4 other /8 none", smtp: "127.8.9.10:2525", mode: "none", wantSec: app.Plaintext},
		{name: "smtp loopback v6 none", smtp: "[::1]:25", mode: "none", wantSec: app.Plaintext},
		{name: "smtp localhost none", smtp: "localhost:25", mode: "none", wantSec: app.Plaintext},
		{name: "smtp loopback auto is STARTTLS if offered", smtp: "127.0.0.1:587", wantSec: app.Opportunistic},
		{name: "smtp localhost 465 auto is implicit TLS", smtp: "localhost:465", wantSec: app.ImplicitTLS},
		{name: "smtp name like localhost is not loopback", smtp: "localhost.example.com:25", mode: "none", wantSec: app.Plaintext, refused: true},
		// At delivery: the addresses resolved must be loopback as well.
		{name: "smtp localhost resolved to loopback", smtp: "localhost:25", mode: "none", resolved: []netip.Addr{loop4, loop6}, wantSec: app.Plaintext},
		{name: "smtp localhost resolved to a public address refused", smtp: "localhost:25", mode: "none", resolved: []netip.Addr{loop4, remote}, wantSec: app.Plaintext, refused: true},
		{name: "smtp localhost auto resolved to a public address refused", smtp: "localhost:25", resolved: []netip.Addr{remote}, wantSec: app.Opportunistic, refused: true},
		{name: "smtp STARTTLS to a public address", smtp: "mail.example.com:587", resolved: []netip.Addr{remote}, wantSec: app.StartTLS},
		// Webhooks: https anywhere, http to loopback only.
		{name: "https name", url: "https://cust.example/ddr", wantSec: app.ImplicitTLS},
		{name: "https name with port", url: "https://cust.example:8443/ddr", resolved: []netip.Addr{remote}, wantSec: app.ImplicitTLS},
		{name: "http name refused", url: "http://cust.example/ddr", wantSec: app.Plaintext, refused: true},
		{name: "http public v4 refused", url: "http://192.0.2.10:8080/ddr", wantSec: app.Plaintext, refused: true},
		{name: "http public v6 refused", url: "http://[2001:db8::1]/ddr", wantSec: app.Plaintext, refused: true},
		{name: "http loopback v4", url: "http://127.0.0.1:8080/ddr", wantSec: app.Plaintext},
		{name: "http loopback v6", url: "http://[::1]:8080/ddr", wantSec: app.Plaintext},
		{name: "http localhost", url: "http://localhost:8080/ddr", wantSec: app.Plaintext},
		{name: "http localhost resolved to a public address refused", url: "http://localhost/ddr", resolved: []netip.Addr{remote}, wantSec: app.Plaintext, refused: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var target app.Target
			var err error
			setting := hookSetting
			if tc.smtp != "" {
				setting = smtpSetting
				target, err = app.SMTPTarget(setting, tc.smtp, tc.mode)
			} else {
				target, err = app.WebhookTarget(setting, tc.url)
			}
			if err != nil {
				t.Fatal(err)
			}
			if target.Security != tc.wantSec {
				t.Errorf("security = %v, want %v", target.Security, tc.wantSec)
			}
			err = target.Check(tc.resolved...)
			if tc.refused != (err != nil) {
				t.Fatalf("Check = %v, refused want %v", err, tc.refused)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, app.ErrPlaintext) {
				t.Errorf("error %v does not wrap ErrPlaintext", err)
			}
			if !strings.HasPrefix(err.Error(), setting+": ") {
				t.Errorf("error %q does not name the setting %q", err, setting)
			}
		})
	}
}

func TestNoticeTargetsThatAreNotAddresses(t *testing.T) {
	for _, addr := range []string{"mail.example.com", "mail.example.com:0", "mail.example.com:smtp", ":25"} {
		if _, err := app.SMTPTarget("--notification-smtp-addr", addr, ""); err == nil {
			t.Errorf("SMTPTarget(%q) accepted", addr)
		}
	}
	if _, err := app.SMTPTarget("--notification-smtp-addr", "mail.example.com:25", "ssl3"); err == nil {
		t.Error("an unknown TLS mode was accepted")
	}
	for _, u := range []string{"ftp://cust.example/x", "cust.example/ddr", "https:///ddr", "mailto:a@b.example"} {
		if _, err := app.WebhookTarget("url", u); err == nil {
			t.Errorf("WebhookTarget(%q) accepted", u)
		}
	}
}

// A contacts file naming an http:// webhook outside loopback is refused
// when it is read, with the field named.
func TestContactsWithPlaintextWebhookRefusedWhenLoaded(t *testing.T) {
	const file = `{"from": "privacy@corp.example",
	  "customers": {"cust-42": {"webhooks": [{"url": "http://cust.example/ddr", "secret": "s"}]}},
	  "lead_dpa": {"name": "DPC-IE", "webhooks": [{"url": "http://127.0.0.1:9000/in", "secret": "s"}]},
	  "other_dpas": [{"name": "CNIL", "webhooks": [{"url": "https://cnil.example/in", "secret": "s"}]}]}`
	_, err := app.ParseContacts([]byte(file), func(string) string { return "" })
	if err == nil {
		t.Fatal("a contacts file with an http:// webhook to a non-loopback host was accepted")
	}
	if msg := err.Error(); !strings.Contains(msg, "customers.cust-42.webhooks[0].url") || strings.Contains(msg, "lead_dpa") || strings.Contains(msg, "other_dpas") {
		t.Errorf("error = %q, want only customers.cust-42.webhooks[0].url named", msg)
	}
	c := app.Contacts{LeadDPA: app.DPA{Name: "DPC-IE", Endpoints: app.Endpoints{Webhooks: []app.Webhook{{URL: "http://dpc.example/in", Secret: "s"}}}}}
	if err := c.CheckTransport(); err == nil || !strings.Contains(err.Error(), "lead_dpa.webhooks[0].url") {
		t.Errorf("CheckTransport = %v, want lead_dpa.webhooks[0].url refused", err)
	}
}
