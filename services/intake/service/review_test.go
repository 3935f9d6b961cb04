package service_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

const (
	reviewer = "spiffe://ddr.local/staff/alice"
	approver = "spiffe://ddr.local/staff/bob"
	legal    = "spiffe://ddr.local/staff/carol"
)

// startWithDir starts intake on a data directory the test knows, so that
// it can reach the process's KEK (<dir>/pki/kek) to write another
// service's sealed event.
func startWithDir(t *testing.T) (*runnertest.Proc, string) {
	dir := t.TempDir()
	return runnertest.Start(t, runnertest.Options{DataDir: dir}, build), dir
}

// storeAs is an event store that writes as service (its NATS user) and
// seals its personal data with the process's keys, as that service would.
func storeAs(t *testing.T, p *runnertest.Proc, dir, service string) *eventstore.Store {
	t.Helper()
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/"+service))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := keys.LoadKEKFile(filepath.Join(dir, "pki", runner.KEKFileName))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctxT(t), keys.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keys.New(kv, kek)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.NewStore(js, eventstore.WithSealer(seal.New(kr.WithJetStream(js))))
}

// appendAs appends payload to the request's events, after its last one.
func appendAs(t *testing.T, s *eventstore.Store, requestID, id string, payload eventstore.Event) {
	t.Helper()
	h, err := s.Load(ctxT(t), requestID)
	if err != nil {
		t.Fatal(err)
	}
	payload.ID, payload.RequestID = id, requestID
	if _, err := s.Append(ctxT(t), requestID, h.LastSeq, payload); err != nil {
		t.Fatal(err)
	}
}

