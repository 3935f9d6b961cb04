package grpcserver

import (
	"context"
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
	if ok {
		ctx = auth.NewContext(ctx, id)
	}
	return ctx, nil
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
