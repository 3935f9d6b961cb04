package service_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// Two reviewers' decisions on one case arrive at once. Even rounds pin the
// version they saw (expected_version), odd rounds do not, so both refusal
// paths run: the stale view (ABORTED) and the case no longer open to a
// decision (FAILED_PRECONDITION).
func TestConflictingDecisionsExactlyOneWinsOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	const rounds = 20
	for round := range rounds {
		id := e.receive(narrowRequest(e.clock.Now().Add(-time.Hour)))
		reviewed := e.review(a, id)
		var version uint64
		if round%2 == 0 {
			version = reviewed.GetVersion()
		}
		disclose := discloseAll(id)
		disclose.Scope = &assessmentv1.Scope{TargetRefs: []string{"t1"}}
		disclose.ExpectedVersion = version
		reject := &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "overbroad", ExpectedVersion: version}

		var wg sync.WaitGroup
		errs := make([]error, 2)
		go1 := make(chan struct{})
		for i, r := range []*assessmentv1.DecideRequest{disclose, reject} {
			wg.Go(func() {
				<-go1
				_, errs[i] = a.Decide(ctx, r)
			})
		}
		close(go1)
		wg.Wait()

		winners := 0
		for i, err := range errs {
			switch status.Code(err) {
			case codes.OK:
				winners++
			case codes.Aborted, codes.FailedPrecondition:
				if status.Convert(err).Message() == "" {
					t.Fatalf("round %d: decision %d refused without a reason", round, i)
				}
			default:
				t.Fatalf("round %d: decision %d got %v, want OK, ABORTED or FAILED_PRECONDITION", round, i, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d decisions won (errors %v), want exactly 1", round, winners, errs)
		}
		proposed, decided := len(eventsOf[*assessmentv1.DecisionProposed](e, id)), len(eventsOf[*assessmentv1.AssessmentDecided](e, id))
		if proposed+decided != 1 {
			t.Fatalf("round %d: %d proposals and %d decisions recorded, want one in all", round, proposed, decided)
		}
		c := ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t)
		want := assessmentv1.DecisionKind_DECISION_KIND_REJECT
		if errs[0] == nil {
			want = assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE
		}
		if got := c.GetCase().GetDecision().GetKind(); got != want {
			t.Fatalf("round %d: the case holds a %v decision, but the %v one won", round, got, want)
		}
	}
}

func TestDecideOnStaleVersionAbortedOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	id := e.receive(narrowRequest(e.clock.Now().Add(-time.Hour)))
	seen := e.review(a, id)
	ok(a.RecordCounselConsultation(ctx, &assessmentv1.RecordCounselConsultationRequest{RequestId: id, Consultation: &assessmentv1.CounselConsultation{
		Kind: assessmentv1.CounselKind_COUNSEL_KIND_INTERNAL_LEGAL, ConsultTime: timestamppb.New(e.clock.Now().Add(-time.Minute)), Summary: "valid order",
	}}))(t)
	reject := &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "overbroad", ExpectedVersion: seen.GetVersion()}
	if _, err := a.Decide(ctx, reject); status.Code(err) != codes.Aborted {
		t.Fatalf("decide on version %d after a later event: got %v, want ABORTED", seen.GetVersion(), err)
	}
	current := ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase()
	reject.ExpectedVersion = current.GetVersion()
	ok(a.Decide(ctx, reject))(t)
}

// A redelivered RequestReceived is handled by the reactor again, exactly as
// a second reactor on the same event would be; here a second durable
// consumer with the same handler plays the redelivery, and the request is
// also received once more under the same event id.
func TestRedeliveredRequestReceivedOpensOneCase(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	id := e.receive(narrowRequest(e.clock.Now().Add(-time.Hour)))
	e.openCase(a, id)

	h, err := e.store.Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	received := h.Events[0]
	received.Sequence, received.Subject = 0, ""
	if _, err := e.store.Append(context.Background(), id, h.LastSeq, received); err != nil {
		t.Fatalf("re-append of the same event: %v", err)
	}
	replayReactor(t, e)
	if n := len(eventsOf[*assessmentv1.CaseOpened](e, id)); n != 1 {
		t.Fatalf("%d CaseOpened events for one request, want 1", n)
	}
}

