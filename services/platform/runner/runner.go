// Package runner is the one bootstrap every ddr binary shares: the
// all-in-one and each single-service binary parse the same flags, reach NATS
// the same way (an embedded server or a URL), expose their gRPC services on
// one server and shut down in the one order that loses nothing. Keeping it in
// one place is what makes the all-in-one run the same code paths as
// production.
package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"

	"github.com/ddrsuite/ddr/services/platform/admin"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsx"
	"github.com/ddrsuite/ddr/services/platform/pki"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Component is one service of the suite as a process hosts it.
type Component interface {
	// GRPCServiceNames are the fully qualified gRPC services it serves; the
	// health service reports each of them.
	GRPCServiceNames() []string
	// RegisterGRPC registers its handlers.
	RegisterGRPC(s *grpc.Server)
	// Start starts its consumers and projections and returns once its
	// queries are ready to answer. Background work stops when ctx ends.
	Start(ctx context.Context) error
	// Stop waits for background work to finish after ctx ended.
	Stop()
}

// Deps are what a component is built from.
type Deps struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	Store  *eventstore.Store
	Logger *slog.Logger
	// Replicas is the replication factor for streams and KV buckets.
	Replicas int
	// Keys seals and opens personal data with per-request data keys.
	Keys *keys.Keyring
	// Fingerprints makes keyed digests of personal data (idempotency,
	// duplicate detection): never a plain hash.
	Fingerprints *keys.Fingerprinter
	// Adequacy is the registry every component judges clause 4.2.1 with:
	// the file given by --adequacy-file, else the embedded one. One value
	// per process, so two components never judge with different data.
	Adequacy *policy.AdequacyRegistry

	as func(name string) (Deps, error)
	// index is the request index the stores of the process share (nil in
	// Deps built by hand: each store then has its own).
	index *eventstore.Index
}

// AdequacyRegistry is the registry a component judges clause 4.2.1 with:
// the process's (Adequacy), else, for Deps built by hand, the embedded one.
// Components take it from here so that every one in a process judges with
// the same data.
func (d Deps) AdequacyRegistry() (*policy.AdequacyRegistry, error) {
	if d.Adequacy != nil {
		return d.Adequacy, nil
	}
	reg, err := policy.DefaultAdequacy()
	if err != nil {
		return nil, fmt.Errorf("adequacy registry: %w", err)
	}
	return reg, nil
}

// BuildFunc builds the components a process hosts.
type BuildFunc func(ctx context.Context, d Deps) ([]Component, error)

