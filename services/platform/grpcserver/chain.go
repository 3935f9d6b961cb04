package grpcserver

import (
	"log/slog"

	"github.com/ddrsuite/ddr/services/platform/auth/persontoken"
	"github.com/ddrsuite/ddr/services/platform/authz"

	"google.golang.org/grpc"
)

// The chain, outermost first: identity, rate limit, access log,
// authorization, error mapping, panic recovery. Identity comes first so the
// limit can count per caller and the access log can name the caller (and
// record refusals); the limit comes before the access log so that a flood
// costs a counter increment, not a log line per call;
// recovery sits next to the handler so that a panic becomes an ordinary
// Internal status that the access log then records.
type interceptors struct {
	logger    *slog.Logger
	devHeader bool
	policy    *authz.Policy
	limiter   *limiter
	// trustDomain, when set, is the only trust domain a caller may be of.
	trustDomain string
	// console is the console's SPIFFE ID, the one caller whose calls
	// carry a person token; persons verifies those tokens (nil: none is
	// accepted).
	console string
	persons *persontoken.Verifier
}

func (i interceptors) unary() []grpc.UnaryServerInterceptor {
	return []grpc.UnaryServerInterceptor{contextStep(i.withIdentity).unary, i.rateLimitUnary, i.accessLogUnary, contextStep(i.authorize).unary, i.errorsUnary, i.recoverUnary}
}

func (i interceptors) stream() []grpc.StreamServerInterceptor {
	return []grpc.StreamServerInterceptor{contextStep(i.withIdentity).stream, i.rateLimitStream, i.accessLogStream, contextStep(i.authorize).stream, i.errorsStream, i.recoverStream}
}
