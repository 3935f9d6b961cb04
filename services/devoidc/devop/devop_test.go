package devop_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/ddrsuite/ddr/services/devoidc/devop"
)

const callback = "http://127.0.0.1:7799/auth/callback"

func start(t *testing.T, cfg devop.Config) *devop.Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	cfg.RedirectURIs = append(cfg.RedirectURIs, callback)
	s, err := devop.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// The whole authorization code flow with PKCE, as the console runs it: the
// ID token is signed by the provider's published key, for the console's
// client, about the person who typed their password.
func TestEachDevUserSignsInWithCodeAndPKCEAndGetsAVerifiableIDToken(t *testing.T) {
	s := start(t, devop.Config{})
	provider, err := oidc.NewProvider(t.Context(), s.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: devop.DefaultClientID})
	for _, user := range devop.DevUsers {
		raw, err := devop.SignIn(t.Context(), s.Issuer(), devop.DefaultClientID, callback, user, devop.DevPassword)
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		tok, err := verifier.Verify(t.Context(), raw)
		if err != nil {
			t.Fatalf("%s: verify: %v", user, err)
		}
		if tok.Subject != user || tok.Issuer != s.Issuer() {
			t.Errorf("%s: subject %q issuer %q", user, tok.Subject, tok.Issuer)
		}
		if life := tok.Expiry.Sub(tok.IssuedAt); life != devop.DefaultIDTokenLifetime {
			t.Errorf("%s: token lifetime %v, want %v", user, life, devop.DefaultIDTokenLifetime)
		}
	}
}

func TestWrongPasswordOrUnknownUserGetsNoToken(t *testing.T) {
	s := start(t, devop.Config{})
	for _, c := range [][2]string{{"alice", "wrong"}, {"mallory", devop.DevPassword}, {"alice", ""}} {
		if _, err := devop.SignIn(t.Context(), s.Issuer(), devop.DefaultClientID, callback, c[0], c[1]); err == nil {
			t.Errorf("%q/%q signed in", c[0], c[1])
		}
	}
}

func TestAnUnregisteredRedirectIsRefused(t *testing.T) {
	s := start(t, devop.Config{})
	if _, err := devop.SignIn(t.Context(), s.Issuer(), devop.DefaultClientID, "https://evil.example/cb", "alice", devop.DevPassword); err == nil {
		t.Error("signed in with a redirect to another site")
	}
}

func TestATokenForAnotherClientFailsTheConsolesAudience(t *testing.T) {
	s := start(t, devop.Config{ExtraClientIDs: []string{"other-app"}})
	raw, err := devop.SignIn(t.Context(), s.Issuer(), "other-app", callback, "alice", devop.DevPassword)
	if err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.NewProvider(t.Context(), s.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: devop.DefaultClientID}).Verify(t.Context(), raw); err == nil {
		t.Error("a token for other-app passed as the console's")
	}
}

func TestANegativeLifetimeIssuesAnExpiredToken(t *testing.T) {
	s := start(t, devop.Config{IDTokenLifetime: -time.Minute})
	raw, err := devop.SignIn(t.Context(), s.Issuer(), devop.DefaultClientID, callback, "alice", devop.DevPassword)
	if err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.NewProvider(t.Context(), s.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	_, err = provider.Verifier(&oidc.Config{ClientID: devop.DefaultClientID}).Verify(t.Context(), raw)
	var expired *oidc.TokenExpiredError
	if !errors.As(err, &expired) {
		t.Errorf("verify = %v, want TokenExpiredError", err)
	}
}

// The form a person (and the browser test) fills in: labelled inputs with
// the ids the contract names.
func TestTheLoginPageHasLabelledFields(t *testing.T) {
	s := start(t, devop.Config{})
	resp, err := http.Get(s.Issuer() + "/login/username?authRequestID=x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<label for="username">`, `id="username"`, `<label for="password">`, `id="password"`, `type="submit"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("login page lacks %s", want)
		}
	}
}

func TestStartRefusesANonLoopbackAddress(t *testing.T) {
	if _, err := devop.Start(t.Context(), devop.Config{Addr: "0.0.0.0:0"}); err == nil {
		t.Error("listening on every interface")
	}
}
