// Package persontoken verifies the person tokens the console forwards
// (issue 23): OIDC ID tokens, checked with go-oidc. It is a package of its
// own so that callers of package auth (the public Go client among them)
// do not link an OIDC library they never use.
package persontoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

// Verifier checks a person's OIDC ID token: signature (the issuer's
// published keys), issuer, audience and expiry. It fetches the issuer's
// discovery document on first use, not at start, since the provider may
// start after the services; the provider's keys are cached (and fetched
// again when a token names a key not yet seen, e.g. after a key rotation).
type Verifier struct {
	issuer, audience string
	client           *http.Client

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

// New returns a verifier of tokens of issuer for audience
// (the console's client id). It fetches nothing yet.
func New(issuer, audience string) (*Verifier, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("persontoken: OpenID issuer %q is not an http(s) URL", issuer)
	}
	if audience == "" {
		return nil, errors.New("persontoken: an OpenID audience (the console's client id) is required")
	}
	return &Verifier{
		issuer:   issuer,
		audience: audience,
		// Bounds discovery and key fetches, which run inside a call.
		client: &http.Client{Timeout: 10 * time.Second},
	}, nil
}

// Issuer is the issuer tokens must come from.
func (v *Verifier) Issuer() string { return v.issuer }

// Verify checks raw and returns its subject.
func (v *Verifier) Verify(ctx context.Context, raw string) (subject string, err error) {
	verifier, err := v.load(ctx)
	if err != nil {
		return "", err
	}
	tok, err := verifier.Verify(oidc.ClientContext(ctx, v.client), raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return "", fmt.Errorf("%w: %w", auth.ErrPersonToken, auth.ErrPersonTokenExpired)
		}
		// go-oidc's text may quote claims of the token; only the kind
		// of failure leaves this package.
		return "", auth.ErrPersonToken
	}
	if tok.Subject == "" {
		return "", fmt.Errorf("%w: no subject", auth.ErrPersonToken)
	}
	return tok.Subject, nil
}

// load discovers the issuer once; a failure is not cached, so the next
// call tries again.
func (v *Verifier) load(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The key set keeps this context for its later fetches: it must
	// outlive (and carry nothing of) the call that happened to discover
	// the issuer. The client's timeout bounds each fetch.
	pctx := oidc.ClientContext(context.Background(), v.client) //nolint:contextcheck // see above
	p, err := oidc.NewProvider(pctx, v.issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", auth.ErrIssuerUnavailable, v.issuer)
	}
	v.verifier = p.VerifierContext(pctx, &oidc.Config{ClientID: v.audience})
	return v.verifier, nil
}
