package suite_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// A kubelet's gRPC probe presents no client certificate: --health-addr
// answers it in plaintext with each service's serving state, and serves
// nothing else there.
func TestHealthProbe_PlaintextListenerServesHealthOnly(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	if p.Info.HealthAddr == "" {
		t.Fatal("no health address")
	}
	conn, err := grpc.NewClient(p.Info.HealthAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, svc := range []string{"ddr.intake.v1.IntakeService", "ddr.assessment.v1.AssessmentService", "ddr.notification.v1.NotificationService", "ddr.reporting.v1.ReportingService"} {
		res, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			t.Fatalf("health of %s: %v", svc, err)
		}
		if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("%s: %v, want SERVING", svc, res.GetStatus())
		}
	}
	_, err = intakev1.NewIntakeServiceClient(conn).Get(ctx, &intakev1.GetRequest{RequestId: "0197a000-0000-7000-8000-000000000000"})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("intake on the health listener: %v, want UNIMPLEMENTED", err)
	}
}
