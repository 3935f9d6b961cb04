package grpcserver_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

// The identity step's rules for person tokens that need no issuer to
// check (issue 23; services/allinone/suite/console_test.go runs the rest
// over mTLS against the dev OpenID provider).
func TestIssue23_ConsoleCannotActForAPersonWithoutTheirTokenAndNoOneElseMaySendOne(t *testing.T) {
	const console = "spiffe://ddr.example/service/console"
	f := start(t, grpcserver.Config{DevIdentityHeader: true, ConsoleIdentity: console}, whoAmI())
	consoleID, err := auth.ParseSPIFFE(console)
	if err != nil {
		t.Fatal(err)
	}
	asConsole := dial(t, f.addr, grpcclient.WithDevIdentity(consoleID))
	asStaff := devDial(t, f.addr)
	withToken := auth.WithPersonToken(t.Context(), "header.payload.signature")

	for name, call := range map[string]func(context.Context) error{
		"console without a token": func(ctx context.Context) error { _, err := callDo(ctx, asConsole, ""); return err },
		"console stream without a token": func(ctx context.Context) error {
			_, err := callWatch(ctx, asConsole, "")
			return err
		},
	} {
		if err := call(t.Context()); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want UNAUTHENTICATED", name, err)
		}
	}
	// No issuer configured: even a token cannot make a console call.
	if _, err := callDo(withToken, asConsole, ""); status.Code(err) != codes.Unauthenticated {
		t.Errorf("console with a token and no issuer: %v, want UNAUTHENTICATED", err)
	}
	if _, err := callDo(withToken, asStaff, ""); status.Code(err) != codes.Unauthenticated {
		t.Errorf("staff with a token: %v, want UNAUTHENTICATED", err)
	}
	if got, err := callDo(t.Context(), asStaff, ""); err != nil || got != staffURI {
		t.Errorf("staff without a token: %q, %v; want themselves", got, err)
	}
	if _, err := healthpb.NewHealthClient(asConsole).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("the console's health check: %v", err)
	}
}
