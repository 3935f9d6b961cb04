package grpcserver

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/ddrsuite/ddr/services/platform/auth/persontoken"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Config is what every service must decide about its server.
type Config struct {
	// Logger receives access logs, internal errors and panics. Nil means
	// slog.Default(). It is wrapped with telemetry.TraceHandler, so lines
	// carry the call's trace id.
	Logger *slog.Logger
	// ServiceNames are the fully qualified gRPC service names reported by
	// the health service (e.g. "ddr.intake.v1.IntakeService"). They and the
	// overall "" entry start SERVING.
	ServiceNames []string
	// DevIdentityHeader trusts the x-ddr-identity metadata as the caller's
	// identity when there is no client certificate. Anyone can set it, so
	// it is for the insecure development mode only (runner --dev-identity).
	DevIdentityHeader bool
	// TLS, when set, serves TLS with this configuration; set ClientAuth to
	// tls.RequireAndVerifyClientCert for mTLS. Nil serves plaintext.
	TLS *tls.Config
	// Policy, when set, decides every call before its handler runs: the
	// caller must be authenticated and the method in the policy table with
	// one of the caller's roles (health and reflection: any caller). Every
	// process sets it (see runner); nil is for tests of a single handler.
	Policy *authz.Policy
	// MaxRecvMsgSize bounds a request message, in bytes. Zero means
	// [DefaultMaxRecvMsgSize].
	MaxRecvMsgSize int
	// MaxConcurrentStreams bounds the calls in flight on one connection.
	// Zero means [DefaultMaxConcurrentStreams].
	MaxConcurrentStreams uint32
	// TrustDomain, when set, refuses callers of any other SPIFFE trust
	// domain (UNAUTHENTICATED), whatever vouched for them.
	TrustDomain string
	// RateLimit limits each caller's calls; the zero value limits nothing
	// (the binaries set [DefaultRateLimit] through runner's flags).
	RateLimit RateLimit
	// ConsoleIdentity is the console's SPIFFE ID (issue 23). A call over
	// its certificate must carry a signed-in person's token (the
	// "authorization: Bearer" metadata), and is then the person's call:
	// their identity, from Policy's OIDC subjects, is the caller; the
	// console's is auth.Via. Health and reflection excepted, the console
	// never calls as itself, and no other caller may send a person token.
	ConsoleIdentity string
	// PersonTokens verifies the console's person tokens; nil refuses
	// every console call.
	PersonTokens *persontoken.Verifier
}

// Defaults of the limits in [Config].
const (
	// DefaultMaxRecvMsgSize is 1 MiB: a request becomes one event of at
	// most NATS's default max_payload (1 MiB), so a larger one could never
	// be recorded; refusing it at the door costs nothing downstream. (gRPC's
	// own default is 4 MiB.)
	DefaultMaxRecvMsgSize = 1 << 20
	// DefaultMaxConcurrentStreams is 128 calls in flight per connection
	// (gRPC's own default is unlimited): a client multiplexing more gets
	// queued by its transport instead of making the server hold them all.
	DefaultMaxConcurrentStreams = 128
	// DefaultStreamWorkers is how many goroutines serve calls and keep
	// their stacks between them (grpc.NumStreamWorkers): the clients a
	// 2-core server keeps busy, and some; each costs its stack, tens of
	// kilobytes, while idle.
	DefaultStreamWorkers = 64
)

// Option tunes a Server beyond its Config.
type Option interface{ apply(*options) }

type options struct {
	tracerProvider trace.TracerProvider
	serverOptions  []grpc.ServerOption
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// WithTracerProvider makes server spans with tp instead of the global
// provider; tests use it to avoid global state.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(o *options) { o.tracerProvider = tp })
}

// WithServerOptions adds grpc.ServerOptions, e.g. keepalive or message size
// limits. Interceptors added this way run inside ours.
func WithServerOptions(opts ...grpc.ServerOption) Option {
	return optionFunc(func(o *options) { o.serverOptions = append(o.serverOptions, opts...) })
}

