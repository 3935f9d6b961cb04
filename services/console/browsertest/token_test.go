package browsertest_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/console/web"
	"github.com/ddrsuite/ddr/services/devoidc/devop"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// The console cannot act for a person who has not signed in: over the
// console's own certificate (what web.New dials with), a call without the
// person's token, with a token that is not one, or with an expired one is
// refused by the real suite; the person's fresh token is accepted. The
// browser test shows the accepted path through the pages.
func TestConsoleCannotCallWithoutThePersonsValidToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	op, err := devop.Start(ctx, devop.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = op.Close() }()
	expiredOP, err := devop.Start(ctx, devop.Config{Addr: "127.0.0.1:0", IDTokenLifetime: -time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = expiredOP.Close() }()
	cfg := suite.DefaultConfig()
	p := runnertest.Start(t, runnertest.Options{OIDCIssuer: op.Issuer()}, cfg.Build)

	tlsCfg, err := p.PKI.Files(web.Identity).ClientTLS()
	if err != nil {
		t.Fatalf("the console's certificate in the PKI: %v", err)
	}
	conn, err := grpcclient.Dial(p.Info.GRPCAddr, grpcclient.WithTLS(tlsCfg))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	as := assessmentv1.NewAssessmentServiceClient(conn)
	list := func(token string) error {
		c := ctx
		if token != "" {
			c = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
		}
		_, err := as.ListCases(c, &assessmentv1.ListCasesRequest{})
		return err
	}
	redirect := "http://127.0.0.1:7700/auth/callback"
	fresh, err := devop.SignIn(ctx, op.Issuer(), devop.DefaultClientID, redirect, "alice", devop.DevPassword)
	if err != nil {
		t.Fatalf("alice signs in: %v", err)
	}
	// Signed by another provider (not the suite's issuer) and already expired.
	stale, err := devop.SignIn(ctx, expiredOP.Issuer(), devop.DefaultClientID, redirect, "alice", devop.DevPassword)
	if err != nil {
		t.Fatalf("a token from the other provider: %v", err)
	}
	for name, token := range map[string]string{
		"no token":                               "",
		"not a token":                            "alice",
		"a token from another, expired provider": stale,
		"alice's token with one byte changed":    fresh[:len(fresh)-2] + flip(fresh[len(fresh)-2]),
	} {
		if err := list(token); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want Unauthenticated", name, err)
		}
	}
	if err := list(fresh); err != nil {
		t.Errorf("alice's own fresh token: %v", err)
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}
