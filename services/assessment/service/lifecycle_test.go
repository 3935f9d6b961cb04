package service_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// appendAs appends another service's event to the request, as its producer
// would (issue 16: the producers land on other branches).
func (e *env) appendAs(id, actor string, p proto.Message) {
	e.t.Helper()
	ctx := context.Background()
	h, err := e.store.Load(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(ctx, id, h.LastSeq, eventstore.Event{RequestID: id, Actor: actor, Time: e.clock.Now(), Payload: p}); err != nil {
		e.t.Fatal(err)
	}
}

// caseUntil waits until GetCase satisfies cond and returns the case.
func (e *env) caseUntil(c assessmentv1.AssessmentServiceClient, id, what string, cond func(*assessmentv1.Case) bool) *assessmentv1.Case {
	e.t.Helper()
	var out *assessmentv1.Case
	testkit.Eventually(e.t, what, func() bool {
		out = ok(c.GetCase(context.Background(), &assessmentv1.GetCaseRequest{RequestId: id}))(e.t).GetCase()
		return cond(out)
	})
	return out
}

func TestClause4_1_1_RedirectDeclinedReopensAndANewDecisionTakesEffectOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a, b := e.as(alice), e.as(bob)
	ctx := context.Background()
	id := e.reviewedRequest(a)
	d1 := ok(a.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER}))(t).GetCase()
	if d1.GetLifecycleState() != "awaiting_redirect" {
		t.Fatalf("lifecycle %q after a redirect decision", d1.GetLifecycleState())
	}
	e.appendAs(id, "spiffe://ddr.test/service/notification", &notificationv1.RedirectOutcomeRecorded{RequestId: id, Redirect: &notificationv1.RedirectRecord{
		Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED, RecordedBy: bob, RecordTime: timestamppb.New(e.clock.Now()),
	}})
	c := e.caseUntil(a, id, "case back in review", func(c *assessmentv1.Case) bool { return c.GetLifecycleState() == "in_review" })
	if c.GetDecision() != nil || len(c.GetEarlierDecisions()) != 1 || len(c.GetReopenings()) != 1 ||
		c.GetReopenings()[0].GetTrigger() != assessmentv1.ReopenTrigger_REOPEN_TRIGGER_REDIRECT_DECLINED.String() ||
		c.GetReopenings()[0].GetSupersededDecisionId() != d1.GetDecision().GetDecisionId() {
		t.Fatalf("reopened case %v", c)
	}
	replayReactor(t, e)
	if n := len(eventsOf[*assessmentv1.CaseReopened](e, id)); n != 1 {
		t.Fatalf("%d CaseReopened after a redelivery, want 1", n)
	}
	p := ok(a.Decide(ctx, discloseAll(id)))(t).GetCase()
	if p.GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_PENDING_APPROVAL {
		t.Fatalf("the new disclosure is %v, want pending a second person", p.GetStatus())
	}
	d2 := ok(b.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: p.GetDecision().GetDecisionId()}))(t).GetCase()
	if d2.GetDecision().GetStatus() != assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE || d2.GetDecision().GetDecisionId() == d1.GetDecision().GetDecisionId() {
		t.Fatalf("D2 %v", d2.GetDecision())
	}
	if n := len(eventsOf[*assessmentv1.AssessmentDecided](e, id)); n != 2 {
		t.Fatalf("%d AssessmentDecided, want D1 and D2", n)
	}
}

