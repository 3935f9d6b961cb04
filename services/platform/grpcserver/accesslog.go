package grpcserver

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

// logAccess records one finished call: who, what, outcome, how long. It
// never logs request or response bodies, which hold personal data.
func (i interceptors) logAccess(ctx context.Context, method string, start time.Time, err error) {
	caller := ""
	if id, ok := auth.FromContext(ctx); ok {
		caller = id.URI
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", status.Code(err).String()),
		slog.Duration("duration", time.Since(start)),
		slog.String("caller", caller),
	}
	// A person's call through the console: the caller is the person
	// (their SPIFFE ID, no personal data), via the console.
	if via, ok := auth.Via(ctx); ok {
		attrs = append(attrs, slog.String("via", via.URI))
	}
	i.logger.LogAttrs(ctx, slog.LevelInfo, "rpc", attrs...)
}

func (i interceptors) accessLogUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	i.logAccess(ctx, info.FullMethod, start, err)
	return resp, err
}

func (i interceptors) accessLogStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	i.logAccess(ss.Context(), info.FullMethod, start, err)
	return err
}
