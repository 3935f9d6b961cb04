package suite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// Read-your-writes for staff across replicas on a 3-node JetStream
// cluster (issue 20), the stream and buckets at 3 replicas, fsync on: two
// full replicas of the suite, each connected to another node. A staff
// member's console balances over assessment's replicas, so the case it
// reads right after a command may come from the other replica, which reads
// the case's history with direct gets that any node answers, including one
// that has not applied the command's event yet. The case read back must
// show the command every time.
func TestReplicas_StaffCommandThroughOneReadThroughTheOtherOnA3NodeCluster(t *testing.T) {
	nodes := natstest.StartCluster(t, 3, natstest.Options{SyncAlways: true})
	cfg := suite.DefaultConfig()
	// One key-encryption key and one fingerprint key for both, as a
	// deployment mounts one secret into every replica.
	a, b := runnertest.StartReplicas(t, runnertest.Options{Insecure: true}, nodes[1].Server.ClientURL(), nodes[2].Server.ClientURL(), cfg.Build)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(a.Dial(t, member))
	staff := []assessmentv1.AssessmentServiceClient{
		assessmentv1.NewAssessmentServiceClient(a.Dial(t, reviewer)),
		assessmentv1.NewAssessmentServiceClient(b.Dial(t, reviewer)),
	}

	const cases = 50
	stale := 0
	var firstStale string
	for i := range cases {
		sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: fmt.Sprintf("staff-ryw-%03d", i), Request: request(time.Now().Add(-time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		via, other := staff[i%2], staff[(i+1)%2]
		// The case opens asynchronously (assessment's consumer); wait
		// for it through the replica that will take the commands.
		eventually(t, func() error {
			_, err := via.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: sub.GetRequestId()})
			if status.Code(err) == codes.NotFound {
				return errString("case not opened yet")
			}
			return err
		})
		claimed, err := via.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: sub.GetRequestId()})
		if err != nil {
			t.Fatal(err)
		}
		factors, err := via.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: sub.GetRequestId(), Factors: factorsOf("assessed"), RightsAssessment: "two named accounts; the intrusion is limited"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := other.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: sub.GetRequestId()})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetCase().GetVersion() < factors.GetCase().GetVersion() || got.GetCase().GetAssignee() != claimed.GetCase().GetAssignee() {
			stale++
			if firstStale == "" {
				firstStale = fmt.Sprintf("case %s at version %d assigned %q, want version %d assigned %q",
					sub.GetRequestId(), got.GetCase().GetVersion(), got.GetCase().GetAssignee(), factors.GetCase().GetVersion(), claimed.GetCase().GetAssignee())
			}
		}
	}
	if stale > 0 {
		t.Errorf("%d of %d cases read through the other assessment replica right after a command missed it; first: %s", stale, cases, firstStale)
	}
}
