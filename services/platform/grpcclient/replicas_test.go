package grpcclient_test

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/pki"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// A list of replicas is balanced on the client: both replicas serve calls,
// each is checked by TLS against its own host (the list's authority names
// none), and when one stops the other takes every call.
func TestDialListBalancesOverReplicasAndSkipsOneThatStopped(t *testing.T) {
	ca, err := pki.NewCA("test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue("spiffe://ddr.local/service/intake", time.Hour, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := leaf.TLS()
	if err != nil {
		t.Fatal(err)
	}
	serverTLS := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}
	a, stopA := countingServer(t, serverTLS)
	b, _ := countingServer(t, serverTLS)

	conn, err := grpcclient.Dial(a.addr+","+b.addr, grpcclient.WithTLS(&tls.Config{MinVersion: tls.VersionTLS13, RootCAs: ca.Pool()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	h := healthpb.NewHealthClient(conn)
	check := func() error {
		_, err := h.Check(t.Context(), &healthpb.HealthCheckRequest{})
		return err
	}

	testkit.Eventually(t, "calls on both replicas", func() bool {
		if err := check(); err != nil {
			t.Fatalf("call over the list: %v", err)
		}
		return a.calls.Load() > 0 && b.calls.Load() > 0
	})

	stopA()
	// Calls picked before the client saw A go may fail; then B takes all.
	testkit.EventuallyNoError(t, check)
	before := b.calls.Load()
	for range 10 {
		if err := check(); err != nil {
			t.Fatalf("call with one replica down: %v", err)
		}
	}
	if got := b.calls.Load() - before; got != 10 {
		t.Errorf("the surviving replica served %d of 10 calls", got)
	}
}

type replica struct {
	addr  string
	calls *atomic.Int64
}

func countingServer(t *testing.T, cfg *tls.Config) (replica, func()) {
	t.Helper()
	r := replica{calls: new(atomic.Int64)}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)), grpc.UnaryInterceptor(
		func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			r.calls.Add(1)
			return h(ctx, req)
		}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = lis.Addr().String()
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return r, srv.Stop
}
