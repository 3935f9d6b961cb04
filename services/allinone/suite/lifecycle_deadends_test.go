package suite_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// Issue 16's must-show: each dead end the review found, now driven over
// gRPC through all four services to the end the policy gives it. Each
// test walks one real case from submission to the member's closed stage
// and the sealed record; nothing is appended by hand.

// deSubmit submits a request (changed by mod) and records alice's review
// of clause 3.3 on its case.
func (e *sgEnv) deSubmit(key string, mod func(*intakev1.DataDisclosureRequest)) string {
	e.t.Helper()
	id, _ := e.submit(key, mod)
	reviewCase(e.t, e.ctx, e.as[reviewer], id)
	return id
}

// deDisclose has alice propose a disclosure and bob approve it: four eyes,
// again after every return to review.
func (e *sgEnv) deDisclose(id string) string {
	e.t.Helper()
	var d string
	must(e.t, "decide disclosure", func() error {
		res, err := e.as[reviewer].Decide(e.ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Scope: &assessmentv1.Scope{All: true}})
		d = res.GetCase().GetDecision().GetDecisionId()
		return err
	})
	must(e.t, "approve", func() error {
		_, err := e.as[approver].ApproveDecision(e.ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: d})
		return err
	})
	return d
}

// deReopened waits until the case is back in review for trigger.
func (e *sgEnv) deReopened(id string, trigger assessmentv1.ReopenTrigger) *assessmentv1.Case {
	e.t.Helper()
	return caseWhere(e.t, e.ctx, e.as[reviewer], id, "back in review ("+trigger.String()+")", func(c *assessmentv1.Case) bool {
		n := len(c.GetReopenings())
		return c.GetLifecycleState() == "in_review" && n > 0 && c.GetReopenings()[n-1].GetTrigger() == trigger.String()
	})
}

// deDisclosed records the disclosure, which only a cleared request allows.
func (e *sgEnv) deDisclosed(id string) {
	e.t.Helper()
	re := reportingv1.NewReportingServiceClient(e.p.Dial(e.t, reviewer))
	eventually(e.t, func() error {
		_, err := re.RecordDisposition(e.ctx, &reportingv1.RecordDispositionRequest{RequestId: id,
			Kind: disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)})
		return err
	})
}

// deClosed waits until the member sees the request closed with outcome and
// its record is sealed.
func (e *sgEnv) deClosed(id string, outcome intakev1.Outcome) {
	e.t.Helper()
	eventually(e.t, func() error {
		got, err := e.in.Get(e.ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			return err
		}
		if r := got.GetRequest(); r.GetStage() != intakev1.Stage_STAGE_CLOSED || r.GetOutcome() != outcome {
			return fmt.Errorf("member sees %v/%v, want closed/%v", r.GetStage(), r.GetOutcome(), outcome)
		}
		return nil
	})
	re := reportingv1.NewReportingServiceClient(e.p.Dial(e.t, reviewer))
	eventually(e.t, func() error {
		rec, err := re.GetRecord(e.ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return err
		}
		if !rec.GetRecord().GetClosed() {
			return fmt.Errorf("the record of %s is not sealed", id)
		}
		return nil
	})
	v, err := re.VerifyRecord(e.ctx, &reportingv1.VerifyRecordRequest{RequestId: id})
	if err != nil || !v.GetValid() {
		e.t.Fatalf("the record of %s does not verify: %v %v", id, v, err)
	}
}

// Dead end: "after the authority declines a redirect, the gate asks for a
// new disclose decision that cannot be made". Now the case goes back to
// review, a new disclosure goes through four eyes, the customer is told
// (4.1.2), the request is CLEARED and the disclosure recorded.
func TestClause4_1_1_RedirectDeclinedReachesClearedAndTheDisclosure(t *testing.T) {
	e := startSafeguards(t, sgOptions{leadHook: true, customers: true})
	id := e.deSubmit("de-redirect", func(r *intakev1.DataDisclosureRequest) { r.CustomerId = "cust-42" })
	must(t, "decide redirect", func() error {
		_, err := e.as[reviewer].Decide(e.ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER})
		return err
	})
	eventually(t, func() error {
		_, err := e.no[reviewer].RecordRedirectOutcome(e.ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED})
		return err
	})
	e.deReopened(id, assessmentv1.ReopenTrigger_REOPEN_TRIGGER_REDIRECT_DECLINED)
	e.deDisclose(id)
	p := e.plan(id, "cleared after the customer's notice", planIs(notificationv1.PlanStatus_PLAN_STATUS_CLEARED))
	if s := sgStep(p, notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER); s.GetStatus() != notificationv1.StepStatus_STEP_STATUS_DONE {
		t.Fatalf("cleared with the customer notice %v, want done (4.1.2)", s)
	}
	e.deDisclosed(id)
	e.deClosed(id, intakev1.Outcome_OUTCOME_DISCLOSED)
}

