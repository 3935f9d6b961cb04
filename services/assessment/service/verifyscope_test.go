package service_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// gardaPortal is a non-emergency request from the Garda through its portal.
func gardaPortal(e *env) *intakev1.DataDisclosureRequest {
	r := narrowRequest(e.clock.Now())
	r.Authority.Name = "An Garda Síochána"
	return r
}

// requiredForAny opens the case of a new request and says whether any
// disclosure of it waits for a confirmed verification.
func requiredForAny(e *env, v assessmentv1.VerificationServiceClient) bool {
	e.t.Helper()
	id := e.receive(gardaPortal(e))
	e.openCase(e.as(alice), id)
	r := ok(v.GetVerificationContacts(context.Background(), &assessmentv1.GetVerificationContactsRequest{RequestId: id}))(e.t)
	return r.GetVerification().GetRequiredForAnyDisclosure()
}

// Issue 18 under the two-person rule (issue 15), over gRPC on embedded
// JetStream: alice alone cannot narrow the verification scope; bob
// confirms; the cases opening after it open under the narrower scope; a
// restart with a narrower flag than the stored scope changes nothing, and
// a widening is in force at once.
func TestClause2_1_NarrowingTheVerificationScopeNeedsASecondPersonAndSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := defaults(t)
	cfg.Verification.VerifyScope = "all"
	e, stop := startIn(t, cfg, dir)
	defer stop()
	va, vb := e.verifier(alice), e.verifier(bob)

	got := ok(va.GetVerificationScope(ctx, &assessmentv1.GetVerificationScopeRequest{}))(t)
	if got.GetInForce().GetScope() != assessmentv1.VerificationScope_VERIFICATION_SCOPE_ALL || got.GetInForce().GetSource() != "initial" {
		t.Fatalf("at first start: %v; want the flag's scope all as the initial value", got.GetInForce())
	}
	if !requiredForAny(e, va) {
		t.Fatal("under scope all a case opened without needing a verification for any disclosure")
	}

	p := ok(va.ProposeVerificationScope(ctx, &assessmentv1.ProposeVerificationScopeRequest{
		Scope: assessmentv1.VerificationScope_VERIFICATION_SCOPE_EMERGENCY, Reason: "every authority we hear from is in the directory"}))(t)
	if p.GetInForceNow() || p.GetInForce().GetScope() != assessmentv1.VerificationScope_VERIFICATION_SCOPE_ALL || p.GetPending().GetProposalId() == "" {
		t.Fatalf("alice's narrowing: %v; want it pending, all still in force", p)
	}
	if !requiredForAny(e, va) {
		t.Fatal("a narrowing proposed by one person already applies to new cases")
	}
	id := p.GetPending().GetProposalId()
	// alice lacks the confirming role: the table refuses her.
	if _, err := va.ConfirmVerificationScope(ctx, &assessmentv1.ConfirmVerificationScopeRequest{ProposalId: id}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("alice confirming her own narrowing: %v, want PermissionDenied", err)
	}
	c := ok(vb.ConfirmVerificationScope(ctx, &assessmentv1.ConfirmVerificationScopeRequest{ProposalId: id}))(t)
	if in := c.GetInForce(); in.GetScope() != assessmentv1.VerificationScope_VERIFICATION_SCOPE_EMERGENCY || in.GetChangedBy() != alice || in.GetConfirmedBy() != bob {
		t.Fatalf("confirmed: %v; want emergency, changed by alice, confirmed by bob", in)
	}
	if requiredForAny(e, va) {
		t.Fatal("after the confirmed narrowing a new case still needs a verification for any disclosure")
	}

	// An approver who proposes cannot confirm his own narrowing either.
	ok(vb.ProposeVerificationScope(ctx, &assessmentv1.ProposeVerificationScopeRequest{
		Scope: assessmentv1.VerificationScope_VERIFICATION_SCOPE_ALL, Reason: "forgeries reported across the sector"}))(t)
	p = ok(vb.ProposeVerificationScope(ctx, &assessmentv1.ProposeVerificationScopeRequest{
		Scope: assessmentv1.VerificationScope_VERIFICATION_SCOPE_UNVERIFIED, Reason: "the sector warning is over"}))(t)
	_, err := vb.ConfirmVerificationScope(ctx, &assessmentv1.ConfirmVerificationScopeRequest{ProposalId: p.GetPending().GetProposalId()})
	wantClause(t, err, "2.1", policy.RuleLiftSelfConfirm)
	h := ok(va.GetVerificationScope(ctx, &assessmentv1.GetVerificationScopeRequest{}))(t)
	if n := len(h.GetHistory()); n != 3 || h.GetPending() == nil {
		t.Fatalf("history %v pending %v; want initial all, emergency, all and the pending narrowing", h.GetHistory(), h.GetPending())
	}
	stop()

	// A restart with a narrower flag: the stored all stays in force.
	cfg.Verification.VerifyScope = "emergency"
	e, stop = startIn(t, cfg, dir)
	defer stop()
	va = e.verifier(alice)
	got = ok(va.GetVerificationScope(ctx, &assessmentv1.GetVerificationScopeRequest{}))(t)
	if got.GetInForce().GetScope() != assessmentv1.VerificationScope_VERIFICATION_SCOPE_ALL {
		t.Fatalf("after a restart with a narrower flag: %v; want the stored all", got.GetInForce())
	}
	if !requiredForAny(e, va) {
		t.Fatal("a restart with a narrower flag weakened the verification of new cases")
	}
	// The narrowing bob proposed before the restart is still waiting; a
	// second person (carol, an approver here) puts it in force.
	pid := got.GetPending().GetProposalId()
	if pid == "" {
		t.Fatal("the pending narrowing was lost at the restart")
	}
	ok(e.verifier(carol).ConfirmVerificationScope(ctx, &assessmentv1.ConfirmVerificationScopeRequest{ProposalId: pid}))(t)
	stop()

	// A restart with a wider flag widens, recorded as the startup flag's.
	cfg.Verification.VerifyScope = "all"
	e, stop = startIn(t, cfg, dir)
	defer stop()
	got = ok(e.verifier(alice).GetVerificationScope(ctx, &assessmentv1.GetVerificationScopeRequest{}))(t)
	if in := got.GetInForce(); in.GetScope() != assessmentv1.VerificationScope_VERIFICATION_SCOPE_ALL || in.GetSource() != "startup-flag" {
		t.Fatalf("after a restart with a wider flag: %v; want all, from the startup flag", in)
	}
}