func TestMoreInformationThenTheMembersAmendmentReopensOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	id := e.reviewedRequest(a)
	_, err := a.RequestInformation(ctx, &assessmentv1.RequestInformationRequest{RequestId: id})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no question: got %v, want INVALID_ARGUMENT", err)
	}
	c := ok(a.RequestInformation(ctx, &assessmentv1.RequestInformationRequest{RequestId: id, Question: "Which of the two accounts?"}))(t).GetCase()
	if c.GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_INFORMATION_REQUESTED || c.GetOpenQuestion().GetQuestion() == "" {
		t.Fatalf("case %v", c)
	}
	e.appendAs(id, member, &intakev1.RequestAmended{RequestId: id, AmendmentId: "a1", Information: "the first one", AmendTime: timestamppb.New(e.clock.Now())})
	c = e.caseUntil(a, id, "case back in review", func(c *assessmentv1.Case) bool { return c.GetLifecycleState() == "in_review" })
	if c.GetOpenQuestion() != nil || c.GetReopenings()[0].GetTrigger() != assessmentv1.ReopenTrigger_REOPEN_TRIGGER_INFORMATION_SUPPLIED.String() {
		t.Fatalf("case %v", c)
	}
	// A Decide of kind "request more information" asks too; it closes nothing.
	c = ok(a.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REQUEST_MORE_INFORMATION, Grounds: "And the period?"}))(t).GetCase()
	if c.GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_INFORMATION_REQUESTED || len(eventsOf[*assessmentv1.InformationRequested](e, id)) != 2 {
		t.Fatalf("case %v", c)
	}
}

func TestWithdrawalAcknowledgedOnceOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a, b := e.as(alice), e.as(bob)
	ctx := context.Background()
	id := e.reviewedRequest(a)
	if _, err := b.AcknowledgeWithdrawal(ctx, &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: id}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("acknowledging nothing: got %v", err)
	}
	e.appendAs(id, member, &intakev1.RequestWithdrawn{RequestId: id, Reason: "closed", WithdrawTime: timestamppb.New(e.clock.Now())})
	c := ok(b.AcknowledgeWithdrawal(ctx, &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: id}))(t).GetCase()
	if c.GetLifecycleState() != "withdrawn" || c.GetWithdrawalAcknowledgedBy() != bob {
		t.Fatalf("case %v", c)
	}
	ok(a.AcknowledgeWithdrawal(ctx, &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: id}))(t)
	if n := len(eventsOf[*assessmentv1.WithdrawalAcknowledged](e, id)); n != 1 {
		t.Fatalf("%d acknowledgements, want 1", n)
	}
}

func TestClause4_1_WeakeningFactCorrectionNeedsASecondPersonOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a, b := e.as(alice), e.as(bob)
	ctx := context.Background()
	id := e.reviewedRequest(a)
	res := ok(a.ProposeFactCorrection(ctx, &assessmentv1.ProposeFactCorrectionRequest{RequestId: id, Reason: "billing data: our own", Correction: &assessmentv1.FactCorrection{
		Customers: &assessmentv1.CustomerList{Customers: []*intakev1.Customer{{CustomerId: "cust-42", Role: intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER}}},
	}}))(t)
	k := res.GetCase().GetCorrections()
	if len(k) != 1 || k[0].GetEffective() || len(k[0].GetWeakens()) == 0 || !res.GetCase().GetFacts().GetCustomerIsController() {
		t.Fatalf("a weakening correction took effect at once: %v", k)
	}
	if _, err := a.ConfirmFactCorrection(ctx, &assessmentv1.ConfirmFactCorrectionRequest{RequestId: id, CorrectionId: res.GetCorrectionId()}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a reviewer confirming: got %v, want PERMISSION_DENIED", err)
	}
	c := ok(b.ConfirmFactCorrection(ctx, &assessmentv1.ConfirmFactCorrectionRequest{RequestId: id, CorrectionId: res.GetCorrectionId()}))(t).GetCase()
	if !c.GetCorrections()[0].GetEffective() || c.GetFacts().GetCustomerIsController() || len(eventsOf[*assessmentv1.FactsCorrected](e, id)) != 1 {
		t.Fatalf("case %v", c)
	}
	for _, f := range c.GetFlags() {
		if f.GetCode() == assessmentv1.FlagCode_FLAG_CODE_CUSTOMER_IS_CONTROLLER {
			t.Fatal("the controller flag survived the correction")
		}
	}
}

func TestLinkCaseOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	id := e.receive(narrowRequest(e.clock.Now().Add(-time.Hour)))
	other := e.receive(narrowRequest(e.clock.Now().Add(-time.Hour)))
	e.openCase(a, id)
	e.openCase(a, other)
	if _, err := a.LinkCase(ctx, &assessmentv1.LinkCaseRequest{RequestId: id, LinkedRequestId: "nope", Reason: "same"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown linked case: got %v", err)
	}
	if _, err := a.LinkCase(ctx, &assessmentv1.LinkCaseRequest{RequestId: id, LinkedRequestId: id, Reason: "same"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("linked to itself: got %v", err)
	}
	ok(a.LinkCase(ctx, &assessmentv1.LinkCaseRequest{RequestId: id, LinkedRequestId: other, Reason: "same warrant"}))(t)
	c := ok(a.LinkCase(ctx, &assessmentv1.LinkCaseRequest{RequestId: id, LinkedRequestId: other, Reason: "same warrant"}))(t).GetCase()
	if len(c.GetLinks()) != 1 || len(eventsOf[*assessmentv1.CaseLinked](e, id)) != 1 {
		t.Fatalf("links %v", c.GetLinks())
	}
}

// A DPA's objection reopens the decision it concerns (4.2.1, 2.2); a
// redirect declined under a disclosure is one of its steps, not a reason
// for a new decision; after a disclosure is recorded, an amendment reopens
// nothing.
func TestClause4_2_1_DPAObjectionReopensOnlyItsDecisionAndNothingAfterDisclosureOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a, b := e.as(alice), e.as(bob)
	ctx := context.Background()
	notification := "spiffe://ddr.test/service/notification"
	id := e.reviewedRequest(a)
	p := ok(a.Decide(ctx, discloseAll(id)))(t).GetCase()
	d1 := p.GetDecision().GetDecisionId()
	ok(b.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d1}))(t)

	e.appendAs(id, notification, &notificationv1.RedirectOutcomeRecorded{RequestId: id, Redirect: &notificationv1.RedirectRecord{
		Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED, RecordedBy: bob, RecordTime: timestamppb.New(e.clock.Now()),
	}})
	e.appendAs(id, notification, &notificationv1.DpaObjected{RequestId: id, DecisionId: "an-earlier-decision", Dpa: "IE-DPC", ConfirmTime: timestamppb.New(e.clock.Now())})
	e.appendAs(id, notification, &notificationv1.DpaObjected{RequestId: id, DecisionId: d1, Dpa: "IE-DPC", ConfirmTime: timestamppb.New(e.clock.Now())})
	c := e.caseUntil(a, id, "case back in review", func(c *assessmentv1.Case) bool { return c.GetLifecycleState() == "in_review" })
	if r := c.GetReopenings(); len(r) != 1 || r[0].GetTrigger() != assessmentv1.ReopenTrigger_REOPEN_TRIGGER_DPA_OBJECTED.String() || r[0].GetSupersededDecisionId() != d1 {
		t.Fatalf("reopenings %v, want one for the DPA's objection to D1", r)
	}

	// D2, disclosed: an amendment now reopens nothing.
	d2 := ok(a.Decide(ctx, discloseAll(id)))(t).GetCase().GetDecision().GetDecisionId()
	ok(b.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d2}))(t)
	e.appendAs(id, "spiffe://ddr.test/service/reporting", &reportingv1.DispositionRecorded{RequestId: id, Disposition: &reportingv1.Disposition{
		Kind: &reportingv1.Disposition_Disclosure{Disclosure: &reportingv1.Disclosure{}}, RecordedBy: bob, RecordTime: timestamppb.New(e.clock.Now()),
	}})
	e.appendAs(id, member, &intakev1.RequestAmended{RequestId: id, AmendmentId: "late", Information: "too late", AmendTime: timestamppb.New(e.clock.Now())})
	replayReactor(t, e)
	c = ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase()
	if c.GetLifecycleState() != "disclosed" || !c.GetDisclosed() || len(c.GetReopenings()) != 1 {
		t.Fatalf("after the disclosure: lifecycle %s, %d reopenings", c.GetLifecycleState(), len(c.GetReopenings()))
	}
}
