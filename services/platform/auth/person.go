package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"google.golang.org/grpc/metadata"
)

// PersonTokenHeader is the gRPC metadata key of a person's token: the
// console forwards the signed-in person's OIDC ID token there as
// "Bearer <token>" on every call (issue 23).
const PersonTokenHeader = "authorization"

// Errors of [PersonVerifier.Verify] and [BearerToken]. Their texts name no
// person and never quote the token.
var (
	// ErrPersonToken is wrapped when a token is missing its parts, badly
	// signed, expired, of another issuer or for another audience.
	ErrPersonToken = errors.New("invalid person token")
	// ErrPersonTokenExpired is wrapped (with ErrPersonToken) when the
	// token is valid but past its expiry: the person signs in again.
	ErrPersonTokenExpired = errors.New("the person token has expired")
	// ErrIssuerUnavailable is wrapped when the issuer's discovery document
	// or keys cannot be fetched: not the caller's fault.
	ErrIssuerUnavailable = errors.New("the OpenID issuer is unavailable")
)

// WithPersonToken returns ctx with rawIDToken as the outgoing person token,
// for the console's calls on behalf of the signed-in person.
func WithPersonToken(ctx context.Context, rawIDToken string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, PersonTokenHeader, "Bearer "+rawIDToken)
}

// BearerToken returns the person token of an incoming call. present is
// false without one; a header that is there but not one "Bearer <token>"
// is an error, so a misbuilt call fails instead of running as the console.
func BearerToken(ctx context.Context) (token string, present bool, err error) {
	values := metadata.ValueFromIncomingContext(ctx, PersonTokenHeader)
	switch len(values) {
	case 0:
		return "", false, nil
	case 1:
	default:
		return "", true, fmt.Errorf("%w: %s sent %d times", ErrPersonToken, PersonTokenHeader, len(values))
	}
	scheme, tok, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(tok) == "" {
		return "", true, fmt.Errorf("%w: %s must be \"Bearer <token>\"", ErrPersonToken, PersonTokenHeader)
	}
	return strings.TrimSpace(tok), true, nil
}

// PersonVerifier checks a person's OIDC ID token: signature (the issuer's
// published keys), issuer, audience and expiry. It fetches the issuer's
// discovery document on first use, not at start, since the provider may
// start after the services; the provider's keys are cached (and fetched
// again when a token names a key not yet seen, e.g. after a key rotation).
type PersonVerifier struct {
	issuer, audience string
	client           *http.Client

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

// NewPersonVerifier returns a verifier of tokens of issuer for audience
// (the console's client id). It fetches nothing yet.
func NewPersonVerifier(issuer, audience string) (*PersonVerifier, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("auth: OpenID issuer %q is not an http(s) URL", issuer)
	}
	if audience == "" {
		return nil, errors.New("auth: an OpenID audience (the console's client id) is required")
	}
	return &PersonVerifier{
		issuer:   issuer,
		audience: audience,
		// Bounds discovery and key fetches, which run inside a call.
		client: &http.Client{Timeout: 10 * time.Second},
	}, nil
}

// Issuer is the issuer tokens must come from.
func (v *PersonVerifier) Issuer() string { return v.issuer }

// Verify checks raw and returns its subject.
func (v *PersonVerifier) Verify(ctx context.Context, raw string) (subject string, err error) {
	verifier, err := v.load(ctx)
	if err != nil {
		return "", err
	}
	tok, err := verifier.Verify(oidc.ClientContext(ctx, v.client), raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return "", fmt.Errorf("%w: %w", ErrPersonToken, ErrPersonTokenExpired)
		}
		// go-oidc's text may quote claims of the token; only the kind
		// of failure leaves this package.
		return "", ErrPersonToken
	}
	if tok.Subject == "" {
		return "", fmt.Errorf("%w: no subject", ErrPersonToken)
	}
	return tok.Subject, nil
}

// load discovers the issuer once; a failure is not cached, so the next
// call tries again.
func (v *PersonVerifier) load(ctx context.Context) (*oidc.IDTokenVerifier, error) {
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
		return nil, fmt.Errorf("%w: %s", ErrIssuerUnavailable, v.issuer)
	}
	v.verifier = p.VerifierContext(pctx, &oidc.Config{ClientID: v.audience})
	return v.verifier, nil
}

type viaKey struct{}

// WithVia returns ctx recording that the call came through via (the
// console) on behalf of the identity in ctx.
func WithVia(ctx context.Context, via Identity) context.Context {
	return context.WithValue(ctx, viaKey{}, via)
}

// Via returns the client the call came through when it acts for a person
// (the console); ok is false for a caller acting as itself.
func Via(ctx context.Context) (via Identity, ok bool) {
	via, ok = ctx.Value(viaKey{}).(Identity)
	return via, ok
}