// Server is a gRPC server with health, reflection, tracing, identity,
// error mapping and access logs in place. Register services on [Server.GRPC].
type Server struct {
	grpc   *grpc.Server
	health *health.Server
}

// New builds a Server; it does not listen yet. It fails on a bad Config.
func New(cfg Config, opts ...Option) (*Server, error) {
	for _, name := range cfg.ServiceNames {
		if name == "" {
			return nil, errors.New("grpcserver: empty name in ServiceNames; the whole server's entry \"\" is always there")
		}
	}
	var o options
	for _, opt := range opts {
		opt.apply(&o)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger = slog.New(telemetry.TraceHandler(logger.Handler()))

	var otelOpts []otelgrpc.Option
	if o.tracerProvider != nil {
		otelOpts = append(otelOpts, otelgrpc.WithTracerProvider(o.tracerProvider))
	}
	chain := interceptors{logger: logger, devHeader: cfg.DevIdentityHeader, policy: cfg.Policy, trustDomain: cfg.TrustDomain, limiter: newLimiter(cfg.RateLimit),
		console: cfg.ConsoleIdentity, persons: cfg.PersonTokens}
	maxRecv := cfg.MaxRecvMsgSize
	if maxRecv <= 0 {
		maxRecv = DefaultMaxRecvMsgSize
	}
	maxStreams := cfg.MaxConcurrentStreams
	if maxStreams == 0 {
		maxStreams = DefaultMaxConcurrentStreams
	}
	serverOpts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRecv),
		grpc.MaxConcurrentStreams(maxStreams),
		// Calls run on long-lived goroutines whose stacks have grown to
		// what a call through the interceptors, the app and the event
		// store needs, instead of a new goroutine per call that grows
		// its stack again every time: 10 % of the suite's CPU at 32
		// clients went to copying stacks (runtime.newstack) in the
		// profile of Get (issue 19). When every worker is busy, grpc
		// starts a goroutine as before, so this bounds nothing.
		grpc.NumStreamWorkers(DefaultStreamWorkers),
		grpc.StatsHandler(telemetry.ServerStatsHandler(otelgrpc.NewServerHandler(otelOpts...))),
		grpc.ChainUnaryInterceptor(chain.unary()...),
		grpc.ChainStreamInterceptor(chain.stream()...),
	}
	if cfg.TLS != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	serverOpts = append(serverOpts, o.serverOptions...)

	s := &Server{grpc: grpc.NewServer(serverOpts...), health: health.NewServer()}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	for _, name := range cfg.ServiceNames {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	return s, nil
}

// Health is the server's health service, for [ServeHealth].
func (s *Server) Health() healthpb.HealthServer { return s.health }

// ServeHealth serves h alone, in plaintext, on lis until stop is called:
// the gRPC health probe of a kubelet or load balancer speaks neither the
// client certificate nor the identity the main server requires, and the
// serving state is all it learns there.
func ServeHealth(lis net.Listener, h healthpb.HealthServer) (stop func()) {
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, h)
	go func() { _ = srv.Serve(lis) }()
	return srv.Stop
}

// GRPC returns the underlying server, to register services on before Serve.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// SetServing reports name as serving or not in health checks, e.g. NOT_SERVING
// while a projection is rebuilding. The name "" is the whole server.
func (s *Server) SetServing(name string, serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus(name, st)
}

// Serve accepts calls on lis until Shutdown; it then returns nil.
func (s *Server) Serve(lis net.Listener) error { return s.grpc.Serve(lis) }

// Shutdown first reports every service NOT_SERVING, so load balancers and
// peers stop sending work, then waits for calls in flight to finish. When
// ctx ends first it cuts the remaining calls off and returns ctx.Err().
// Shut the server down before the TracerProvider, or its last spans are lost.
func (s *Server) Shutdown(ctx context.Context) error {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
		return ctx.Err()
	}
}
