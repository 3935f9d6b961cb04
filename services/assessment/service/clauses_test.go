package service_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

var compelling = assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION

func discloseAll(id string) *assessmentv1.DecideRequest {
	return &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, LegalBasis: compelling, Scope: &assessmentv1.Scope{All: true}}
}

func TestClause6_1_BulkDisclosureRefusedOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	now := e.clock.Now()
	req := narrowRequest(now.Add(-time.Hour))
	req.Targets = targets(50)
	id := e.receive(req)

	opened := e.openCase(a, id)
	if !hasFlag(opened, assessmentv1.FlagCode_FLAG_CODE_BULK_SCOPE, "6.1") {
		t.Fatalf("a 50-target request is not flagged bulk under 6.1: %v", opened.GetFlags())
	}
	e.review(a, id)

	_, err := a.Decide(ctx, discloseAll(id))
	wantClause(t, err, "6.1", domain.RuleBulkDisclosure)

	narrowed := discloseAll(id)
	narrowed.Scope = &assessmentv1.Scope{TargetRefs: []string{"t3", "t7"}}
	r := ok(a.Decide(ctx, narrowed))(t)
	if r.GetCase().GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_PENDING_APPROVAL {
		t.Fatalf("a disclosure narrowed to two targets is %v, want pending approval", r.GetCase().GetStatus())
	}
	if got := r.GetCase().GetDecision().GetScope().GetTargetCount(); got != 2 {
		t.Fatalf("narrowed decision covers %d targets, want 2", got)
	}
}

func TestClause2_1_DisclosureNeedsOneOfTheTwoBasesOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	id := e.reviewedRequest(a)

	noBasis := discloseAll(id)
	noBasis.LegalBasis = assessmentv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED
	_, err := a.Decide(ctx, noBasis)
	wantClause(t, err, "2.1", domain.RuleDiscloseWithoutBasis)
}

func TestClause2_1_ImminentRiskDisclosureNeedsRightsWeighedOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	req := narrowRequest(e.clock.Now().Add(-time.Hour))
	req.Emergency = &intakev1.Emergency{Claimed: true, HarmDescribed: "threat to life", ImminentRiskOfSeriousHarm: true}
	id := e.receive(req)
	e.openCase(a, id)
	ok(a.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id}))(t)
	ok(a.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: allFactors()}))(t)
	ok(a.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: "no time to challenge"}))(t)

	risk := discloseAll(id)
	risk.LegalBasis = assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM
	_, err := a.Decide(ctx, risk)
	wantClause(t, err, "2.1", domain.RuleImminentRiskNotWeighed)

	ok(a.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, RightsAssessment: "risk to life outweighs the intrusion"}))(t)
	ok(a.Decide(ctx, risk))(t)
}

func TestClause3_3_DecisionBeforeFactorsRefusedOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	id := e.receive(narrowRequest(e.clock.Now().Add(-time.Hour)))
	e.openCase(a, id)
	ok(a.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id}))(t)
	ok(a.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: allFactors()[:2]}))(t)

	_, err := a.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "no jurisdiction"})
	wantClause(t, err, "3.3", domain.RuleFactorsNotRecorded)

	got := ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase()
	if got.GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_IN_REVIEW || got.GetDecision() != nil {
		t.Fatalf("a refused decision changed the case: %v", got)
	}
}

// overlayDE adds an approval, a longer customer notice and outside counsel
// for German authorities.
const overlayDE = `{"name": "de-strict", "jurisdictions": ["DE"], "extra_approvals": 1,
  "customer_notice_hours": 72, "required_counsel": ["outside_counsel"]}`

func TestClause1_2_OverlayAddsRequirementsOverGRPC(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "de.json"), []byte(overlayDE), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := defaults(t)
	cfg.Overlays = dir
	e := start(t, cfg)
	a, b, c := e.as(alice), e.as(bob), e.as(carol)
	ctx := context.Background()
	req := narrowRequest(e.clock.Now().Add(-time.Hour))
	req.Authority.Country = "DE"
	id := e.receive(req)
	opened := e.review(a, id)
	if got := opened.GetRules().GetRequiredApprovals(); got != 2 {
		t.Fatalf("case rules require %d approvals, want 2 with the overlay", got)
	}

	_, err := a.Decide(ctx, discloseAll(id))
	wantClause(t, err, "1.2", domain.RuleOverlayRequirement)

	ok(a.RecordCounselConsultation(ctx, &assessmentv1.RecordCounselConsultationRequest{RequestId: id, Consultation: &assessmentv1.CounselConsultation{
		Kind: assessmentv1.CounselKind_COUNSEL_KIND_OUTSIDE_COUNSEL, Counsel: "Kanzlei Beispiel", ConsultTime: timestamppb.New(e.clock.Now().Add(-time.Minute)), Summary: "order is enforceable",
	}}))(t)
	d := ok(a.Decide(ctx, discloseAll(id)))(t).GetCase().GetDecision()
	r := ok(b.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d.GetDecisionId()}))(t)
	if r.GetCase().GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_PENDING_APPROVAL {
		t.Fatalf("one approval took effect under an overlay that requires two: %v", r.GetCase().GetStatus())
	}
	if n := len(eventsOf[*assessmentv1.AssessmentDecided](e, id)); n != 0 {
		t.Fatalf("%d decided events after one of two approvals", n)
	}
	r = ok(c.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d.GetDecisionId()}))(t)
	if r.GetCase().GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_DECIDED {
		t.Fatalf("status %v after the second approval, want decided", r.GetCase().GetStatus())
	}
	decided := eventsOf[*assessmentv1.AssessmentDecided](e, id)
	if len(decided) != 1 {
		t.Fatalf("%d decided events, want 1", len(decided))
	}
	req2 := decided[0].GetRequirements()
	if req2.GetCustomerNoticePeriod().AsDuration() != 72*time.Hour || len(req2.GetOverlays()) != 1 || req2.GetOverlays()[0] != "de-strict" {
		t.Fatalf("requirements do not carry the overlay: notice %v overlays %v", req2.GetCustomerNoticePeriod().AsDuration(), req2.GetOverlays())
	}
}

