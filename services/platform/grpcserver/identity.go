package grpcserver

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

// anonymousMethods need no caller identity when the server has no policy
// (handler tests); resolving one there could only fail a probe because of a
// bad header. With a policy, every call needs an authenticated caller.
func anonymousMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.v1.ServerReflection/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.v1alpha.ServerReflection/")
}

func (i interceptors) withIdentity(ctx context.Context, method string) (context.Context, error) {
	if anonymousMethod(method) && i.policy == nil {
		return ctx, nil
	}
	id, ok, err := auth.ServerIdentity(ctx, i.devHeader)
	if err != nil {
		i.logger.WarnContext(ctx, "rejected caller identity", "method", method, "error", err)
		return ctx, status.Error(codes.Unauthenticated, err.Error())
	}
	if ok && i.trustDomain != "" && id.TrustDomain() != i.trustDomain {
		i.logger.WarnContext(ctx, "rejected caller of another trust domain", "method", method, "trust_domain", id.TrustDomain())
		return ctx, status.Errorf(codes.Unauthenticated, "callers must be of trust domain %s", i.trustDomain)
	}
	token, hasToken, err := auth.BearerToken(ctx)
	if err != nil {
		i.logger.WarnContext(ctx, "rejected person token", "method", method, "reason", "malformed header")
		return ctx, status.Error(codes.Unauthenticated, err.Error())
	}
	switch {
	case ok && i.console != "" && id.URI == i.console:
		if !hasToken {
			if anonymousMethod(method) {
				// Health and reflection describe the server, not a
				// request: the console may probe them as itself.
				return auth.NewContext(ctx, id), nil
			}
			return ctx, status.Error(codes.Unauthenticated, "the console acts only for a signed-in person: a person token is required")
		}
		person, err := i.person(ctx, method, token)
		if err != nil {
			return ctx, err
		}
		// The person is the caller (authz, four eyes, the actor of
		// events); the console is kept for the access log.
		return auth.WithVia(auth.NewContext(ctx, person), id), nil
	case hasToken:
		i.logger.WarnContext(ctx, "rejected person token", "method", method, "reason", "not over the console's certificate")
		return ctx, status.Error(codes.Unauthenticated, "person tokens are accepted only over the console's certificate")
	case ok:
		return auth.NewContext(ctx, id), nil
	}
	return ctx, nil
}

// person verifies the token the console forwarded and maps its subject to
// the person through the roles file. Neither the token nor the subject is
// logged or returned: a subject may be a name or an e-mail address.
func (i interceptors) person(ctx context.Context, method, token string) (auth.Identity, error) {
	if i.persons == nil || i.policy == nil {
		i.logger.WarnContext(ctx, "rejected console call", "method", method, "reason", "no OpenID issuer configured")
		return auth.Identity{}, status.Error(codes.Unauthenticated, "this server accepts no person tokens (no --oidc-issuer): console calls are refused")
	}
	sub, err := i.persons.Verify(ctx, token)
	switch {
	case errors.Is(err, auth.ErrIssuerUnavailable):
		i.logger.ErrorContext(ctx, "person token not checked", "method", method, "issuer", i.persons.Issuer(), "err", err)
		return auth.Identity{}, status.Error(codes.Unavailable, "the OpenID issuer is unavailable; try again")
	case errors.Is(err, auth.ErrPersonTokenExpired):
		i.logger.InfoContext(ctx, "rejected person token", "method", method, "reason", "expired")
		return auth.Identity{}, status.Error(codes.Unauthenticated, "the person token has expired: sign in again")
	case err != nil:
		i.logger.WarnContext(ctx, "rejected person token", "method", method, "reason", "invalid")
		return auth.Identity{}, status.Error(codes.Unauthenticated, "the person token is not valid (signature, issuer, audience or expiry)")
	}
	person, ok := i.policy.Person(sub)
	if !ok {
		i.logger.WarnContext(ctx, "rejected person token", "method", method, "reason", "subject not in the roles file")
		return auth.Identity{}, status.Error(codes.PermissionDenied, "the signed-in person is not in the roles file (oidc_subjects)")
	}
	return person, nil
}

// contextStream replaces a stream's context, the only way to hand values to
// a stream handler.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s contextStream) Context() context.Context { return s.ctx }

// contextStep is an interceptor step that may refuse a call or hand the
// handler a new context (the caller's identity, then its roles): one way
// to run such a step for unary and stream calls alike.
type contextStep func(ctx context.Context, method string) (context.Context, error)

func (step contextStep) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := step(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (step contextStep) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := step(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return handler(srv, contextStream{ServerStream: ss, ctx: ctx})
}