func TestWithdrawnRequestAcceptsNoDecisionOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	id := e.reviewedRequest(a)
	h, err := e.store.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	withdrawn := eventstore.Event{RequestID: id, Actor: member,
		Payload: &intakev1.RequestWithdrawn{RequestId: id, Reason: "case closed", WithdrawTime: timestamppb.New(e.clock.Now())}}
	if _, err := e.store.Append(ctx, id, h.LastSeq, withdrawn); err != nil {
		t.Fatal(err)
	}

	_, err = a.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "overbroad"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("decide on a withdrawn request: got %v, want FAILED_PRECONDITION", err)
	}
	c := ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase()
	if c.GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_WITHDRAWN || c.GetWithdrawTime() == nil {
		t.Fatalf("case after withdrawal: status %v withdrawn %v", c.GetStatus(), c.GetWithdrawTime())
	}
	testkit.Eventually(t, "withdrawn case leaves the default queue", func() bool {
		l := ok(a.ListCases(ctx, &assessmentv1.ListCasesRequest{}))(t)
		return !slices.ContainsFunc(l.GetCases(), func(c *assessmentv1.Case) bool { return c.GetRequestId() == id })
	})
}

func TestQueueListsEmergenciesFirstThenByDeadlineOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	a := e.as(alice)
	ctx := context.Background()
	now := e.clock.Now()
	plain := e.receive(narrowRequest(now.Add(-3 * time.Hour)))
	late := narrowRequest(now.Add(-2 * time.Hour))
	late.Deadline = timestamppb.New(now.Add(72 * time.Hour))
	lateID := e.receive(late)
	soon := narrowRequest(now.Add(-time.Hour))
	soon.Deadline = timestamppb.New(now.Add(24 * time.Hour))
	soonID := e.receive(soon)
	urgent := narrowRequest(now.Add(-time.Minute))
	urgent.Emergency = &intakev1.Emergency{Claimed: true, HarmDescribed: "threat to life"}
	urgentID := e.receive(urgent)
	want := []string{urgentID, soonID, lateID, plain}

	var got []string
	testkit.Eventually(t, "all four cases in the queue", func() bool {
		got = got[:0]
		token := ""
		for {
			l := ok(a.ListCases(ctx, &assessmentv1.ListCasesRequest{PageSize: 1, PageToken: token}))(t)
			for _, c := range l.GetCases() {
				got = append(got, c.GetRequestId())
			}
			if token = l.GetNextPageToken(); token == "" {
				return len(got) == len(want)
			}
		}
	})
	if !slices.Equal(got, want) {
		t.Fatalf("queue order %v, want %v (emergency, then earliest deadline, then none)", got, want)
	}

	ok(a.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: soonID, Assignee: bob}))(t)
	testkit.Eventually(t, "bob's case listed by assignee and status", func() bool {
		l := ok(a.ListCases(ctx, &assessmentv1.ListCasesRequest{Assignee: bob, Statuses: []assessmentv1.CaseStatus{assessmentv1.CaseStatus_CASE_STATUS_IN_REVIEW}}))(t)
		return len(l.GetCases()) == 1 && l.GetCases()[0].GetRequestId() == soonID
	})
	if _, err := a.ListCases(ctx, &assessmentv1.ListCasesRequest{PageToken: "bogus"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad page token: got %v, want INVALID_ARGUMENT", err)
	}
}

func TestOverdueCaseRecordedOnceOverGRPC(t *testing.T) {
	cfg := defaults(t)
	cfg.OverdueInterval = 5 * time.Millisecond
	e := start(t, cfg)
	a := e.as(alice)
	ctx := context.Background()
	req := narrowRequest(e.clock.Now().Add(-time.Hour))
	req.Emergency = &intakev1.Emergency{Claimed: true, HarmDescribed: "threat to life"}
	id := e.receive(req)
	opened := e.openCase(a, id)
	if opened.GetOverdue() {
		t.Fatal("a case is overdue the moment it opens")
	}

	e.clock.Set(opened.GetReviewDueTime().AsTime().Add(time.Minute))
	testkit.Eventually(t, "CaseOverdue recorded", func() bool { return len(eventsOf[*assessmentv1.CaseOverdue](e, id)) > 0 })
	// The watch keeps ticking over the same case until the queue has seen
	// the event; every round in between must find it and add nothing.
	testkit.Eventually(t, "queue has seen the overdue event", func() bool {
		l := ok(a.ListCases(ctx, &assessmentv1.ListCasesRequest{}))(t)
		return len(l.GetCases()) == 1 && l.GetCases()[0].GetOverdue() && l.GetCases()[0].GetVersion() > opened.GetVersion()
	})
	if n := len(eventsOf[*assessmentv1.CaseOverdue](e, id)); n != 1 {
		t.Fatalf("%d CaseOverdue events, want 1", n)
	}
	c := ok(a.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}))(t).GetCase()
	if !c.GetOverdue() {
		t.Fatal("GetCase does not show the case overdue")
	}
}

func TestStaffIdentityRequiredOverGRPC(t *testing.T) {
	e := start(t, defaults(t))
	_, err := e.as(member).ListCases(context.Background(), &assessmentv1.ListCasesRequest{})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("group member listing cases: got %v, want PERMISSION_DENIED", err)
	}
}
