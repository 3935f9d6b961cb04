package grpcserver

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// RateLimit is a token bucket per caller: each caller (each identity) may
// make Burst calls at once and PerSecond calls a second after that. One
// caller's flood empties only its own bucket, so it never starves another.
// Each server process keeps its own buckets: behind N replicas a caller
// may make up to N times as many calls.
type RateLimit struct {
	// PerSecond is the sustained rate of calls per caller; zero or less
	// turns the limit off.
	PerSecond float64
	// Burst is how many calls a caller may make at once; at least 1.
	Burst int
}

// Defaults of the rate limit the binaries apply (a zero [Config] applies
// none). 100 calls a second with bursts of 200 per caller is far above
// what a group member's system, a person at ddrctl or a peer service
// needs, and far below a flood (a member sent 2,500 submits in 3 s).
const (
	DefaultRateLimit = 100
	DefaultRateBurst = 200
)

// maxIdleBuckets is how many callers' buckets are kept before full (idle)
// ones are dropped: a dropped bucket comes back full, as it was.
const maxIdleBuckets = 10_000

// anonymousKind labels calls without an identity (no policy, health).
const anonymousKind = "anonymous"

var rateInstruments = telemetry.Instruments("github.com/ddrsuite/ddr/services/platform/grpcserver",
	func(m metric.Meter) metric.Int64Counter {
		return telemetry.Counter(m, "ddr.rate_limited", "Calls refused with RESOURCE_EXHAUSTED by the per-caller rate limit, by caller kind")
	})

// limiter holds the buckets of one server.
type limiter struct {
	limit RateLimit

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newLimiter(l RateLimit) *limiter {
	if l.PerSecond <= 0 {
		return nil
	}
	l.Burst = max(l.Burst, 1)
	return &limiter{limit: l, buckets: map[string]*rate.Limiter{}}
}

// wait returns zero if caller may call now, else how long until it may.
func (l *limiter) wait(caller string, now time.Time) time.Duration {
	l.mu.Lock()
	b, ok := l.buckets[caller]
	if !ok {
		if len(l.buckets) >= maxIdleBuckets {
			for k, other := range l.buckets {
				if other.TokensAt(now) >= float64(l.limit.Burst) {
					delete(l.buckets, k)
				}
			}
		}
		b = rate.NewLimiter(rate.Limit(l.limit.PerSecond), l.limit.Burst)
		l.buckets[caller] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		// Refused calls take no token: a caller that keeps hammering
		// still gets through at the sustained rate once it backs off.
		r.CancelAt(now)
		return d
	}
	return 0
}

// check refuses the call if its caller is over the limit.
func (l *limiter) check(ctx context.Context) error {
	if l == nil {
		return nil
	}
	caller, kind := "", anonymousKind
	if id, ok := auth.FromContext(ctx); ok {
		caller, kind = id.URI, id.Kind
	}
	d := l.wait(caller, time.Now())
	if d == 0 {
		return nil
	}
	// Caller kinds only: a bounded label set, and no identity in metrics.
	rateInstruments().Add(ctx, 1, metric.WithAttributes(attribute.String("caller_kind", kind)))
	st, err := status.New(codes.ResourceExhausted, "rate limit exceeded: retry after the delay in the RetryInfo detail").
		WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	if err != nil {
		return status.Error(codes.ResourceExhausted, "rate limit exceeded")
	}
	return st.Err()
}

func (i interceptors) rateLimitUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := i.limiter.check(ctx); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (i interceptors) rateLimitStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := i.limiter.check(ss.Context()); err != nil {
		return err
	}
	return handler(srv, ss)
}