// getUntil polls the member's Get until ok holds (the view is a projection
// of the stream; another service's event reaches it asynchronously).
func getUntil(t *testing.T, c intakev1.IntakeServiceClient, id string, ok func(*intakev1.Request) bool) *intakev1.Request {
	t.Helper()
	ctx := ctxT(t)
	for {
		got, err := c.Get(ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			t.Fatal(err)
		}
		if ok(got.GetRequest()) {
			return got.GetRequest()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("request never reached the expected view; last: stage %v", got.GetRequest().GetStage())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Issue 16 items 2 and 8: the Privacy Team's question, sealed as RECORD in
// assessment's event, reaches the member with the stage; the member
// answers with Amend and sees the request back in review.
func TestIssue16_MemberSeesTheQuestionAndAnswersByAmending(t *testing.T) {
	p, dir := startWithDir(t)
	c := client(t, p, memberA)
	id := submitted(t, c, "q-1")
	as := storeAs(t, p, dir, "assessment")
	now := time.Now().UTC()
	appendAs(t, as, id, "opened-"+id, eventstore.Event{Time: now, Payload: &assessmentv1.CaseOpened{RequestId: id}})
	appendAs(t, as, id, "asked-"+id, eventstore.Event{Time: now, Actor: reviewer, Payload: &assessmentv1.InformationRequested{
		RequestId: id, Question: "Which of the two accounts does the order mean?", AskedBy: reviewer, AskTime: timestamppb.New(now),
	}})

	// The question is sealed in the stream (RECORD): intake, entitled to
	// open personal data, opens it for the member.
	plain, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/assessment"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := eventstore.NewStore(plain).Load(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range h.Events {
		if q, ok := ev.Payload.(*assessmentv1.InformationRequested); ok && q.GetQuestion() != "" {
			t.Fatal("the question is in the stream in clear; the test would not show intake opening it")
		}
	}

	r := getUntil(t, c, id, func(r *intakev1.Request) bool { return r.GetStage() == intakev1.Stage_STAGE_INFORMATION_REQUESTED })
	if q := r.GetInformationRequest(); q.GetQuestion() != "Which of the two accounts does the order mean?" || !q.GetAskTime().AsTime().Equal(now) {
		t.Errorf("information request shown as %v", q)
	}
	if _, err := c.Amend(ctxT(t), &intakev1.AmendRequest{RequestId: id, Information: "the second one"}); err != nil {
		t.Fatalf("the member answers with Amend: %v", err)
	}
	g, err := c.Get(ctxT(t), &intakev1.GetRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if r := g.GetRequest(); r.GetStage() != intakev1.Stage_STAGE_UNDER_REVIEW || r.GetInformationRequest() != nil {
		t.Errorf("after the answer: stage %v, question %v; want under review, no question", r.GetStage(), r.GetInformationRequest())
	}
}

// Issue 16 item 4 (clause 3.3): the reviewer sees the whole request and
// every amendment, the targets sealed; a reveal needs a reason, is
// recorded before the values are returned, and is the Privacy Team's only.
func TestClause3_3_ReviewerSeesTheWholeRequestAndRevealsTargetsOnlyWithARecordedReason(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	m := client(t, p, memberA)
	req := oral(time.Now().Add(-time.Hour), "x@example.org")
	req.Targets = append(req.Targets, &intakev1.Target{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-77"})
	req.StatedPurpose = "fraud investigation"
	req.LegalProcess = &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER, Reference: "AZ 9/26"}
	req.Customers = []*intakev1.Customer{{CustomerId: "acme", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "DE"}, {CustomerId: "globex"}}
	res, err := m.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: "rv-1", Request: req})
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetRequestId()
	if _, err := m.Amend(ctxT(t), &intakev1.AmendRequest{RequestId: id, Information: "order attached"}); err != nil {
		t.Fatal(err)
	}

	rv := client(t, p, reviewer)
	if _, err := rv.Get(ctxT(t), &intakev1.GetRequest{RequestId: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("staff calling the member's Get: %v, want PermissionDenied", status.Code(err))
	}
	got, err := rv.GetRequestForReview(ctxT(t), &intakev1.GetRequestForReviewRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	w := got.GetRequest()
	if w.GetContent().GetStatedPurpose() != "fraud investigation" || w.GetContent().GetLegalProcess().GetReference() != "AZ 9/26" ||
		w.GetContent().GetAuthority().GetName() != "Landespolizei" || len(w.GetContent().GetCustomers()) != 2 ||
		len(w.GetAmendments()) != 1 || w.GetAmendments()[0].GetInformation() != "order attached" || w.GetTargetCount() != 2 {
		t.Errorf("review shows %v", w)
	}
	for i, tg := range w.GetContent().GetTargets() {
		if tg.GetValue() != "" || len(tg.GetSealedValue()) != 0 || tg.GetKind() == intakev1.TargetKind_TARGET_KIND_UNSPECIFIED {
			t.Errorf("review target %d: %v; want its kind only", i, tg)
		}
	}

	_, err = rv.RevealTargets(ctxT(t), &intakev1.RevealTargetsRequest{RequestId: id, Reason: "  "})
	if fv := grpcstatus.FieldViolationsFrom(err); status.Code(err) != codes.InvalidArgument || len(fv) == 0 || fv[0].Field != "reason" {
		t.Errorf("reveal without a reason: %v, want InvalidArgument on reason", err)
	}
	if _, err := m.RevealTargets(ctxT(t), &intakev1.RevealTargetsRequest{RequestId: id, Reason: "curious"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a group member revealing: %v, want PermissionDenied", status.Code(err))
	}
	out, err := rv.RevealTargets(ctxT(t), &intakev1.RevealTargetsRequest{RequestId: id, Reason: "to check the accounts exist"})
	if err != nil {
		t.Fatal(err)
	}
	if ts := out.GetTargets(); len(ts) != 2 || ts[0].GetValue() != "x@example.org" || ts[1].GetValue() != "acct-77" {
		t.Errorf("revealed %v", ts)
	}
	got, err = client(t, p, approver).GetRequestForReview(ctxT(t), &intakev1.GetRequestForReviewRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	rs := got.GetRequest().GetReveals()
	if len(rs) != 1 || rs[0].GetRevealedBy() != reviewer || rs[0].GetReason() != "to check the accounts exist" || len(rs[0].GetRoles()) == 0 || rs[0].GetRevealTime() == nil {
		t.Errorf("recorded reveals: %v", rs)
	}

	// After erasure the values are gone, and the reveal says so. It is
	// erased once the request ended (clause 4.1.2).
	if _, err := m.Withdraw(ctxT(t), &intakev1.WithdrawRequest{RequestId: id, Reason: "order revoked"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client(t, p, legal).EraseTargets(ctxT(t), &intakev1.EraseTargetsRequest{RequestId: id, Reason: "retention"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rv.RevealTargets(ctxT(t), &intakev1.RevealTargetsRequest{RequestId: id, Reason: "again"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("reveal after erasure: %v, want FailedPrecondition", err)
	}
	if _, err := rv.GetRequestForReview(ctxT(t), &intakev1.GetRequestForReviewRequest{RequestId: "no-such-request"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown request: %v, want NotFound", status.Code(err))
	}
}

// Issue 16 item 3: staff record a withdrawal the authority told them of
// directly; the member's view shows it closed as withdrawn, and the record
// says who recorded it.
func TestIssue16_StaffRecordAWithdrawalTheAuthorityToldThemOf(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	m := client(t, p, memberA)
	id := submitted(t, m, "wd-1")
	ap := client(t, p, approver)
	if _, err := ap.RecordWithdrawal(ctxT(t), &intakev1.RecordWithdrawalRequest{RequestId: id}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("without a reason: %v, want InvalidArgument", status.Code(err))
	}
	if _, err := m.RecordWithdrawal(ctxT(t), &intakev1.RecordWithdrawalRequest{RequestId: id, Reason: "x"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a group member: %v, want PermissionDenied (it has Withdraw)", status.Code(err))
	}
	if _, err := ap.RecordWithdrawal(ctxT(t), &intakev1.RecordWithdrawalRequest{RequestId: id, Reason: "the prosecutor phoned: order revoked"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Withdraw(ctxT(t), &intakev1.WithdrawRequest{RequestId: id}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("the member withdrawing again: %v, want FailedPrecondition", status.Code(err))
	}
	g, err := m.Get(ctxT(t), &intakev1.GetRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if r := g.GetRequest(); r.GetStage() != intakev1.Stage_STAGE_CLOSED || r.GetOutcome() != intakev1.Outcome_OUTCOME_WITHDRAWN {
		t.Errorf("member sees %v %v, want closed, withdrawn", r.GetStage(), r.GetOutcome())
	}
	w, err := ap.GetRequestForReview(ctxT(t), &intakev1.GetRequestForReviewRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if w.GetRequest().GetWithdrawalRecordedBy() != approver || w.GetRequest().GetWithdrawTime() == nil {
		t.Errorf("review shows the withdrawal as %v by %q", w.GetRequest().GetWithdrawTime(), w.GetRequest().GetWithdrawalRecordedBy())
	}
}
