package suite_test

import (
	"context"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/devoidc/devop"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// Issue 23: the console presents its own certificate and forwards the
// signed-in person's OIDC ID token; the services accept the token only over
// the console's certificate, and the call is then the person's.

const (
	console       = "spiffe://ddr.local/service/console"
	oidcCallback  = "http://127.0.0.1:7799/auth/callback"
	consoleClient = devop.DefaultClientID
)

// startOP runs the dev OpenID provider in-process on a free port.
func startOP(t *testing.T, cfg devop.Config) *devop.Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s, err := devop.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// signIn returns user's ID token from op for client.
func signIn(t *testing.T, op *devop.Server, client, user string) string {
	t.Helper()
	tok, err := devop.SignIn(t.Context(), op.Issuer(), client, oidcCallback, user, devop.DevPassword)
	if err != nil {
		t.Fatalf("%s signs in: %v", user, err)
	}
	return tok
}

// as is ctx carrying tok as the person token, as the console sends it.
func as(ctx context.Context, tok string) context.Context { return auth.WithPersonToken(ctx, tok) }

func TestIssue23_ConsoleCannotActForAPersonWithoutTheirToken(t *testing.T) {
	op := startOP(t, devop.Config{})
	p := startSuite(t, runnertest.Options{OIDCIssuer: op.Issuer()})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn := p.Dial(t, console)
	cases := assessmentv1.NewAssessmentServiceClient(conn)

	if _, err := cases.ListCases(ctx, &assessmentv1.ListCasesRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("the console as itself: %v, want UNAUTHENTICATED", err)
	}
	if _, err := intakev1.NewIntakeServiceClient(conn).List(ctx, &intakev1.ListRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("the console as itself, intake: %v, want UNAUTHENTICATED", err)
	}
	// Health describes the server: the console may probe it as itself.
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("the console's health check: %v", err)
	}
	// With alice's token the same connection works, as alice.
	if _, err := cases.ListCases(as(ctx, signIn(t, op, consoleClient, "alice")), &assessmentv1.ListCasesRequest{}); err != nil {
		t.Errorf("the console for alice: %v", err)
	}
}

func TestIssue23_PersonTokensAreAcceptedOnlyOverTheConsolesCertificate(t *testing.T) {
	op := startOP(t, devop.Config{})
	p := startSuite(t, runnertest.Options{OIDCIssuer: op.Issuer()})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bobsToken := signIn(t, op, consoleClient, "bob")
	for _, caller := range []string{reviewer, approver, member, "spiffe://ddr.local/service/intake"} {
		c := assessmentv1.NewAssessmentServiceClient(p.Dial(t, caller))
		_, err := c.ListCases(as(ctx, bobsToken), &assessmentv1.ListCasesRequest{})
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), "only over the console's certificate") {
			t.Errorf("%s with bob's token: %v, want UNAUTHENTICATED (tokens only over the console's certificate)", caller, err)
		}
	}
	// The same callers without a token are themselves, as before.
	if _, err := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer)).ListCases(ctx, &assessmentv1.ListCasesRequest{}); err != nil {
		t.Errorf("alice's certificate alone: %v", err)
	}
}

