package grpcserver

import (
	"context"
	"fmt"
	"runtime/debug"

	"google.golang.org/grpc"

	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// recovered logs a panic with its stack and returns the Internal status
// directly, so the error mapping passes it through without logging twice.
func (i interceptors) recovered(ctx context.Context, method string, p any) error {
	id := traceID(ctx)
	i.logger.ErrorContext(ctx, "panic in handler", "method", method, telemetry.TraceIDKey, id,
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return internalError(id)
}

func (i interceptors) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, i.recovered(ctx, info.FullMethod, p)
		}
	}()
	return handler(ctx, req)
}

func (i interceptors) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = i.recovered(ss.Context(), info.FullMethod, p)
		}
	}()
	return handler(srv, ss)
}