// Config is the process configuration, set by flags or DDR_* variables.
type Config struct {
	// Name is the process name used for telemetry and NATS.
	Name string
	// GRPCAddr is where the gRPC server listens.
	GRPCAddr string
	// NATSURL connects to an external NATS. Empty starts an embedded server.
	NATSURL string
	// DataDir holds the embedded server's JetStream files.
	DataDir string
	// NATSListen is the embedded server's client address, so the nats CLI
	// can inspect it; port -1 picks a free port.
	NATSListen string
	// SyncAlways fsyncs every JetStream write of the embedded server.
	SyncAlways bool
	// NATSMaxPayload bounds a message of the embedded server; 0: the
	// server default, 1 MiB (tests lower it).
	NATSMaxPayload int32
	// Replicas of the DDR stream and KV buckets (3 on a production cluster).
	Replicas int
	// OTLPEndpoint receives traces (host:port, OTLP gRPC); empty: none.
	OTLPEndpoint string
	// MetricsAddr serves Prometheus metrics at /metrics; empty: none.
	MetricsAddr string
	// HealthAddr serves the gRPC health service alone, in plaintext, for
	// the probes of a kubelet or load balancer (which present no client
	// certificate); empty: none.
	HealthAddr string
	LogLevel   string
	LogJSON    bool
	// DevIdentity is the insecure development mode: plaintext gRPC and
	// NATS, caller identity from the x-ddr-identity header, which anyone can
	// set. Off by default: the process serves mTLS with the PKI in PKIDir.
	DevIdentity bool
	// PKIDir holds ca.crt and <kind>/<name>.crt/.key (see package pki); the
	// process presents service/<Name>. Empty: <DataDir>/pki.
	PKIDir string
	// TrustDomain is the SPIFFE trust domain of every caller and of this
	// process; a certificate of another is refused even if the CA signed
	// it. Empty: ddr.local.
	TrustDomain string
	// CRLFile is the CA's certificate revocation list, reloaded when it
	// changes. Empty: <PKIDir>/crl.pem if it exists (or once it appears).
	CRLFile string
	// RolesFile assigns roles to staff; empty: <PKIDir>/roles.json.
	RolesFile string
	// Staff, when set, is used instead of RolesFile (tests).
	Staff authz.Staff
	// OIDCSubjects, with Staff, maps the console's signed-in people to
	// their identities instead of RolesFile's oidc_subjects (tests).
	OIDCSubjects authz.Subjects
	// OIDCIssuer is the OpenID provider whose ID tokens the console
	// forwards for the person who clicked (issue 23); empty: the console
	// cannot call this process. OIDCAudience is the audience those tokens
	// must have, the console's client id (default ddr-console).
	OIDCIssuer   string
	OIDCAudience string
	// ConsoleIdentity is the console's SPIFFE ID, the only caller whose
	// person tokens are accepted; empty: spiffe://<TrustDomain>/service/console.
	ConsoleIdentity string
	// KEKFile holds the key-encryption key (base64) that wraps the data
	// keys of personal data; empty: [SecretsDir]/kek, outside DataDir. A
	// file others may read stops the start (0400, or 0440 with the
	// process's group).
	KEKFile string
	// FingerprintKeyFile holds the fingerprint key (base64), same rules;
	// empty: fingerprint-key beside the KEK file.
	FingerprintKeyFile string
	// GRPCMaxRecvBytes bounds a gRPC request message; GRPCMaxStreams the
	// calls in flight on one connection (see grpcserver for the defaults).
	GRPCMaxRecvBytes int
	GRPCMaxStreams   uint
	// RateLimit and RateBurst are each caller's token bucket (calls a
	// second, calls at once); a zero RateLimit limits nothing.
	RateLimit float64
	RateBurst int
	// AdequacyFile is the adequacy registry (clause 4.2.1) in the format of
	// platform/policy's adequacy.json; empty: the registry embedded in the
	// binary. An invalid file stops the process at start.
	AdequacyFile string
	// ShutdownTimeout bounds the graceful part of shutdown.
	ShutdownTimeout time.Duration
	// Ready, when set, is called once everything serves (tests use it to
	// learn the bound addresses).
	Ready func(Info)
	// SpanExporter, when set, also receives every span (tests).
	SpanExporter sdktrace.SpanExporter
}

// Info describes a running process.
type Info struct {
	GRPCAddr string
	// NATSURL is the NATS server's client URL.
	NATSURL string
	// MetricsAddr is where /metrics is served; empty if it is not.
	MetricsAddr string
	// HealthAddr is where the plaintext health probe is served; empty if
	// it is not.
	HealthAddr string
}

