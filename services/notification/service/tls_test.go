package service_test

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/service"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

// Notices leave over TLS only (except to loopback): a configuration that
// names a plaintext SMTP server or an http:// webhook elsewhere is refused
// when the service is built, with the setting named, and nothing is sent
// (the service does not even start). Configurations that keep the rule
// are accepted, so the refusals are the rule's.
func TestClause4_1_2_PlaintextNoticeTargetsRefusedWhenConfigLoaded(t *testing.T) {
	ctx := t.Context()
	nenv := natstest.Start(t)
	if err := eventstore.EnsureStreams(ctx, nenv.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	deps := runner.Deps{NC: nenv.Conn, JS: nenv.JS, Store: eventstore.NewStore(nenv.JS), Logger: logger, Replicas: 1}
	lead := app.DPA{Name: "DPC-IE"}
	hookFile := func(url string) string {
		return writeFile(t, "contacts.json", []byte(`{"from": "privacy@corp.example",
		  "customers": {"cust-42": {"webhooks": [{"url": "`+url+`", "secret": "s"}]}},
		  "lead_dpa": {"name": "DPC-IE"}}`))
	}
	tests := []struct {
		name    string
		cfg     service.Config
		setting string // named in the refusal; empty: accepted
	}{
		{name: "smtp name without TLS", cfg: service.Config{SMTPAddr: "mail.example.com:25", SMTPTLS: "none"}, setting: "--notification-smtp-addr"},
		{name: "smtp public address without TLS", cfg: service.Config{SMTPAddr: "192.0.2.10:587", SMTPTLS: "none"}, setting: "--notification-smtp-addr"},
		{name: "smtp public v6 without TLS", cfg: service.Config{SMTPAddr: "[2001:db8::1]:25", SMTPTLS: "none"}, setting: "--notification-smtp-addr"},
		{name: "smtp unknown TLS mode", cfg: service.Config{SMTPAddr: "mail.example.com:25", SMTPTLS: "maybe"}, setting: "--notification-smtp-addr"},
		{name: "http webhook in the contacts file", cfg: service.Config{ContactsFile: hookFile("http://hooks.cust.example/ddr")}, setting: "customers.cust-42.webhooks[0].url"},
		{name: "http webhook to a public address", cfg: service.Config{Contacts: &app.Contacts{LeadDPA: app.DPA{Name: "DPC-IE", Endpoints: app.Endpoints{Webhooks: []app.Webhook{{URL: "http://192.0.2.10/in", Secret: "s"}}}}}}, setting: "lead_dpa.webhooks[0].url"},
		{name: "missing CA file", cfg: service.Config{SMTPAddr: "mail.example.com:587", TLSCAFile: "/nonexistent/ca.pem"}, setting: "--notification-tls-ca-file"},

		{name: "smtp name with STARTTLS", cfg: service.Config{SMTPAddr: "mail.example.com:587"}},
		{name: "smtp name with implicit TLS", cfg: service.Config{SMTPAddr: "mail.example.com:465"}},
		{name: "smtp loopback without TLS", cfg: service.Config{SMTPAddr: "127.0.0.1:2525", SMTPTLS: "none"}},
		{name: "smtp localhost v6 without TLS", cfg: service.Config{SMTPAddr: "[::1]:2525", SMTPTLS: "none"}},
		{name: "https webhook", cfg: service.Config{ContactsFile: hookFile("https://hooks.cust.example/ddr")}},
		{name: "http webhook on loopback", cfg: service.Config{ContactsFile: hookFile("http://127.0.0.1:9000/ddr")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Contacts == nil && cfg.ContactsFile == "" {
				cfg.Contacts = &app.Contacts{LeadDPA: lead}
			}
			cfg.SweepInterval, cfg.LeaseTTL = time.Hour, time.Minute
			_, err := service.New(ctx, deps, cfg)
			if tc.setting == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.setting) {
				t.Errorf("error %q does not name %s", err, tc.setting)
			}
			if strings.HasPrefix(tc.setting, "--notification-smtp") && tc.cfg.SMTPTLS == "none" && !errors.Is(err, app.ErrPlaintext) {
				t.Errorf("error %v does not wrap ErrPlaintext", err)
			}
		})
	}
}
