package grpcserver_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

// With a policy, a method the table does not list is closed, even to a
// caller holding every role, and every call needs an authenticated caller;
// health answers any authenticated caller.
func TestPolicyClosesUnlistedMethodsAndRequiresACaller(t *testing.T) {
	id, err := auth.ParseSPIFFE(staffURI)
	if err != nil {
		t.Fatal(err)
	}
	p, err := authz.New(id.TrustDomain(), authz.Staff{id.Name: authz.StaffRoles})
	if err != nil {
		t.Fatal(err)
	}
	f := start(t, grpcserver.Config{DevIdentityHeader: true, Policy: p}, whoAmI())
	known := devDial(t, f.addr)
	if _, err := callDo(t.Context(), known, ""); status.Code(err) != codes.PermissionDenied {
		t.Errorf("unlisted unary method: %v, want PermissionDenied", err)
	}
	if _, err := callWatch(t.Context(), known, ""); status.Code(err) != codes.PermissionDenied {
		t.Errorf("unlisted stream method: %v, want PermissionDenied", err)
	}
	if _, err := healthpb.NewHealthClient(known).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health for an authenticated caller: %v", err)
	}
	anonymous := dial(t, f.addr)
	if _, err := healthpb.NewHealthClient(anonymous).Check(t.Context(), &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("anonymous health check: %v, want Unauthenticated", err)
	}
	if !strings.Contains(f.logs.String(), `"code":"PermissionDenied"`) {
		t.Error("the refusal is not in the access log")
	}
}
