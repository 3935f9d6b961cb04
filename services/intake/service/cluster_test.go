package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// Read-your-writes across intake replicas on a 3-node JetStream cluster
// (issue 20), the stream and buckets at 3 replicas, fsync on: two intake
// processes, each connected to another node, as a deployment scaled to two
// is. A group member's system balances over them, so its Get right after
// a Submit may reach the other replica, whose reads are direct gets that
// any node answers, including one that has not applied the write yet. The
// Get must find the request every time, its targets opened (the data key
// was made through the other node too), and a retried Submit through the
// other replica must be answered with the same request (the idempotency
// key was written through the other node).
func TestReplicas_SubmitThroughOneGetThroughTheOtherOnA3NodeCluster(t *testing.T) {
	nodes := natstest.StartCluster(t, 3, natstest.Options{SyncAlways: true})
	// One key-encryption key and one fingerprint key for both, as a
	// deployment mounts one secret into every replica.
	a, b := runnertest.StartReplicas(t, runnertest.Options{Insecure: true}, nodes[1].Server.ClientURL(), nodes[2].Server.ClientURL(), build)
	replicas := []intakev1.IntakeServiceClient{client(t, a, memberA), client(t, b, memberA)}

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	const rounds = 200
	notFound, failed, wrongRetry := 0, 0, 0
	var firstErr error
	for i := range rounds {
		via, other := replicas[i%2], replicas[(i+1)%2]
		demand := &intakev1.SubmitRequest{IdempotencyKey: fmt.Sprintf("ryw-%04d", i), Request: oral(time.Now().Add(-time.Hour), fmt.Sprintf("t%d@example.org", i))}
		sub, err := via.Submit(ctx, demand)
		if err != nil {
			t.Fatalf("Submit %d: %v", i, err)
		}
		got, err := other.Get(ctx, &intakev1.GetRequest{RequestId: sub.GetRequestId()})
		switch {
		case status.Code(err) == codes.NotFound:
			notFound++
		case err != nil:
			failed++
			firstErr = err
		case got.GetRequest().GetRequestId() != sub.GetRequestId() ||
			got.GetRequest().GetContent().GetTargets()[0].GetValue() != fmt.Sprintf("t%d@example.org", i):
			failed++
			firstErr = fmt.Errorf("Get %d returned %v", i, got.GetRequest())
		}
		if i%10 == 0 {
			again, err := other.Submit(ctx, demand)
			switch {
			case err != nil:
				wrongRetry++
				firstErr = fmt.Errorf("retried Submit %d through the other replica: %w", i, err)
			case again.GetRequestId() != sub.GetRequestId() || !again.GetReplayed():
				wrongRetry++
				firstErr = fmt.Errorf("retried Submit %d through the other replica: id %q replayed %v, want %q replayed", i, again.GetRequestId(), again.GetReplayed(), sub.GetRequestId())
			}
		}
	}
	if notFound+failed+wrongRetry > 0 {
		t.Errorf("of %d requests submitted through one replica, %d were NOT_FOUND and %d failed through the other right after; %d of %d retries through the other were not answered with the request (last error: %v)",
			rounds, notFound, failed, wrongRetry, rounds/10, firstErr)
	}
}
