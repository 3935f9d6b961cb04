package client_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// suiteAddr is the all-in-one the examples talk to, started by TestMain:
// examples cannot start one themselves (they get no testing.T).
var suiteAddr string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ddr-client-example-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s, err := startSuite(dir, "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	suiteAddr = s.addr
	code := m.Run()
	s.stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// proc is an all-in-one running in this test process.
type proc struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// startSuite runs the all-in-one on addr with its data in dir, as the
// binary does in development mode (dev identity header, staff roles of
// runnertest). Unlike runnertest.Start it listens where it is told, so a
// test can restart it on the same address.
func startSuite(dir, addr string) (*proc, error) {
	cfg := suite.DefaultConfig()
	ready := make(chan runner.Info, 1)
	rc := runner.Config{
		Name:            "ddr",
		GRPCAddr:        addr,
		DataDir:         dir,
		NATSListen:      "127.0.0.1:-1",
		SyncAlways:      true,
		Replicas:        1,
		DevIdentity:     true,
		Staff:           runnertest.DevStaff(),
		ShutdownTimeout: 10 * time.Second,
		Ready:           func(i runner.Info) { ready <- i },
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &proc{cancel: cancel, done: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { p.done <- runner.Run(ctx, rc, logger, cfg.Build) }()
	select {
	case info := <-ready:
		p.addr = info.GRPCAddr
		return p, nil
	case err := <-p.done:
		cancel()
		return nil, fmt.Errorf("suite did not start: %w", err)
	case <-time.After(60 * time.Second):
		cancel()
		return nil, fmt.Errorf("suite did not start within 60s")
	}
}

// stop shuts the suite down and waits for it.
func (p *proc) stop() error {
	p.cancel()
	return <-p.done
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
