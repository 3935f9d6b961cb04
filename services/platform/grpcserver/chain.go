package grpcserver

import (
	"log/slog"

	"google.golang.org/grpc"
)

// The chain, outermost first: identity, access log, error mapping, panic
// recovery. Identity comes first so the access log can name the caller;
// recovery sits next to the handler so that a panic becomes an ordinary
// Internal status that the access log then records.
type interceptors struct {
	logger    *slog.Logger
	devHeader bool
}

func (i interceptors) unary() []grpc.UnaryServerInterceptor {
	return []grpc.UnaryServerInterceptor{i.identityUnary, i.accessLogUnary, i.errorsUnary, i.recoverUnary}
}

func (i interceptors) stream() []grpc.StreamServerInterceptor {
	return []grpc.StreamServerInterceptor{i.identityStream, i.accessLogStream, i.errorsStream, i.recoverStream}
}