// Dead end: "after a DPA objects, 'needs a new decision' cannot be made".
// Now the second person's confirmation of the objection sends the case
// back to review (4.2.1), where the Privacy Team rejects the demand.
func TestClause4_2_1_DPAObjectionReachesANewDecisionRejected(t *testing.T) {
	e := startSafeguards(t, sgOptions{leadHook: true})
	id := e.deSubmit("de-objection", func(r *intakev1.DataDisclosureRequest) { r.Authority.Country = "CN" })
	e.deDisclose(id)
	e.plan(id, "held with the packet sent", func(p *notificationv1.Plan) error {
		if p.GetStatus() != notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD || len(p.GetDeliveries()) == 0 {
			return errWaiting("on hold with a delivered packet", p)
		}
		return nil
	})
	o, err := e.no[approver].ProposeConsultationOutcome(e.ctx, &notificationv1.ProposeConsultationOutcomeRequest{
		RequestId: id, Authority: sgLead, Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_OBJECTION,
		Summary: "the transfer is not justified", ReplyReference: "DPC-2026-207", ReplyTime: timestamppb.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.no[sgCarol].ConfirmLift(e.ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: o.GetLiftId()}); err != nil {
		t.Fatalf("a second person confirming the objection: %v", err)
	}
	e.deReopened(id, assessmentv1.ReopenTrigger_REOPEN_TRIGGER_DPA_OBJECTED)
	_, err = notificationv1.NewNotificationServiceClient(e.p.Dial(t, reviewer)).CheckDisclosure(e.ctx, &notificationv1.CheckDisclosureRequest{RequestId: id})
	if err == nil {
		t.Fatal("a disclosure is allowed while the objected case is back in review")
	}
	must(t, "decide reject", func() error {
		_, err := e.as[reviewer].Decide(e.ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT,
			Grounds: "the lead DPA objected to the transfer (4.2.1)"})
		return err
	})
	e.deClosed(id, intakev1.Outcome_OUTCOME_REJECTED)
}

// Dead end: "request more information closes the case, intake hides the
// question from the member, and amendments never reach assessment". Now
// the member sees the question, answers with an amendment, the case is
// reviewed again and decided: CLEARED, then disclosed.
func TestClause3_3_MoreInformationAnsweredReachesClearedAndTheDisclosure(t *testing.T) {
	e := startSafeguards(t, sgOptions{leadHook: true})
	id := e.deSubmit("de-more-info", nil)
	const question = "Which account numbers does the order cover?"
	must(t, "ask", func() error {
		_, err := e.as[reviewer].RequestInformation(e.ctx, &assessmentv1.RequestInformationRequest{RequestId: id, Question: question})
		return err
	})
	eventually(t, func() error {
		got, err := e.in.Get(e.ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			return err
		}
		if r := got.GetRequest(); r.GetStage() != intakev1.Stage_STAGE_INFORMATION_REQUESTED || r.GetInformationRequest().GetQuestion() != question {
			return fmt.Errorf("member sees %v %q, want information requested with the question", r.GetStage(), r.GetInformationRequest().GetQuestion())
		}
		return nil
	})
	if _, err := e.in.Amend(e.ctx, &intakev1.AmendRequest{RequestId: id, Information: "account 1001 only"}); err != nil {
		t.Fatalf("Amend: %v", err)
	}
	e.deReopened(id, assessmentv1.ReopenTrigger_REOPEN_TRIGGER_INFORMATION_SUPPLIED)
	e.deDisclose(id)
	e.plan(id, "cleared", planIs(notificationv1.PlanStatus_PLAN_STATUS_CLEARED))
	e.deDisclosed(id)
	e.deClosed(id, intakev1.Outcome_OUTCOME_DISCLOSED)
}

// Dead end: "withdrawal does not stop anything: a notice still went out
// and a disclosure was recorded". Now a cleared request the authority
// withdrew refuses the disclosure (2.1) and closes as WITHDRAWN once one
// Privacy Team member acknowledges it.
func TestClause2_1_WithdrawalOfAClearedRequestReachesWithdrawn(t *testing.T) {
	e := startSafeguards(t, sgOptions{leadHook: true})
	id := e.deSubmit("de-withdrawn", nil)
	e.deDisclose(id)
	e.plan(id, "cleared", planIs(notificationv1.PlanStatus_PLAN_STATUS_CLEARED))
	if _, err := e.in.Withdraw(e.ctx, &intakev1.WithdrawRequest{RequestId: id, Reason: "the investigation was closed"}); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	re := reportingv1.NewReportingServiceClient(e.p.Dial(t, reviewer))
	eventually(t, func() error {
		_, err := re.RecordDisposition(e.ctx, &reportingv1.RecordDispositionRequest{RequestId: id,
			Kind: disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)})
		if err == nil {
			t.Fatal("a disclosure was recorded after the withdrawal")
		}
		if !strings.Contains(err.Error(), "2.1") {
			return fmt.Errorf("refused, but not yet for the withdrawal: %w", err)
		}
		return nil
	})
	must(t, "acknowledge", func() error {
		_, err := e.as[reviewer].AcknowledgeWithdrawal(e.ctx, &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: id})
		return err
	})
	e.deClosed(id, intakev1.Outcome_OUTCOME_WITHDRAWN)
}
