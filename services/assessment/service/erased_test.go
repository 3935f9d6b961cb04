package service_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/assessment/ports"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// appendEvent appends p to the request's events as actor, with the event
// id eventID, as its producer would; it returns the stream sequence.
func (e *env) appendEvent(id, eventID, actor string, p proto.Message) uint64 {
	e.t.Helper()
	ctx := context.Background()
	h, err := e.store.Load(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	seq, err := e.store.Append(ctx, id, h.LastSeq, eventstore.Event{ID: eventID, RequestID: id, Actor: actor, Time: e.clock.Now(), Payload: p})
	if err != nil {
		e.t.Fatal(err)
	}
	return seq
}

// eraseTargets records intake's TargetsErased, as intake does once the
// request ended and its data key is destroyed.
func (e *env) eraseTargets(id string) {
	e.t.Helper()
	e.appendEvent(id, eventstore.DerivedID(id, "intake.targets_erased"), "spiffe://ddr.test/staff/legal",
		&intakev1.TargetsErased{RequestId: id, Reason: "retention period over", EraseTime: timestamppb.New(e.clock.Now())})
}

// deadLettered waits until the open-case reactor dead-lettered the event
// eventID, and returns its dead letter.
func (e *env) deadLettered(eventID string) consumer.DeadLetter {
	e.t.Helper()
	var out consumer.DeadLetter
	testkit.Eventually(e.t, "event "+eventID+" dead-lettered", func() bool {
		dls, err := consumer.ListDeadLetters(context.Background(), e.js, ports.OpenCaseConsumer)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, d := range dls {
			if d.EventID == eventID {
				out = d
				return true
			}
		}
		return false
	})
	return out
}

// Clause 4.1.2 (and 4.1.1): a rejection is the end an amendment or a
// corrected fact can reopen. Once intake recorded the erasure of the
// request's targets, the customers in the case's facts are gone with
// them, and a case back in review would be decided, and a disclosure
// planned, with no customer to ask or notify. So a fact correction is
// refused with TARGETS_ERASED, and an amendment recorded after the
// erasure (as an intake from before it refused them would) reaches the
// reactor and is dead-lettered with the rule, where an operator sees it,
// rather than reopening the case or being dropped unseen. The case stays
// rejected, with no CaseReopened.
func TestClause4_1_2_AnErasedRejectionIsNotReopenedOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	id := e.reviewedRequest(a)
	ok(a.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "no jurisdiction"}))(t)
	e.eraseTargets(id)

	// It only strengthens, so it would take effect at once and reopen.
	_, err := a.ProposeFactCorrection(ctx, &assessmentv1.ProposeFactCorrectionRequest{RequestId: id, Reason: "no emergency was claimed",
		Correction: &assessmentv1.FactCorrection{EmergencyClaimed: proto.Bool(false)}})
	wantClause(t, err, "4.1.2", "TARGETS_ERASED")

	amended := eventstore.DerivedID(id, "intake.amended", "late")
	e.appendEvent(id, amended, member, &intakev1.RequestAmended{RequestId: id, AmendmentId: "late", Information: "the account was renamed", AmendTime: timestamppb.New(e.clock.Now())})
	if dl := e.deadLettered(amended); !strings.Contains(dl.Error, "TARGETS_ERASED") || strings.Contains(dl.Error, "renamed") {
		t.Errorf("the late amendment was dead-lettered with %q, want the rule and no personal data", dl.Error)
	}
	if n := len(eventsOf[*assessmentv1.CaseReopened](e, id)); n != 0 {
		t.Fatalf("%d CaseReopened on the erased rejection, want none", n)
	}
	if n := len(eventsOf[*assessmentv1.FactsCorrected](e, id)); n != 0 {
		t.Fatalf("%d FactsCorrected on the erased rejection, want none", n)
	}
	if c := ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase(); c.GetLifecycleState() != "rejected" {
		t.Errorf("the erased case is %s, want rejected", c.GetLifecycleState())
	}
}

