package runner

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// Issue 23: what the process is told about the console is checked at start.
func TestIssue23_ConsoleSettingsAreCheckedAtStart(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := func(mod func(*Config)) Config {
		dir := t.TempDir()
		c := Config{DataDir: filepath.Join(dir, "data"), DevIdentity: true, KEKFile: filepath.Join(dir, "secrets", "kek")}
		mod(&c)
		return c
	}
	sec, err := loadSecurity(cfg(func(c *Config) { c.OIDCIssuer = "http://127.0.0.1:7701" }), logger)
	if err != nil {
		t.Fatal(err)
	}
	if sec.console != "spiffe://ddr.local/service/console" || sec.issuer() != "http://127.0.0.1:7701" {
		t.Errorf("console %q issuer %q", sec.console, sec.issuer())
	}
	// The dev roles (no roles file in dev mode) map the dev users.
	if id, ok := sec.policy.Person("alice"); !ok || id.URI != "spiffe://ddr.local/staff/alice" {
		t.Errorf("alice is %+v, %v", id, ok)
	}
	if sec, err := loadSecurity(cfg(func(*Config) {}), logger); err != nil {
		t.Errorf("no issuer: %v", err)
	} else if sec.persons != nil {
		t.Error("no issuer, yet a verifier of person tokens")
	}

	for name, mod := range map[string]func(*Config){
		"console is a suite service": func(c *Config) { c.ConsoleIdentity = "spiffe://ddr.local/service/intake" },
		"console is a person":        func(c *Config) { c.ConsoleIdentity = "spiffe://ddr.local/staff/alice" },
		"console of another domain":  func(c *Config) { c.ConsoleIdentity = "spiffe://other.example/service/console" },
		"issuer not a URL":           func(c *Config) { c.OIDCIssuer = "127.0.0.1:7701" },
		"roles file maps a service": func(c *Config) {
			c.RolesFile = filepath.Join(t.TempDir(), "roles.json")
			if err := os.WriteFile(c.RolesFile, []byte(`{"staff": {}, "oidc_subjects": {"x": "service/intake"}}`), 0o600); err != nil {
				t.Fatal(err)
			}
		},
	} {
		if _, err := loadSecurity(cfg(mod), logger); err == nil {
			t.Errorf("%s: started", name)
		}
	}
}
