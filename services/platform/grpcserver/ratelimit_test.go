package grpcserver_test

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

func dialAs(t *testing.T, addr, uri string) *grpc.ClientConn {
	t.Helper()
	id, err := auth.ParseSPIFFE(uri)
	if err != nil {
		t.Fatal(err)
	}
	return dial(t, addr, grpcclient.WithDevIdentity(id))
}

// One caller's flood empties its own bucket only: it gets RESOURCE_EXHAUSTED
// with the delay to wait, and another caller still gets its whole burst.
func TestRateLimitIsPerCaller(t *testing.T) {
	const burst = 5
	f := start(t, grpcserver.Config{DevIdentityHeader: true, RateLimit: grpcserver.RateLimit{PerSecond: 0.2, Burst: burst}}, whoAmI())
	flooder := dialAs(t, f.addr, "spiffe://ddr.example/group-member/flood")
	other := dialAs(t, f.addr, "spiffe://ddr.example/group-member/calm")

	var refused error
	for n := 0; n < 200 && refused == nil; n++ {
		_, err := callDo(t.Context(), flooder, "")
		switch status.Code(err) {
		case codes.OK:
		case codes.ResourceExhausted:
			refused = err
			if n < burst {
				t.Errorf("refused after %d calls, before the burst of %d", n, burst)
			}
		default:
			t.Fatalf("call %d: %v", n, err)
		}
	}
	if refused == nil {
		t.Fatal("200 calls at 0.2/s with a burst of 5 were all allowed")
	}
	var retry *errdetails.RetryInfo
	for _, d := range status.Convert(refused).Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() <= 0 {
		t.Errorf("refusal %v carries no positive RetryInfo delay", refused)
	}
	if _, err := callWatch(t.Context(), flooder, ""); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("flooder's stream call: %v, want ResourceExhausted", err)
	}
	for n := range burst {
		if _, err := callDo(t.Context(), other, ""); err != nil {
			t.Errorf("other caller's call %d during the flood: %v", n+1, err)
		}
	}
}

func TestZeroRateLimitLimitsNothing(t *testing.T) {
	f := start(t, grpcserver.Config{DevIdentityHeader: true}, whoAmI())
	conn := devDial(t, f.addr)
	for n := range 300 {
		if _, err := callDo(t.Context(), conn, ""); err != nil {
			t.Fatalf("call %d without a limit: %v", n, err)
		}
	}
}
