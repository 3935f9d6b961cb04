package suite_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

var suiteServices = []string{
	"ddr.intake.v1.IntakeService",
	"ddr.assessment.v1.AssessmentService",
	"ddr.notification.v1.NotificationService",
	"ddr.reporting.v1.ReportingService",
}

// What an operator sees of a running all-in-one: the four services through
// reflection (as grpcurl lists them), SERVING on the standard health check,
// and the append-only DDR stream on the embedded server's client port.
func TestAllInOne_ServesFourServicesWithHealthReflectionAndTheStream(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := p.Dial(t, "spiffe://ddr.local/sre/oncall") // health and reflection: any authenticated caller

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	res, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, s := range res.GetListServicesResponse().GetService() {
		listed = append(listed, s.GetName())
	}
	health := healthpb.NewHealthClient(conn)
	for _, svc := range suiteServices {
		if !slices.Contains(listed, svc) {
			t.Errorf("reflection lists %v, missing %s", listed, svc)
		}
		hr, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %s = %v, %v; want SERVING", svc, hr.GetStatus(), err)
		}
	}

	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/sre/oncall"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if !cfg.DenyDelete || !cfg.DenyPurge || !slices.Equal(cfg.Subjects, []string{"ddr.req.>"}) || cfg.Storage != jetstream.FileStorage {
		t.Errorf("DDR stream: subjects %v deny delete %v deny purge %v storage %v; want append-only file stream on ddr.req.>",
			cfg.Subjects, cfg.DenyDelete, cfg.DenyPurge, cfg.Storage)
	}
}
