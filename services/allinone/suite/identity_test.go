package suite_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/pki"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// issue mints a client certificate for uri with the process's own CA.
func issue(t *testing.T, p *runnertest.Proc, uri string) pki.Leaf {
	t.Helper()
	ca, err := pki.LoadCA(p.PKI)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(uri, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// dialLeaf opens a new connection presenting leaf, for health checks.
func dialLeaf(t *testing.T, p *runnertest.Proc, leaf pki.Leaf) healthpb.HealthClient {
	t.Helper()
	return healthpb.NewHealthClient(leafConn(t, p, leaf))
}

// leafConn opens a new connection presenting leaf, closed when the test
// ends.
func leafConn(t *testing.T, p *runnertest.Proc, leaf pki.Leaf) *grpc.ClientConn {
	t.Helper()
	cert, err := leaf.TLS()
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.ClientTLS(t, "")
	cfg.Certificates = []tls.Certificate{cert}
	conn, err := grpcclient.Dial(p.Info.GRPCAddr, grpcclient.WithTLS(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// The CA may sign for other trust domains; the process serves only its
// own. A staff member of another trust domain with an approver's name
// would otherwise be a second pair of eyes.
func TestCertificateOfAnotherTrustDomainIsRefusedEvenWhenTheCASignedIt(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, uri := range []string{
		"spiffe://other.example/staff/bob",
		"spiffe://other.example/group-member/acme-eu",
	} {
		conn := leafConn(t, p, issue(t, p, uri))
		if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
			t.Errorf("%s health check: %v, want the handshake refused", uri, err)
		}
		if _, err := assessmentv1.NewAssessmentServiceClient(conn).ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{}); status.Code(err) != codes.Unavailable {
			t.Errorf("%s ApproveDecision: %v, want the handshake refused", uri, err)
		}
		if _, err := intakev1.NewIntakeServiceClient(conn).List(ctx, &intakev1.ListRequest{}); status.Code(err) != codes.Unavailable {
			t.Errorf("%s List: %v, want the handshake refused", uri, err)
		}
	}
	// The same CA's certificate in the pinned trust domain gets in.
	if _, err := dialLeaf(t, p, issue(t, p, "spiffe://ddr.local/staff/bob")).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("own trust domain: %v", err)
	}
}

// A certificate put on the CRL is refused from the next handshake on,
// without restarting the server; the others are not affected.
func TestRevokedCertificateIsRefusedAfterTheCRLChangesWithoutRestart(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice := issue(t, p, "spiffe://ddr.local/staff/alice")
	other := issue(t, p, "spiffe://ddr.local/staff/alice")
	if _, err := dialLeaf(t, p, alice).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	if _, err := pki.Revoke(p.PKI, alice.Cert, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := dialLeaf(t, p, alice).Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("revoked certificate on a new connection: %v, want the handshake refused", err)
	}
	if _, err := dialLeaf(t, p, other).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("another certificate of the same person after the revocation: %v", err)
	}
	// A second revocation rewrites the list; the first stays revoked.
	if _, err := pki.Revoke(p.PKI, other.Cert, time.Now()); err != nil {
		t.Fatal(err)
	}
	for name, leaf := range map[string]pki.Leaf{"first": alice, "second": other} {
		if _, err := dialLeaf(t, p, leaf).Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
			t.Errorf("%s revoked certificate: %v, want the handshake refused", name, err)
		}
	}

	// The embedded NATS server applies the same list.
	sre := issue(t, p, "spiffe://ddr.local/sre/oncall")
	natsAs := func(leaf pki.Leaf) error {
		cert, err := leaf.TLS()
		if err != nil {
			t.Fatal(err)
		}
		cfg := p.ClientTLS(t, "")
		cfg.Certificates = []tls.Certificate{cert}
		nc, err := nats.Connect(p.Info.NATSURL, nats.Secure(cfg), nats.NoReconnect())
		if err == nil {
			err = nc.Flush()
			nc.Close()
		}
		return err
	}
	if err := natsAs(sre); err != nil {
		t.Fatalf("NATS before revocation: %v", err)
	}
	if _, err := pki.Revoke(p.PKI, sre.Cert, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := natsAs(sre); err == nil {
		t.Error("NATS accepted a revoked certificate")
	}
}
