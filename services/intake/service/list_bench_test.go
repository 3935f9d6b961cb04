package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// BenchmarkList measures a member's List, a page of 50 requests whose
// targets are sealed, over gRPC with mTLS against the service on an
// embedded JetStream: the path of issue 19's list_c32 goal. Profile it
// with
//
//	go test -run '^$' -bench 'List$' -benchtime 3s -cpuprofile /tmp/list.cpu ./service/
func BenchmarkList(b *testing.B) {
	p := runnertest.Start(b, runnertest.Options{}, build)
	c := intakev1.NewIntakeServiceClient(p.Dial(b, memberA))
	ctx := context.Background()
	for i := range 60 {
		req := oral(time.Now().Add(-time.Hour), fmt.Sprintf("subject-%d@example.org", i))
		if _, err := c.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: fmt.Sprintf("list-bench-%d", i), Request: req}); err != nil {
			b.Fatal(err)
		}
	}
	res, err := c.List(ctx, &intakev1.ListRequest{PageSize: 50})
	if err != nil {
		b.Fatal(err)
	}
	if n := len(res.GetRequests()); n != 50 {
		b.Fatalf("page of %d requests, want 50", n)
	}
	if v := res.GetRequests()[0].GetContent().GetTargets()[0].GetValue(); v == "" {
		b.Fatal("the page's targets are not opened")
	}
	b.SetParallelism(16) // 16 × GOMAXPROCS clients, near the bench's 32
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.List(ctx, &intakev1.ListRequest{PageSize: 50}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