func TestClause1_2_LooseningOverlayRefusedAtStartup(t *testing.T) {
	file := filepath.Join(t.TempDir(), "loose.json")
	if err := os.WriteFile(file, []byte(`{"name": "lax", "jurisdictions": ["US"], "max_targets": 5000}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := defaults(t)
	cfg.Overlays = file
	err := runner.Run(context.Background(), runnerConfig(t), quiet, build(cfg))
	var pv *ddrerr.PolicyViolation
	if !errors.As(err, &pv) || pv.Clause != "1.2" || pv.Rule != domain.RuleOverlayLoosens {
		t.Fatalf("startup with a loosening overlay: got %v, want a clause 1.2 %s refusal", err, domain.RuleOverlayLoosens)
	}
}

func TestFourEyesOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a, b := e.as(alice), e.as(bob)
	ctx := context.Background()
	req := narrowRequest(e.clock.Now().Add(-time.Hour))
	req.Gag = &intakev1.Gag{Present: true, Reference: "order 12/2026"}
	id := e.receive(req)
	e.review(a, id)
	d := ok(a.Decide(ctx, discloseAll(id)))(t).GetCase().GetDecision()
	if d.GetStatus() != assessmentv1.DecisionStatus_DECISION_STATUS_PENDING_APPROVAL {
		t.Fatalf("a disclose decision is %v before anyone approved it", d.GetStatus())
	}
	if n := len(eventsOf[*assessmentv1.AssessmentDecided](e, id)); n != 0 {
		t.Fatalf("a disclosure took effect without approval (%d decided events)", n)
	}

	_, err := a.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d.GetDecisionId()})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("self-approval: got %v, want PERMISSION_DENIED", err)
	}
	_, err = b.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: "not-the-pending-one"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("approving another decision id: got %v, want FAILED_PRECONDITION", err)
	}

	r := ok(b.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d.GetDecisionId()}))(t)
	got := r.GetCase().GetDecision()
	if got.GetStatus() != assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE || len(got.GetApprovals()) != 1 || got.GetApprovals()[0].GetApprover() != bob {
		t.Fatalf("after bob's approval the decision is %v", got)
	}
	decided := eventsOf[*assessmentv1.AssessmentDecided](e, id)
	if len(decided) != 1 {
		t.Fatalf("%d decided events, want 1", len(decided))
	}
	ad := decided[0]
	n := ad.GetRequirements()
	if !n.GetCustomerIsController() || n.GetCustomerId() != "cust-42" || !n.GetProhibition().GetPresent() ||
		n.GetProhibition().GetReference() != "order 12/2026" || n.GetAuthorityCountry() != "IE" || !n.GetCountryAdequate() ||
		n.GetReceiveTime() == nil || len(n.GetScope().GetTargetRefs()) != 2 {
		t.Fatalf("AssessmentDecided lacks what notification needs: %v", n)
	}
	if ad.GetDecision().GetPolicyVersion() != domain.DefaultPolicyVersion || ad.GetDecision().GetDecidedBy() != alice {
		t.Fatalf("decision records policy %q by %q", ad.GetDecision().GetPolicyVersion(), ad.GetDecision().GetDecidedBy())
	}
}

func TestRejectedProposalReturnsToReviewOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a, b := e.as(alice), e.as(bob)
	ctx := context.Background()
	id := e.reviewedRequest(a)
	d := ok(a.Decide(ctx, discloseAll(id)))(t).GetCase().GetDecision()
	r := ok(b.RejectDecision(ctx, &assessmentv1.RejectDecisionRequest{RequestId: id, DecisionId: d.GetDecisionId(), Reason: "narrow it to the content"}))(t)
	if r.GetCase().GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_IN_REVIEW || r.GetCase().GetDecision() != nil {
		t.Fatalf("after rejection the case is %v", r.GetCase())
	}
	if _, err := b.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d.GetDecisionId()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("approving a rejected proposal: got %v, want FAILED_PRECONDITION", err)
	}
}

func hasFlag(c *assessmentv1.Case, code assessmentv1.FlagCode, clause string) bool {
	for _, f := range c.GetFlags() {
		if f.GetCode() == code && f.GetClause() == clause && f.GetExplanation() != "" {
			return true
		}
	}
	return false
}
