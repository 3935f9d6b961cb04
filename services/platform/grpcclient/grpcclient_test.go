package grpcclient_test

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
)

func TestDevIdentityIsSentOnEveryCall(t *testing.T) {
	addr, seen := headerServer(t)

	id, err := auth.ParseSPIFFE("spiffe://ddr.example/service/intake")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpcclient.Dial(addr, grpcclient.WithDevIdentity(id))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	for range 2 {
		if _, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatal(err)
		}
		if got := <-seen; len(got) != 1 || got[0] != id.URI {
			t.Errorf("server saw %s = %q, want [%q]", auth.DevIdentityHeader, got, id.URI)
		}
	}
}

func TestDialWithoutDevIdentitySendsNoHeader(t *testing.T) {
	addr, seen := headerServer(t)

	conn, err := grpcclient.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	if _, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := <-seen; len(got) != 0 {
		t.Errorf("server saw %s = %q, want none", auth.DevIdentityHeader, got)
	}
}

// headerServer is a bare gRPC health server reporting the identity header
// of each call, so these tests check the client alone.
func headerServer(t *testing.T) (addr string, seen <-chan []string) {
	t.Helper()
	ch := make(chan []string, 10)
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		ch <- metadata.ValueFromIncomingContext(ctx, auth.DevIdentityHeader)
		return h(ctx, req)
	}))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), ch
}
