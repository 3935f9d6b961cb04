// Package runnertest starts a ddr process inside a test, exactly as its
// binary would run (embedded JetStream on disk, gRPC on a loopback socket),
// so service tests exercise the production wiring rather than a double.
package runnertest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Options of a test process. Zero values are fine.
type Options struct {
	// DataDir holds JetStream's files; default a fresh t.TempDir(). Reuse
	// one across Start calls to test a restart.
	DataDir string
	// NATSURL connects to an external server instead of an embedded one.
	NATSURL string
	// Logs receives the process's logs (JSON, debug level); default discard.
	Logs io.Writer
	// SpanExporter receives every span.
	SpanExporter sdktrace.SpanExporter
	// NoSync turns off fsync on every write (benchmarks).
	NoSync bool
}

// Proc is a running process.
type Proc struct {
	Info   runner.Info
	cancel context.CancelFunc
	done   chan error
}

// Start runs build as a process and returns once it serves. The process is
// stopped at the end of the test.
func Start(tb testing.TB, opts Options, build runner.BuildFunc) *Proc {
	tb.Helper()
	if opts.DataDir == "" {
		opts.DataDir = tb.TempDir()
	}
	logs := opts.Logs
	if logs == nil {
		logs = io.Discard
	}
	ready := make(chan runner.Info, 1)
	cfg := runner.Config{
		Name:            "ddr-test",
		GRPCAddr:        "127.0.0.1:0",
		NATSURL:         opts.NATSURL,
		DataDir:         opts.DataDir,
		NATSListen:      "127.0.0.1:-1",
		SyncAlways:      !opts.NoSync,
		Replicas:        1,
		DevIdentity:     true,
		ShutdownTimeout: 10 * time.Second,
		Ready:           func(i runner.Info) { ready <- i },
		SpanExporter:    opts.SpanExporter,
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proc{cancel: cancel, done: make(chan error, 1)}
	logger := telemetry.NewLogger(logs, slog.LevelDebug, true)
	go func() { p.done <- runner.Run(ctx, cfg, logger, build) }()
	select {
	case p.Info = <-ready:
	case err := <-p.done:
		cancel()
		tb.Fatalf("process did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		tb.Fatal("process did not start within 60s")
	}
	tb.Cleanup(func() { p.Stop(tb) })
	return p
}

// Stop shuts the process down and waits for it; calling it twice is fine.
func (p *Proc) Stop(tb testing.TB) {
	tb.Helper()
	if p.cancel == nil {
		return
	}
	p.cancel()
	p.cancel = nil
	if err := <-p.done; err != nil {
		tb.Errorf("process stopped with: %v", err)
	}
}

// Dial connects to the process as the caller named by a SPIFFE-style URI
// (dev identity header), or anonymously when uri is empty.
func (p *Proc) Dial(tb testing.TB, uri string) *grpc.ClientConn {
	tb.Helper()
	var opts []grpc.DialOption
	if uri != "" {
		id, err := auth.ParseSPIFFE(uri)
		if err != nil {
			tb.Fatal(err)
		}
		opts = append(opts, grpcclient.WithDevIdentity(id))
	}
	conn, err := grpcclient.Dial(p.Info.GRPCAddr, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}
