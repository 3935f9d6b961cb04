package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// closedAndErased submits a request, has reporting record its end (d),
// waits until the member sees it closed, and erases its targets as legal.
func closedAndErased(t *testing.T, p *runnertest.Proc, m intakev1.IntakeServiceClient, key string, d *reportingv1.Disposition) string {
	t.Helper()
	id := submitted(t, m, key)
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/reporting"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	d.RecordTime, d.RecordedBy = timestamppb.New(now), approver
	appendAs(t, eventstore.NewStore(js), id, "disposed-"+id, eventstore.Event{Time: now, Actor: approver, Payload: &reportingv1.DispositionRecorded{RequestId: id, Disposition: d}})
	getUntil(t, m, id, func(r *intakev1.Request) bool { return r.GetStage() == intakev1.Stage_STAGE_CLOSED })
	if er, err := client(t, p, legal).EraseTargets(ctxT(t), &intakev1.EraseTargetsRequest{RequestId: id, Reason: "retention"}); err != nil || !er.GetErasedNow() {
		t.Fatalf("erasing the closed request: %v, %v", er, err)
	}
	return id
}

// Clause 4.1.2 (and 4.1.1): a rejection is the one end an amendment can
// reopen (the facts it rested on changed: platform/lifecycle). Once the
// request's targets are erased, the customers they name are gone: a case
// sent back to review would be decided again, and a disclosure planned,
// with no customer to ask for the redirect (4.1.1) or to notify (4.1.2).
// So intake refuses any amendment of an erased request, saying why and
// what to do instead, and records nothing: the member still sees it
// closed as rejected. (Before this rule the amendment failed INTERNAL,
// by accident: its text could not be sealed under the erased key.)
func TestClause4_1_2_AnErasedRequestCannotBeAmendedBackToReview(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	m := client(t, p, memberA)
	rejected := closedAndErased(t, p, m, "erased-rejected", &reportingv1.Disposition{
		Kind: &reportingv1.Disposition_Outcome{Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REJECTED},
	})
	before := streamMessages(t, p)
	for _, a := range []*intakev1.AmendRequest{
		{RequestId: rejected, Information: "the account was renamed"},
		{RequestId: rejected, Attachments: []*intakev1.Attachment{{Uri: "s3://evidence/letter.pdf", Sha256: strings.Repeat("c", 64), MediaType: "application/pdf"}}},
	} {
		_, err := m.Amend(ctxT(t), a)
		if pv, ok := grpcserver.PolicyViolationFrom(err); status.Code(err) != codes.FailedPrecondition || !ok || pv.Clause != "4.1.2" || pv.Rule != "TARGETS_ERASED" {
			t.Fatalf("amending the erased rejected request: %v, want FailedPrecondition with clause 4.1.2 TARGETS_ERASED", err)
		}
	}
	if after := streamMessages(t, p); after != before {
		t.Errorf("the refused amendments appended %d events", after-before)
	}
	got, err := m.Get(ctxT(t), &intakev1.GetRequest{RequestId: rejected})
	if err != nil {
		t.Fatal(err)
	}
	if r := got.GetRequest(); r.GetStage() != intakev1.Stage_STAGE_CLOSED || r.GetOutcome() != intakev1.Outcome_OUTCOME_REJECTED || len(r.GetAmendments()) != 0 {
		t.Errorf("after the refused amendments the member sees %v/%v with %d amendments, want closed/rejected with none", r.GetStage(), r.GetOutcome(), len(r.GetAmendments()))
	}
}

// Clause 4.1.2: an authority may still withdraw a disclosed request (it is
// recorded and undoes nothing), but once its targets are erased no reason
// that could describe a person can be recorded with it: the reason would
// need the erased key. The member is told why (before, this failed
// INTERNAL), nothing is appended, and the withdrawal without a reason is
// recorded.
func TestClause4_1_2_AWithdrawalOfAnErasedRequestTakesNoReason(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	m := client(t, p, memberA)
	disclosed := closedAndErased(t, p, m, "erased-disclosed", &reportingv1.Disposition{
		Kind: &reportingv1.Disposition_Disclosure{Disclosure: &reportingv1.Disclosure{}},
	})
	before := streamMessages(t, p)
	_, err := m.Withdraw(ctxT(t), &intakev1.WithdrawRequest{RequestId: disclosed, Reason: "order revoked"})
	if pv, ok := grpcserver.PolicyViolationFrom(err); status.Code(err) != codes.FailedPrecondition || !ok || pv.Clause != "4.1.2" || pv.Rule != "TARGETS_ERASED" {
		t.Fatalf("withdrawing the erased request with a reason: %v, want FailedPrecondition with clause 4.1.2 TARGETS_ERASED", err)
	}
	if after := streamMessages(t, p); after != before {
		t.Errorf("the refused withdrawal appended %d events", after-before)
	}
	if _, err := m.Withdraw(ctxT(t), &intakev1.WithdrawRequest{RequestId: disclosed}); err != nil {
		t.Fatalf("withdrawing the erased request without a reason: %v", err)
	}
}
