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
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/natsx"
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
	// Replicas of the DDR stream and KV buckets (3 on a production cluster).
	Replicas int
	// OTLPEndpoint receives traces (host:port, OTLP gRPC); empty: none.
	OTLPEndpoint string
	LogLevel     string
	LogJSON      bool
	// DevIdentity accepts the caller identity from the x-ddr-identity
	// header. Only for development until mTLS is in place.
	DevIdentity bool
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
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&c.LogJSON, "log-json", false, "log as JSON")
	fs.BoolVar(&c.DevIdentity, "dev-identity", true, "accept caller identity from the x-ddr-identity header (development only)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "bound of the graceful shutdown")
}

// Run runs the process until ctx ends, then shuts down: health NOT_SERVING,
// gRPC drained, consumers stopped, NATS drained, the embedded server stopped
// (its store flushed), traces flushed last.
func Run(ctx context.Context, cfg Config, logger *slog.Logger, build BuildFunc) (err error) {
	if logger == nil {
		logger = slog.Default()
	}
	shutdownTelemetry, err := telemetry.Setup(ctx, telemetry.Config{
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
		if terr := shutdownTelemetry(sctx); terr != nil {
			logger.Warn("flushing traces failed", "err", terr)
		}
	}()

	nc, stopNATS, info, err := connectNATS(cfg, logger)
	if err != nil {
		return err
	}
	defer stopNATS()

	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{Replicas: cfg.Replicas}); err != nil {
		return err
	}
	deps := Deps{NC: nc, JS: js, Store: eventstore.NewStore(js, eventstore.WithLogger(logger)), Logger: logger, Replicas: cfg.Replicas}

	compCtx, stopComponents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopComponents()
	comps, err := build(compCtx, deps)
	if err != nil {
		return err
	}
	var names []string
	for _, c := range comps {
		names = append(names, c.GRPCServiceNames()...)
	}
	srv, err := grpcserver.New(grpcserver.Config{Logger: logger, ServiceNames: names, DevIdentityHeader: cfg.DevIdentity})
	if err != nil {
		return err
	}
	for _, c := range comps {
		c.RegisterGRPC(srv.GRPC())
	}

	started := 0
	defer func() {
		stopComponents()
		for _, c := range comps[:started] {
			c.Stop()
		}
	}()
	for _, c := range comps {
		if err := c.Start(compCtx); err != nil {
			return err
		}
		started++
	}

	lis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.GRPCAddr, err)
	}
	info.GRPCAddr = lis.Addr().String()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(lis) }()
	for _, n := range names {
		srv.SetServing(n, true)
	}
	logger.Info("ddr ready", "process", cfg.Name, "grpc", info.GRPCAddr, "nats", info.NATSURL, "services", len(names))
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
	srv.Shutdown(sctx)
	return err
}

// connectNATS connects to cfg.NATSURL, or starts the embedded server.
func connectNATS(cfg Config, logger *slog.Logger) (*nats.Conn, func(), Info, error) {
	if cfg.NATSURL != "" {
		nc, err := natsx.Connect(cfg.NATSURL, cfg.Name, natsx.WithLogger(logger))
		if err != nil {
			return nil, nil, Info{}, err
		}
		return nc, func() { _ = nc.Drain() }, Info{NATSURL: cfg.NATSURL}, nil
	}
	ecfg := natsx.EmbeddedConfig{
		StoreDir:   filepath.Join(cfg.DataDir, "jetstream"),
		ServerName: cfg.Name,
		SyncAlways: cfg.SyncAlways,
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
	nc, err := natsx.ConnectInProcess(s, cfg.Name, natsx.WithLogger(logger))
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