// Clause 4.1.2 (and 3.3): a challenge decision whose request ended as
// challenged (reporting's disposition) is still one a confirmed outcome
// sends back to review. Once the targets are erased the outcome is not
// confirmed: refused with TARGETS_ERASED, no CaseReopened, the case stays
// challenging.
func TestClause4_1_2_AnErasedChallengeTakesNoOutcomeOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	id := e.reviewedRequest(a)
	ok(a.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Warranted: true, Reasoning: "the order is overbroad"}))(t)
	ok(a.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_CHALLENGE, Grounds: "the order is overbroad"}))(t)
	ok(a.ProposeChallengeOutcome(ctx, &assessmentv1.ProposeChallengeOutcomeRequest{RequestId: id, Outcome: assessmentv1.ChallengeOutcome_CHALLENGE_OUTCOME_UPHELD,
		Basis: "the court narrowed the order", EvidenceReference: "case 12/2026"}))(t)
	e.appendEvent(id, eventstore.DerivedID(id, "reporting.disposition_recorded"), bob, &reportingv1.DispositionRecorded{RequestId: id, Disposition: &reportingv1.Disposition{
		Kind: &reportingv1.Disposition_Outcome{Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_CHALLENGED}, RecordTime: timestamppb.New(e.clock.Now()), RecordedBy: bob,
	}})
	e.eraseTargets(id)

	_, err := e.as(dave).ConfirmChallengeOutcome(ctx, &assessmentv1.ConfirmChallengeOutcomeRequest{RequestId: id})
	wantClause(t, err, "4.1.2", "TARGETS_ERASED")
	if n := len(eventsOf[*assessmentv1.CaseReopened](e, id)); n != 0 {
		t.Fatalf("%d CaseReopened on the erased challenge, want none", n)
	}
	if c := ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase(); c.GetLifecycleState() != "challenging" {
		t.Errorf("the erased case is %s, want challenging", c.GetLifecycleState())
	}
}

// reacted waits until the open-case reactor acknowledged the event at
// stream sequence seq (handled, or dead-lettered).
func (e *env) reacted(seq uint64) {
	e.t.Helper()
	ctx := context.Background()
	testkit.Eventually(e.t, "the open-case reactor acknowledged its events", func() bool {
		c, err := e.js.Consumer(ctx, eventstore.StreamName, ports.OpenCaseConsumer)
		if err != nil {
			e.t.Fatal(err)
		}
		ci, err := c.Info(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		return ci.AckFloor.Stream >= seq
	})
}

// Clause 4.1.2 (and 4.1.1, 4.2.1): every other end of a request has no way
// back to review in the lifecycle table (platform/lifecycle), so nothing
// needs refusing there: a redirect declined after the authority agreed to
// go to the customer, and a DPA's objection after the disclosure, reach
// the reactor once the targets are erased and do nothing, with no
// CaseReopened and no dead letter. This pins the table: a row out of
// those ends would make the cause reopen the case or, with the erasure
// rule, dead-letter it.
func TestClause4_1_2_AnErasedRequestEndedWithNoWayBackStaysEndedOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a, b := e.as(alice), e.as(bob)
	ctx := context.Background()
	const notification = "spiffe://ddr.test/service/notification"

	redirected := e.reviewedRequest(a)
	ok(a.Decide(ctx, &assessmentv1.DecideRequest{RequestId: redirected, Kind: assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER}))(t)
	e.appendEvent(redirected, "agreed-"+redirected, notification, &notificationv1.RedirectOutcomeRecorded{RequestId: redirected, Redirect: &notificationv1.RedirectRecord{
		Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_AGREED, RecordedBy: bob, RecordTime: timestamppb.New(e.clock.Now()),
	}})
	e.eraseTargets(redirected)
	declined := e.appendEvent(redirected, "declined-"+redirected, notification, &notificationv1.RedirectOutcomeRecorded{RequestId: redirected, Redirect: &notificationv1.RedirectRecord{
		Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED, RecordedBy: bob, RecordTime: timestamppb.New(e.clock.Now()),
	}})

	disclosed := e.reviewedRequest(a)
	d := ok(a.Decide(ctx, discloseAll(disclosed)))(t).GetCase().GetDecision().GetDecisionId()
	ok(b.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: disclosed, DecisionId: d}))(t)
	e.appendEvent(disclosed, "disclosed-"+disclosed, "spiffe://ddr.test/service/reporting", &reportingv1.DispositionRecorded{RequestId: disclosed, Disposition: &reportingv1.Disposition{
		Kind: &reportingv1.Disposition_Disclosure{Disclosure: &reportingv1.Disclosure{}}, RecordedBy: bob, RecordTime: timestamppb.New(e.clock.Now()),
	}})
	e.eraseTargets(disclosed)
	objected := e.appendEvent(disclosed, "objected-"+disclosed, notification, &notificationv1.DpaObjected{RequestId: disclosed, DecisionId: d, Dpa: "IE-DPC", ConfirmTime: timestamppb.New(e.clock.Now())})

	e.reacted(max(declined, objected))
	dls, err := consumer.ListDeadLetters(ctx, e.js, ports.OpenCaseConsumer)
	if err != nil {
		t.Fatal(err)
	}
	for _, dl := range dls {
		t.Errorf("dead-lettered %s of %s: %s", dl.EventType, dl.RequestID, dl.Error)
	}
	for id, want := range map[string]string{redirected: "redirected", disclosed: "disclosed"} {
		if n := len(eventsOf[*assessmentv1.CaseReopened](e, id)); n != 0 {
			t.Errorf("%d CaseReopened on the erased %s request, want none", n, want)
		}
		if c := ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase(); c.GetLifecycleState() != want {
			t.Errorf("the erased %s request's case is %s", want, c.GetLifecycleState())
		}
	}
}