func TestIssue23_ConsoleCannotActOnAnExpiredForeignOrTamperedToken(t *testing.T) {
	op := startOP(t, devop.Config{ExtraClientIDs: []string{"other-app"}})
	other := startOP(t, devop.Config{})
	logs := &lockedBuffer{}
	p := startSuite(t, runnertest.Options{OIDCIssuer: op.Issuer(), Logs: logs})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := assessmentv1.NewAssessmentServiceClient(p.Dial(t, console))

	valid := signIn(t, op, consoleClient, "alice")
	op.SetIDTokenLifetime(-time.Minute)
	expired := signIn(t, op, consoleClient, "alice")
	op.SetIDTokenLifetime(devop.DefaultIDTokenLifetime)

	tokens := map[string]string{
		"expired":        expired,
		"wrong audience": signIn(t, op, "other-app", "alice"),
		"other issuer":   signIn(t, other, consoleClient, "alice"),
		// alice's token made to say bob: the signature no longer holds.
		"tampered":    resubject(t, valid, "alice", "bob"),
		"unsigned":    unsigned(t, valid),
		"not a token": "not-a-jwt",
	}
	for name, tok := range tokens {
		_, err := c.ListCases(as(ctx, tok), &assessmentv1.ListCasesRequest{})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s token: %v, want UNAUTHENTICATED", name, err)
		}
		if strings.Contains(status.Convert(err).Message(), tok) {
			t.Errorf("%s token: the refusal quotes the token", name)
		}
	}
	if _, err := c.ListCases(as(ctx, valid), &assessmentv1.ListCasesRequest{}); err != nil {
		t.Errorf("the valid token: %v", err)
	}
	// No token, valid or not, and no part of one reaches the logs.
	p.Stop(t)
	tokens["valid"] = valid
	for name, tok := range tokens {
		for _, part := range strings.Split(tok, ".") {
			if len(part) >= 16 && strings.Contains(logs.String(), part) {
				t.Errorf("the %s token is in the logs", name)
			}
		}
	}
	if !strings.Contains(logs.String(), "rejected person token") {
		t.Error("the refusals were not logged at all")
	}
}

