package grpcserver

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// mapError turns a handler's error into the status the client sees. Errors
// of unknown kind are logged in full here, and only the trace id leaves.
func (i interceptors) mapError(ctx context.Context, method string, err error) error {
	if s, ok := knownStatus(err); ok {
		return s.Err()
	}
	id := traceID(ctx)
	i.logger.ErrorContext(ctx, "internal error", "method", method, telemetry.TraceIDKey, id, "error", err)
	return internalError(id)
}

func internalError(traceID string) error {
	return status.Error(codes.Internal, "internal error; trace id "+traceID)
}

func (i interceptors) errorsUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, i.mapError(ctx, info.FullMethod, err)
	}
	return resp, nil
}

func (i interceptors) errorsStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := handler(srv, ss); err != nil {
		return i.mapError(ss.Context(), info.FullMethod, err)
	}
	return nil
}