// RegisterFlags declares the configuration flags. embedded says whether this
// binary starts an embedded NATS server by default (the all-in-one does).
func (c *Config) RegisterFlags(fs *flag.FlagSet, name string, embedded bool) {
	c.Name = name
	fs.StringVar(&c.GRPCAddr, "grpc-addr", "127.0.0.1:7600", "gRPC listen address")
	defURL := "nats://127.0.0.1:4222"
	if embedded {
		defURL = ""
	}
	fs.StringVar(&c.NATSURL, "nats-url", defURL, "NATS server URL; empty starts an embedded server")
	fs.StringVar(&c.DataDir, "data-dir", "./data", "directory of the embedded server's JetStream files")
	fs.StringVar(&c.NATSListen, "nats-listen", "127.0.0.1:4222", "embedded server's client address (port -1: any free port)")
	fs.BoolVar(&c.SyncAlways, "nats-sync-always", true, "fsync every JetStream write of the embedded server")
	fs.IntVar(&c.Replicas, "replicas", 1, "replicas of the DDR stream and KV buckets")
	fs.StringVar(&c.OTLPEndpoint, "otlp-endpoint", "", "OTLP gRPC endpoint for traces (host:port); empty: no export")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", DefaultMetricsAddr, "address serving Prometheus metrics at /metrics; empty: none")
	fs.StringVar(&c.HealthAddr, "health-addr", "", "address serving the gRPC health service alone, in plaintext, for Kubernetes probes; empty: none")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&c.LogJSON, "log-json", false, "log as JSON")
	fs.BoolVar(&c.DevIdentity, "dev-identity", false, "INSECURE development mode: plaintext gRPC and NATS, caller identity from the x-ddr-identity header")
	fs.StringVar(&c.PKIDir, "pki-dir", "", "CA and certificates (ca.crt, <kind>/<name>.crt/.key); empty: <data-dir>/pki")
	fs.StringVar(&c.TrustDomain, "trust-domain", pki.TrustDomain, "SPIFFE trust domain of every caller; certificates of any other are refused")
	fs.StringVar(&c.CRLFile, "crl-file", "", "certificate revocation list (PEM), reloaded when it changes; empty: <pki-dir>/crl.pem if present")
	fs.StringVar(&c.RolesFile, "roles", "", "staff roles file (JSON); empty: <pki-dir>/roles.json")
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", "", "OpenID issuer of the person tokens the console forwards; empty: console calls are refused")
	fs.StringVar(&c.OIDCAudience, "oidc-audience", DefaultOIDCAudience, "audience of the console's person tokens (the console's OIDC client id)")
	fs.StringVar(&c.ConsoleIdentity, "console-identity", "", "SPIFFE ID of the console, the only caller whose person tokens are accepted; empty: spiffe://<trust-domain>/service/console")
	fs.StringVar(&c.KEKFile, "kek-file", "", "key-encryption key file (base64, mode 0400 or 0440) wrapping the personal-data keys; empty: secrets/kek beside the data dir")
	fs.StringVar(&c.FingerprintKeyFile, "fingerprint-key-file", "", "key of the fingerprints of personal data (base64, mode 0400 or 0440); empty: fingerprint-key beside the KEK file")
	fs.StringVar(&c.AdequacyFile, "adequacy-file", "", "adequacy registry for clause 4.2.1 (JSON, the format of the embedded adequacy.json); empty: the embedded registry")
	fs.IntVar(&c.GRPCMaxRecvBytes, "grpc-max-recv-bytes", grpcserver.DefaultMaxRecvMsgSize, "largest gRPC request message accepted, in bytes")
	fs.UintVar(&c.GRPCMaxStreams, "grpc-max-streams", grpcserver.DefaultMaxConcurrentStreams, "gRPC calls in flight per client connection")
	fs.Float64Var(&c.RateLimit, "rate-limit", grpcserver.DefaultRateLimit, "gRPC calls a second each caller (identity) may make, sustained; 0: no limit")
	fs.IntVar(&c.RateBurst, "rate-burst", grpcserver.DefaultRateBurst, "gRPC calls each caller may make at once before --rate-limit applies")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "bound of the graceful shutdown")
}

