package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/metadata"
)

// PersonTokenHeader is the gRPC metadata key of a person's token: the
// console forwards the signed-in person's OIDC ID token there as
// "Bearer <token>" on every call (issue 23).
const PersonTokenHeader = "authorization"

// Errors of [BearerToken] and of package persontoken's verifier. Their
// texts name no person and never quote the token.
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

// WithVia returns ctx recording that the call came through via (the
// console) on behalf of the identity in ctx.
func WithVia(ctx context.Context, via Identity) context.Context { return viaKey.with(ctx, via) }

// Via returns the client the call came through when it acts for a person
// (the console); ok is false for a caller acting as itself.
func Via(ctx context.Context) (via Identity, ok bool) { return viaKey.from(ctx) }
