package suite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// Two group members over mTLS: one floods intake, the other's submissions
// still go through, and the refusals are counted by caller kind only.
func TestRateLimit_OneMembersFloodDoesNotStarveAnother(t *testing.T) {
	const burst = 5
	p := startSuite(t, runnertest.Options{RateLimit: 0.2, RateBurst: burst})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	flooder := intakev1.NewIntakeServiceClient(p.Dial(t, "spiffe://ddr.local/group-member/acme-eu"))
	other := intakev1.NewIntakeServiceClient(p.Dial(t, "spiffe://ddr.local/group-member/acme-us"))

	var refused error
	for n := 0; n < 200 && refused == nil; n++ {
		_, err := flooder.List(ctx, &intakev1.ListRequest{})
		switch status.Code(err) {
		case codes.OK:
		case codes.ResourceExhausted:
			refused = err
		default:
			t.Fatalf("flood call %d: %v", n, err)
		}
	}
	if refused == nil {
		t.Fatal("the flood was never limited")
	}
	hasRetry := false
	for _, d := range status.Convert(refused).Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok && r.GetRetryDelay().AsDuration() > 0 {
			hasRetry = true
		}
	}
	if !hasRetry {
		t.Errorf("refusal %v lacks RetryInfo", refused)
	}

	for n := range burst {
		if _, err := other.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "calm-" + string(rune('a'+n)), Request: secRequest("acct-calm")}); err != nil {
			t.Errorf("the other member's submission %d during the flood: %v", n+1, err)
		}
	}

	body := scrape(t, p.Info.MetricsAddr)
	if !strings.Contains(body, `ddr_rate_limited_total{caller_kind="group-member"}`) {
		t.Errorf("metrics lack the refusals by caller kind:\n%s", ddrLines(body))
	}
	if strings.Contains(body, "acme-eu") {
		t.Error("a metric names the flooding caller")
	}
}