// Run runs the process until ctx ends, then shuts down: health NOT_SERVING,
// gRPC drained, consumers stopped, NATS drained, the embedded server stopped
// (its store flushed), traces flushed last.
func Run(ctx context.Context, cfg Config, logger *slog.Logger, build BuildFunc) (err error) {
	if logger == nil {
		logger = slog.Default()
	}
	// Before anything listens: the insecure mode must never be reachable
	// from another machine.
	if err := checkInsecureListeners(cfg); err != nil {
		return err
	}
	tel, err := telemetry.Start(ctx, telemetry.Config{
		ServiceName:  cfg.Name,
		OTLPEndpoint: cfg.OTLPEndpoint,
		Insecure:     true,
		Exporter:     cfg.SpanExporter,
	})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if terr := tel.Shutdown(sctx); terr != nil {
			logger.Warn("flushing traces failed", "err", terr)
		}
	}()

	// Before anything connects: a bad registry file must stop the start,
	// not surface as wrong holds later.
	adequacy, err := policy.LoadAdequacy(cfg.AdequacyFile)
	if err != nil {
		return err
	}
	sec, err := loadSecurity(cfg, logger)
	if err != nil {
		return err
	}
	if sec.insecure {
		logger.Warn("INSECURE development mode: plaintext gRPC and NATS, any caller may claim any identity in the x-ddr-identity header; loopback only",
			"process", cfg.Name)
	}
	unobserveMode, err := observeInsecureMode(sec.insecure)
	if err != nil {
		return err
	}
	defer unobserveMode()
	nc, stopNATS, info, err := connectNATS(cfg, sec, logger)
	if err != nil {
		return err
	}
	defer stopNATS()
	var stopMetrics func()
	if info.MetricsAddr, stopMetrics, err = serveMetrics(cfg.MetricsAddr, tel.Metrics, logger); err != nil {
		return err
	}
	defer stopMetrics()

	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if createsStreams(sec, cfg.Name) {
		if err := provision(ctx, js, cfg.Replicas); err != nil {
			return err
		}
	} else if err := waitProvisioned(ctx, js); err != nil {
		return err
	}
	if unobserve, err := consumer.ObserveDeadLetters(js); err != nil {
		logger.Warn("dead letters not observable", "err", err)
	} else {
		defer unobserve()
	}
	if unobserve, err := eventstore.ObserveStorage(js); err != nil {
		logger.Warn("record storage not observable", "err", err)
	} else {
		defer unobserve()
	}
	deps, err := newDeps(nc, sec, logger, cfg.Replicas, cfg.Name, nil)
	if err != nil {
		return err
	}
	deps.Adequacy = adequacy
	if !sec.insecure {
		conns := &componentConns{sec: sec, url: info.NATSURL, base: deps, self: cfg.Name, logger: logger}
		deps.as = conns.as
		conns.base = deps
		defer conns.drain()
	}

	compCtx, stopComponents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopComponents()
	// Every reactor started by a component registers here, for the admin
	// service's dead-letter replays.
	reactors := consumer.NewRegistry()
	compCtx = consumer.WithRegistry(compCtx, reactors)
	comps, err := build(compCtx, deps)
	if err != nil {
		return err
	}
	names := []string{admin.ServiceName}
	for _, c := range comps {
		names = append(names, c.GRPCServiceNames()...)
	}
	adm, err := admin.New(deps.JS, deps.Store, reactors)
	if err != nil {
		return err
	}
	srv, err := grpcserver.New(grpcserver.Config{Logger: logger, ServiceNames: names, DevIdentityHeader: cfg.DevIdentity, TLS: sec.grpcTLS, Policy: sec.policy, TrustDomain: sec.trustDomain,
		ConsoleIdentity: sec.console, PersonTokens: sec.persons,
		MaxRecvMsgSize: cfg.GRPCMaxRecvBytes, MaxConcurrentStreams: uint32(min(cfg.GRPCMaxStreams, math.MaxUint32)),
		RateLimit: grpcserver.RateLimit{PerSecond: cfg.RateLimit, Burst: cfg.RateBurst}},
		grpcserver.WithServerOptions(grpc.ChainUnaryInterceptor(telemetry.UnaryServerRequestID())))
	if err != nil {
		return err
	}
	adm.Register(srv.GRPC())
	for _, c := range comps {
		c.RegisterGRPC(srv.GRPC())
	}

	started := make([]bool, len(comps))
	defer func() {
		stopComponents()
		for i, c := range comps {
			if started[i] {
				c.Stop()
			}
		}
	}()
	if err := startComponents(compCtx, stopComponents, comps, deps, started); err != nil {
		return err
	}

	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.GRPCAddr, err)
	}
	info.GRPCAddr = lis.Addr().String()
	if cfg.HealthAddr != "" {
		hlis, err := net.Listen("tcp", cfg.HealthAddr)
		if err != nil {
			_ = lis.Close()
			return fmt.Errorf("listen %s: %w", cfg.HealthAddr, err)
		}
		info.HealthAddr = hlis.Addr().String()
		// Stopped after the main server's shutdown, which reports every
		// service NOT_SERVING first: the probe sees the drain.
		defer grpcserver.ServeHealth(hlis, srv.Health())()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(lis) }()
	for _, n := range names {
		srv.SetServing(n, true)
	}
	logger.Info("ddr ready", "process", cfg.Name, "grpc", info.GRPCAddr, "metrics", info.MetricsAddr, "health", info.HealthAddr, "nats", info.NATSURL, "services", len(names), "mtls", !sec.insecure, "oidc_issuer", sec.issuer())
	if cfg.Ready != nil {
		cfg.Ready(info)
	}

	select {
	case <-ctx.Done():
		logger.Info("shutting down", "process", cfg.Name)
	case err = <-serveErr:
		logger.Error("grpc server stopped", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// A timeout here means calls still in flight were cut off: worth a
	// warning, but the process is stopping either way.
	if serr := srv.Shutdown(sctx); serr != nil {
		logger.Warn("grpc shutdown cut calls off", "err", serr)
	}
	return err
}

// connectNATS connects to cfg.NATSURL, or starts the embedded server.
func connectNATS(cfg Config, sec *security, logger *slog.Logger) (*nats.Conn, func(), Info, error) {
	clientOpts, err := sec.natsOptions(cfg.Name)
	if err != nil {
		return nil, nil, Info{}, err
	}
	clientOpts = append(clientOpts, natsx.WithLogger(logger))
	if cfg.NATSURL != "" {
		nc, err := natsx.Connect(cfg.NATSURL, cfg.Name, clientOpts...)
		if err != nil {
			return nil, nil, Info{}, err
		}
		return nc, func() { _ = nc.Drain() }, Info{NATSURL: cfg.NATSURL}, nil
	}
	ecfg := natsx.EmbeddedConfig{
		StoreDir:   filepath.Join(cfg.DataDir, "jetstream"),
		ServerName: cfg.Name,
		SyncAlways: cfg.SyncAlways,
		MaxPayload: cfg.NATSMaxPayload,
		TLS:        sec.natsServerTLS,
		Users:      sec.natsUsers,
	}
	host, port, err := splitHostPort(cfg.NATSListen)
	if err != nil {
		return nil, nil, Info{}, err
	}
	ecfg.Host, ecfg.Port = host, port
	if err := os.MkdirAll(ecfg.StoreDir, 0o700); err != nil {
		return nil, nil, Info{}, fmt.Errorf("data dir: %w", err)
	}
	s, err := natsx.StartEmbedded(ecfg, logger)
	if err != nil {
		return nil, nil, Info{}, err
	}
	var nc *nats.Conn
	if sec.insecure {
		nc, err = natsx.ConnectInProcess(s, cfg.Name, clientOpts...)
	} else {
		// Over the loopback listener: the same TLS handshake and user
		// mapping as any other client.
		nc, err = natsx.Connect(s.ClientURL(), cfg.Name, clientOpts...)
	}
	if err != nil {
		natsx.Shutdown(s)
		return nil, nil, Info{}, err
	}
	info := Info{NATSURL: s.ClientURL()}
	return nc, func() {
		if err := drain(nc); err != nil {
			logger.Warn("draining nats connection", "err", err)
		}
		natsx.Shutdown(s)
	}, info, nil
}

// drain flushes what the connection still holds before the server stops.
func drain(nc *nats.Conn) error {
	done := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(done) })
	if err := nc.Drain(); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("timed out")
	}
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("nats listen address %q: %w", addr, err)
	}
	var port int
	if _, err := fmt.Sscanf(p, "%d", &port); err != nil {
		return "", 0, fmt.Errorf("nats listen port %q: %w", p, err)
	}
	return host, port, nil
}

// startComponents starts the components side by side and returns once all
// have started, or the first error (stop then cancels the others' starts).
// Each start rebuilds the component's projections from the whole stream;
// the components share nothing they must start in order (a process may
// host any of them alone), so a process with several is ready when its
// slowest is, not after the sum of all (issue 19, start-up). started[i]
// tells which must be stopped.
func startComponents(ctx context.Context, stop context.CancelFunc, comps []Component, deps Deps, started []bool) error {
	errs := make([]error, len(comps))
	var wg sync.WaitGroup
	for i, c := range comps {
		wg.Go(func() {
			if errs[i] = c.Start(componentContext(ctx, c, deps)); errs[i] != nil {
				stop()
				return
			}
			started[i] = true
		})
	}
	wg.Wait()
	// The first error in the components' order that is not only another's
	// failure cancelling this start.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	return first
}
