// Package runnertest starts a ddr process inside a test, exactly as its
// binary would run (embedded JetStream on disk, gRPC on a loopback socket),
// so service tests exercise the production wiring rather than a double.
package runnertest

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsacl"
	"github.com/ddrsuite/ddr/services/platform/pki"
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
	// OTLPEndpoint exports the spans over OTLP gRPC (e.g. to Jaeger).
	OTLPEndpoint string
	// Insecure runs the development mode: plaintext, identity from the
	// x-ddr-identity header. By default the process serves mTLS with a PKI
	// made for the test in DataDir/pki, as the binary does.
	Insecure bool
	// Staff assigns roles to staff; default [DevStaff].
	Staff authz.Staff
	// NATSMaxPayload lowers the embedded server's max message size, to make
	// an append fail for real.
	NATSMaxPayload int32
	// RateLimit and RateBurst set each caller's token bucket; zero: no limit.
	RateLimit float64
	RateBurst int
	// AdequacyFile is the process's --adequacy-file; empty: the embedded
	// registry.
	AdequacyFile string
	// OIDCIssuer is the process's --oidc-issuer (issue 23: the console's
	// person tokens); empty: console calls are refused. OIDCAudience and
	// ConsoleIdentity default as the flags do.
	OIDCIssuer, OIDCAudience, ConsoleIdentity string
	// OIDCSubjects maps the console's people; default
	// [authz.DevSubjects], the dev OpenID provider's users.
	OIDCSubjects authz.Subjects
}

// DevStaff is the default role assignment of test processes.
func DevStaff() authz.Staff {
	return authz.Staff{"alice": {authz.Reviewer}, "bob": {authz.Approver}, "carol": {authz.Legal}}
}

// Proc is a running process.
type Proc struct {
	Info runner.Info
	// PKI is the test's PKI directory; empty when Insecure.
	PKI    pki.Dir
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
	staff := opts.Staff
	if staff == nil {
		staff = DevStaff()
	}
	subjects := opts.OIDCSubjects
	if subjects == nil {
		subjects = authz.DevSubjects()
	}
	dir := pki.Dir(filepath.Join(opts.DataDir, "pki"))
	// The test's KEK and fingerprint key sit in <data dir>/pki (tests
	// place a corpus's KEK there); the process is told so, since its
	// default is outside the data directory.
	kekFile := filepath.Join(string(dir), runner.KEKFileName)
	if !opts.Insecure {
		if _, _, err := pki.Ensure(dir, pki.EnsureOptions{}); err != nil {
			tb.Fatalf("test PKI: %v", err)
		}
	}
	if _, err := keys.EnsureKEKFile(kekFile); err != nil {
		tb.Fatalf("test KEK: %v", err)
	}
	if _, err := keys.EnsureFingerprintKeyFile(kekFile); err != nil {
		tb.Fatalf("test fingerprint key: %v", err)
	}
	ready := make(chan runner.Info, 1)
	cfg := runner.Config{
		Name:            natsacl.Admin,
		GRPCAddr:        "127.0.0.1:0",
		NATSURL:         opts.NATSURL,
		DataDir:         opts.DataDir,
		NATSListen:      "127.0.0.1:-1",
		SyncAlways:      !opts.NoSync,
		NATSMaxPayload:  opts.NATSMaxPayload,
		RateLimit:       opts.RateLimit,
		RateBurst:       opts.RateBurst,
		AdequacyFile:    opts.AdequacyFile,
		Replicas:        1,
		DevIdentity:     opts.Insecure,
		PKIDir:          string(dir),
		KEKFile:         kekFile,
		Staff:           staff,
		OIDCSubjects:    subjects,
		OIDCIssuer:      opts.OIDCIssuer,
		OIDCAudience:    opts.OIDCAudience,
		ConsoleIdentity: opts.ConsoleIdentity,
		ShutdownTimeout: 10 * time.Second,
		Ready:           func(i runner.Info) { ready <- i },
		SpanExporter:    opts.SpanExporter,
		OTLPEndpoint:    opts.OTLPEndpoint,
		// Metrics on a free port; Info.MetricsAddr says which.
		MetricsAddr: "127.0.0.1:0",
		// The plaintext health probe too; Info.HealthAddr.
		HealthAddr: "127.0.0.1:0",
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proc{cancel: cancel, done: make(chan error, 1)}
	if !opts.Insecure {
		p.PKI = dir
	}
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

// Dial connects to the process as the caller named by a SPIFFE-style URI:
// with a client certificate issued for uri by the test CA, or in Insecure
// mode with the dev identity header. An empty uri connects without a
// certificate (or header).
func (p *Proc) Dial(tb testing.TB, uri string) *grpc.ClientConn {
	tb.Helper()
	var opts []grpc.DialOption
	if p.PKI != "" {
		opts = append(opts, grpcclient.WithTLS(p.ClientTLS(tb, uri)))
	} else if uri != "" {
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

// ClientTLS is a TLS client configuration trusting the test CA and, unless
// uri is empty, presenting a fresh certificate for uri.
func (p *Proc) ClientTLS(tb testing.TB, uri string) *tls.Config {
	tb.Helper()
	ca, err := pki.LoadCA(p.PKI)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: ca.Pool()}
	if uri == "" {
		return cfg
	}
	leaf, err := ca.Issue(uri, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := leaf.TLS()
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg
}

// NATS connects to the process's NATS server as uri (a service, the admin
// process or an SRE; see package natsacl), or plainly in Insecure mode.
func (p *Proc) NATS(tb testing.TB, uri string) *nats.Conn {
	tb.Helper()
	// Tests provoke permission violations on purpose; they see them as errors.
	opts := []nats.Option{nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {})}
	if p.PKI != "" {
		opts = append(opts, nats.Secure(p.ClientTLS(tb, uri)))
		if id, err := auth.ParseSPIFFE(uri); err == nil && id.Kind == auth.KindService {
			opts = append(opts, nats.CustomInboxPrefix(natsacl.InboxPrefix(id.Name)))
		}
	}
	nc, err := nats.Connect(p.Info.NATSURL, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}
