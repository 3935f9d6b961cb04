package grpcserver_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

const intakeService = "ddr.intake.v1.IntakeService"

func check(t *testing.T, c healthpb.HealthClient, service string) (healthpb.HealthCheckResponse_ServingStatus, codes.Code) {
	t.Helper()
	resp, err := c.Check(t.Context(), &healthpb.HealthCheckRequest{Service: service})
	return resp.GetStatus(), status.Code(err)
}

func TestHealthReportsEachNamedServiceAndFollowsSetServing(t *testing.T) {
	f := start(t, grpcserver.Config{ServiceNames: []string{intakeService, probeService}}, panicky())
	c := healthpb.NewHealthClient(dial(t, f.addr))

	for _, name := range []string{"", intakeService, probeService} {
		if st, code := check(t, c, name); st != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, %v; want SERVING", name, st, code)
		}
	}
	if _, code := check(t, c, "ddr.unknown.v1.Nope"); code != codes.NotFound {
		t.Errorf("Check(unknown) code = %v, want NotFound", code)
	}

	f.srv.SetServing(intakeService, false)
	if st, _ := check(t, c, intakeService); st != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("after SetServing(false): %v, want NOT_SERVING", st)
	}
	if st, _ := check(t, c, probeService); st != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("other service: %v, want SERVING", st)
	}
}

func TestShutdownReportsNotServingThenDrains(t *testing.T) {
	f := start(t, grpcserver.Config{ServiceNames: []string{intakeService}}, panicky())
	c := healthpb.NewHealthClient(dial(t, f.addr))

	// A Watch stream is the only way to hear from the server once it stops
	// accepting calls; it also keeps the drain waiting until we close it.
	watchCtx, stopWatching := context.WithCancel(t.Context())
	defer stopWatching()
	watch, err := c.Watch(watchCtx, &healthpb.HealthCheckRequest{Service: intakeService})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first Watch update = %v, %v; want SERVING", resp, err)
	}

	shutdown := make(chan error, 1)
	go func() { shutdown <- f.srv.Shutdown(context.Background()) }()

	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("Watch update after Shutdown = %v, %v; want NOT_SERVING", resp, err)
	}
	stopWatching()
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown() = %v, want nil after calls drained", err)
	}
}

func TestShutdownCutsOffCallsWhenContextEnds(t *testing.T) {
	started := make(chan struct{})
	f := start(t, grpcserver.Config{}, &probe{do: func(ctx context.Context, _ string) (string, error) {
		close(started)
		<-ctx.Done()
		return "", ctx.Err()
	}})
	conn := dial(t, f.addr)

	callErr := make(chan error, 1)
	go func() {
		_, err := callDo(context.Background(), conn, "block")
		callErr <- err
	}()
	<-started

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := f.srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown(ended ctx) = %v, want context.Canceled", err)
	}
	if err := <-callErr; status.Code(err) != codes.Unavailable {
		t.Errorf("in-flight call ended with %v, want Unavailable", err)
	}
}
