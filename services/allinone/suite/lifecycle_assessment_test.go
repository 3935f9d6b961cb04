package suite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// Issue 16, assessment's side of the lifecycle, end to end over gRPC: the
// dead ends of "a decided case can never be decided again", "more
// information closes the case" and "withdrawal does not stop anything".

// lifecycleCase submits a request naming a customer and waits for its
// case; alice claims it and records the full review of 3.3.
func lifecycleCase(t *testing.T, ctx context.Context, in intakev1.IntakeServiceClient, alice assessmentv1.AssessmentServiceClient, key string) string {
	t.Helper()
	req := request(time.Now().Add(-2 * time.Hour))
	req.CustomerId = "cust-" + key
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: key, Request: req})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	id := sub.GetRequestId()
	reviewCase(t, ctx, alice, id)
	return id
}

// reviewCase waits for the request's case; alice claims it and records the
// full review of 3.3.
func reviewCase(t *testing.T, ctx context.Context, alice assessmentv1.AssessmentServiceClient, id string) {
	t.Helper()
	eventually(t, func() error {
		_, err := alice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		return err
	})
	must(t, "claim", func() error {
		_, err := alice.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id})
		return err
	})
	must(t, "factors", func() error {
		_, err := alice.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: factorsOf("assessed"), RightsAssessment: "one account; proportionate"})
		return err
	})
	must(t, "challenge", func() error {
		_, err := alice.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: "valid court order"})
		return err
	})
}

// caseWhere waits until the case satisfies cond.
func caseWhere(t *testing.T, ctx context.Context, c assessmentv1.AssessmentServiceClient, id, what string, cond func(*assessmentv1.Case) bool) *assessmentv1.Case {
	t.Helper()
	var out *assessmentv1.Case
	eventually(t, func() error {
		res, err := c.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		if err != nil {
			return err
		}
		if out = res.GetCase(); !cond(out) {
			return fmt.Errorf("case %s: not yet %s (lifecycle %s)", id, what, out.GetLifecycleState())
		}
		return nil
	})
	return out
}

// The authority declines to go to the customer (4.1.1): the case goes back
// to review, and a new disclosure decided by one person and approved by a
// second takes effect as a new decision (D2); D1 stays in the record.
func TestClause4_1_1_RedirectDeclinedBackInReviewNewDecisionTakesEffect(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	alice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	bob := assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))

	id := lifecycleCase(t, ctx, in, alice, "lifecycle-redirect")
	var d1 string
	must(t, "decide redirect", func() error {
		res, err := alice.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER})
		d1 = res.GetCase().GetDecision().GetDecisionId()
		return err
	})
	eventually(t, func() error {
		_, err := no.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED})
		return err
	})
	c := caseWhere(t, ctx, alice, id, "back in review", func(c *assessmentv1.Case) bool { return c.GetLifecycleState() == "in_review" })
	if len(c.GetReopenings()) != 1 || c.GetReopenings()[0].GetTrigger() != assessmentv1.ReopenTrigger_REOPEN_TRIGGER_REDIRECT_DECLINED.String() ||
		c.GetReopenings()[0].GetSupersededDecisionId() != d1 || c.GetDecision() != nil {
		t.Fatalf("reopened case: reopenings %v decision %v", c.GetReopenings(), c.GetDecision())
	}
	var d2 string
	must(t, "decide disclosure", func() error {
		res, err := alice.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Scope: &assessmentv1.Scope{All: true}})
		d2 = res.GetCase().GetDecision().GetDecisionId()
		return err
	})
	if _, err := alice.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d2}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("the proposer approving the new decision: got %v, want PERMISSION_DENIED (four eyes again)", err)
	}
	must(t, "approve", func() error {
		res, err := bob.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d2})
		c = res.GetCase()
		return err
	})
	if d2 == d1 || c.GetDecision().GetDecisionId() != d2 || c.GetDecision().GetStatus() != assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE {
		t.Fatalf("decision in effect %v, want the new decision D2", c.GetDecision())
	}
	if len(c.GetEarlierDecisions()) != 1 || c.GetEarlierDecisions()[0].GetDecisionId() != d1 {
		t.Fatalf("earlier decisions %v, want D1", c.GetEarlierDecisions())
	}
	if c.GetLifecycleState() != "in_steps" {
		t.Fatalf("lifecycle %s after D2, want in_steps", c.GetLifecycleState())
	}
}

// "More information" asks the member and no longer closes the case; the
// member's amendment sends it back to review (INFORMATION_SUPPLIED).
func TestClause3_3_MoreInformationMemberAmendsCaseBackInReview(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	alice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))

	id := lifecycleCase(t, ctx, in, alice, "lifecycle-information")
	if _, err := alice.RequestInformation(ctx, &assessmentv1.RequestInformationRequest{RequestId: id}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a question left empty: got %v, want INVALID_ARGUMENT", err)
	}
	must(t, "ask", func() error {
		res, err := alice.RequestInformation(ctx, &assessmentv1.RequestInformationRequest{RequestId: id, Question: "Which period does the order cover?"})
		if s := res.GetCase().GetStatus(); err == nil && s != assessmentv1.CaseStatus_CASE_STATUS_INFORMATION_REQUESTED {
			return fmt.Errorf("status %v after the question", s)
		}
		return err
	})
	if _, err := alice.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "x"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("deciding while the member is asked: got %v, want FAILED_PRECONDITION", err)
	}
	must(t, "amend", func() error {
		_, err := in.Amend(ctx, &intakev1.AmendRequest{RequestId: id, Information: "January to March 2026"})
		return err
	})
	c := caseWhere(t, ctx, alice, id, "back in review", func(c *assessmentv1.Case) bool { return c.GetLifecycleState() == "in_review" })
	if len(c.GetReopenings()) != 1 || c.GetReopenings()[0].GetTrigger() != assessmentv1.ReopenTrigger_REOPEN_TRIGGER_INFORMATION_SUPPLIED.String() || c.GetOpenQuestion() != nil {
		t.Fatalf("reopenings %v question %v", c.GetReopenings(), c.GetOpenQuestion())
	}
	must(t, "decide again", func() error {
		_, err := alice.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "no jurisdiction"})
		return err
	})
}

// The authority withdraws: no decision after it, and one Privacy Team
// member acknowledges it, closing the case as withdrawn.
func TestWithdrawalAcknowledgedByOnePrivacyTeamMember(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	alice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	bob := assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver))

	id := lifecycleCase(t, ctx, in, alice, "lifecycle-withdrawal")
	if _, err := bob.AcknowledgeWithdrawal(ctx, &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: id}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("acknowledging a withdrawal that did not happen: got %v, want FAILED_PRECONDITION", err)
	}
	must(t, "withdraw", func() error {
		_, err := in.Withdraw(ctx, &intakev1.WithdrawRequest{RequestId: id, Reason: "the investigation closed"})
		return err
	})
	if _, err := alice.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "x"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("deciding after the withdrawal: got %v, want FAILED_PRECONDITION", err)
	}
	var c *assessmentv1.Case
	must(t, "acknowledge", func() error {
		res, err := bob.AcknowledgeWithdrawal(ctx, &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: id})
		c = res.GetCase()
		return err
	})
	if c.GetLifecycleState() != "withdrawn" || c.GetWithdrawalAcknowledgedBy() != approver || c.GetDisclosed() {
		t.Fatalf("case after the acknowledgement: lifecycle %s by %q", c.GetLifecycleState(), c.GetWithdrawalAcknowledgedBy())
	}
}