// resubject swaps a claim value in the token's payload, keeping the
// original signature.
func resubject(t *testing.T, tok, from, to string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.ReplaceAll(string(payload), `"sub":"`+from+`"`, `"sub":"`+to+`"`)
	if changed == string(payload) {
		t.Fatalf("no sub %q in the token", from)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

// unsigned is tok with alg "none" and no signature.
func unsigned(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
}

// Alice through the console and alice with her own certificate are one
// person: what she proposed in the console she cannot approve with her
// certificate, and the case names her, not the console.
func TestIssue23_AliceThroughTheConsoleIsAliceToFourEyesAndTheAuthorizationTable(t *testing.T) {
	op := startOP(t, devop.Config{})
	p := startSuite(t, runnertest.Options{
		OIDCIssuer: op.Issuer(),
		// alice may approve too: only four eyes stands between her
		// decision and her approval.
		Staff: authz.Staff{"alice": {authz.Reviewer, authz.Approver}, "bob": {authz.Approver}, "carol": {authz.Legal}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	consoleConn := p.Dial(t, console)
	viaConsole := assessmentv1.NewAssessmentServiceClient(consoleConn)
	alicesCert := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	aliceTok, bobTok, carolTok := signIn(t, op, consoleClient, "alice"), signIn(t, op, consoleClient, "bob"), signIn(t, op, consoleClient, "carol")

	// The reception desk of acme-eu takes a demand by hand, as the group
	// member (clauses 3.1, 3.2).
	in := intakev1.NewIntakeServiceClient(consoleConn)
	sub, err := in.Submit(as(ctx, signIn(t, op, consoleClient, "reception-acme-eu")), &intakev1.SubmitRequest{IdempotencyKey: "console-desk-1", Request: request(time.Now().Add(-time.Hour))})
	if err != nil {
		t.Fatalf("reception submits through the console: %v", err)
	}
	id := sub.GetRequestId()
	if _, err := intakev1.NewIntakeServiceClient(p.Dial(t, member)).Get(ctx, &intakev1.GetRequest{RequestId: id}); err != nil {
		t.Errorf("acme-eu's own certificate does not see the request reception submitted: %v", err)
	}

	// carol (legal) may not decide: the table applies to the person.
	if _, err := viaConsole.ClaimCase(as(ctx, carolTok), &assessmentv1.ClaimCaseRequest{RequestId: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("carol claims through the console: %v, want PERMISSION_DENIED (the table, for carol)", err)
	}

	var decisionID string
	aliceCtx := as(ctx, aliceTok)
	reviewCase(t, aliceCtx, viaConsole, id)
	must(t, "alice decides through the console", func() error {
		res, err := viaConsole.Decide(aliceCtx, &assessmentv1.DecideRequest{
			RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Scope: &assessmentv1.Scope{All: true},
		})
		decisionID = res.GetCase().GetDecision().GetDecisionId()
		return err
	})
	got, err := alicesCert.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	c := got.GetCase()
	if c.GetAssignee() != reviewer || c.GetDecision().GetDecidedBy() != reviewer {
		t.Errorf("case assignee %q, decided by %q; want alice (%s), not the console", c.GetAssignee(), c.GetDecision().GetDecidedBy(), reviewer)
	}
	if _, err := alicesCert.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decisionID}); status.Code(err) != codes.PermissionDenied ||
		!strings.Contains(status.Convert(err).Message(), "four eyes") {
		t.Fatalf("alice approves with her certificate the decision she proposed through the console: %v, want PERMISSION_DENIED by four eyes", err)
	}
	if _, err := viaConsole.ApproveDecision(as(ctx, bobTok), &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decisionID}); err != nil {
		t.Errorf("bob approves through the console: %v", err)
	}
}

func TestIssue23_ASubjectTheRolesFileDoesNotMapIsRefused(t *testing.T) {
	op := startOP(t, devop.Config{})
	p := startSuite(t, runnertest.Options{
		OIDCIssuer:   op.Issuer(),
		OIDCSubjects: authz.Subjects{"alice": "staff/alice"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := assessmentv1.NewAssessmentServiceClient(p.Dial(t, console))
	_, err := c.ListCases(as(ctx, signIn(t, op, consoleClient, "bob")), &assessmentv1.ListCasesRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("unmapped bob: %v, want PERMISSION_DENIED", err)
	}
	if strings.Contains(status.Convert(err).Message(), "bob") {
		t.Errorf("the refusal names the person: %q", status.Convert(err).Message())
	}
	if _, err := c.ListCases(as(ctx, signIn(t, op, consoleClient, "alice")), &assessmentv1.ListCasesRequest{}); err != nil {
		t.Errorf("mapped alice: %v", err)
	}
}

func TestIssue23_WithoutAnIssuerTheConsoleIsRefused(t *testing.T) {
	op := startOP(t, devop.Config{})
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := assessmentv1.NewAssessmentServiceClient(p.Dial(t, console))
	if _, err := c.ListCases(as(ctx, signIn(t, op, consoleClient, "alice")), &assessmentv1.ListCasesRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no --oidc-issuer: %v, want UNAUTHENTICATED", err)
	}
}

// The provider may start after the services: the issuer is discovered on
// the first call that needs it, and a failed discovery is tried again.
func TestIssue23_TheIssuerIsDiscoveredLazily(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	p := startSuite(t, runnertest.Options{OIDCIssuer: "http://" + addr})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := assessmentv1.NewAssessmentServiceClient(p.Dial(t, console))
	// Some token, any: the issuer is not there to check it.
	early := startOP(t, devop.Config{})
	if _, err := c.ListCases(as(ctx, signIn(t, early, consoleClient, "alice")), &assessmentv1.ListCasesRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("issuer down: %v, want UNAVAILABLE", err)
	}
	op := startOP(t, devop.Config{Addr: addr})
	if _, err := c.ListCases(as(ctx, signIn(t, op, consoleClient, "alice")), &assessmentv1.ListCasesRequest{}); err != nil {
		t.Errorf("issuer up: %v", err)
	}
}

// The dev provider's users share a published password: it runs for `make
// run` and tests only, and no binary that is deployed links it.
func TestIssue23_NoDeployedBinaryLinksTheDevOpenIDProvider(t *testing.T) {
	const prefix = "github.com/ddrsuite/ddr/services/"
	for _, cmd := range []string{"allinone/cmd/ddr", "intake/cmd/intake", "assessment/cmd/assessment",
		"notification/cmd/notification", "reporting/cmd/reporting", "ddrctl/cmd/ddrctl"} {
		for _, dep := range deps(t, prefix+cmd) {
			if strings.HasPrefix(dep, prefix+"devoidc") || strings.HasPrefix(dep, "github.com/zitadel/") {
				t.Errorf("%s links %s", cmd, dep)
			}
		}
	}
}
