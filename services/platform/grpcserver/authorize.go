package grpcserver

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

// authorize enforces the policy table before any handler runs. It sits
// inside the access log so that refused calls are logged with their caller.
func (i interceptors) authorize(ctx context.Context, method string) error {
	if i.policy == nil {
		return nil
	}
	id, ok := auth.FromContext(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "an authenticated caller is required")
	}
	if err := i.policy.Authorize(id, method); err != nil {
		return status.Error(codes.PermissionDenied, err.Error())
	}
	return nil
}

func (i interceptors) authorizeUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := i.authorize(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (i interceptors) authorizeStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := i.authorize(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}
