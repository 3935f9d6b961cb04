package suite_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// intakeLegal is the legal staff member of the test processes
// (runnertest.DevStaff).
const intakeLegal = "spiffe://ddr.local/staff/carol"

// Issue 16 item 4 (clause 3.3), through the all-in-one over gRPC: the
// reviewer sees the whole request as received and its amendments, the
// targets sealed; a reveal needs a reason and is recorded (who, roles,
// when, why) in the request's events and its record; a group member
// cannot reveal; the member's own Get stays closed to staff.
func TestClause3_3_ReviewerSeesTheWholeRequestAndARevealIsRecorded(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	staff := intakev1.NewIntakeServiceClient(p.Dial(t, reviewer))

	req := request(time.Now().Add(-2 * time.Hour))
	req.Targets = append(req.Targets, &intakev1.Target{Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Value: "suspect@example.org"})
	req.ScopeDescription = "the two accounts of the suspect"
	req.Notes = "served at the front desk"
	req.Emergency = &intakev1.Emergency{Claimed: true, HarmDescribed: "threat reported"}
	req.Deadline = timestamppb.New(time.Now().Add(72 * time.Hour))
	req.Attachments = []*intakev1.Attachment{{Uri: "https://docs.example/order.pdf", Sha256: fmt.Sprintf("%064x", 1), MediaType: "application/pdf"}}
	req.Customers = []*intakev1.Customer{
		{CustomerId: "acme-gmbh", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "DE"},
		{CustomerId: "globex-sa", Role: intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER},
	}
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "review-1", Request: req})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	id := sub.GetRequestId()
	for _, info := range []string{"the court's order attached", "the second account was closed in May"} {
		must(t, "amend", func() error {
			_, err := in.Amend(ctx, &intakev1.AmendRequest{RequestId: id, Information: info})
			return err
		})
	}

	if _, err := staff.Get(ctx, &intakev1.GetRequest{RequestId: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a reviewer calling the member's Get: %v, want PermissionDenied", status.Code(err))
	}
	res, err := staff.GetRequestForReview(ctx, &intakev1.GetRequestForReviewRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	w := res.GetRequest()
	c := w.GetContent()
	for what, ok := range map[string]bool{
		"authority":        c.GetAuthority().GetName() == "Staatsanwaltschaft Berlin" && c.GetAuthority().GetKind() == intakev1.AuthorityKind_AUTHORITY_KIND_PROSECUTOR && c.GetAuthority().GetCountry() == "DE",
		"legal process":    c.GetLegalProcess().GetType() == intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER && c.GetLegalProcess().GetReference() == "AG Tiergarten 123/26",
		"purpose":          c.GetStatedPurpose() == "fraud investigation",
		"scope":            c.GetScopeDescription() == "the two accounts of the suspect",
		"harm":             c.GetEmergency().GetHarmDescribed() == "threat reported",
		"notes":            c.GetNotes() == "served at the front desk",
		"attachments":      len(c.GetAttachments()) == 1 && c.GetAttachments()[0].GetUri() == "https://docs.example/order.pdf",
		"deadline":         c.GetDeadline().AsTime().Equal(req.GetDeadline().AsTime()),
		"customers":        len(c.GetCustomers()) == 2 && c.GetCustomers()[0].GetRole() == intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER,
		"categories":       slices.Equal(c.GetDataCategories(), req.GetDataCategories()),
		"time range":       c.GetTimeRange().GetFrom().AsTime().Equal(req.GetTimeRange().GetFrom().AsTime()),
		"amendments":       len(w.GetAmendments()) == 2 && w.GetAmendments()[0].GetInformation() == "the court's order attached" && w.GetAmendments()[1].GetInformation() == "the second account was closed in May",
		"targets, counted": w.GetTargetCount() == 2 && len(c.GetTargets()) == 2 && c.GetTargets()[1].GetKind() == intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS,
	} {
		if !ok {
			t.Errorf("the review does not show the %s: %v", what, w)
		}
	}
	for i, tg := range c.GetTargets() {
		if tg.GetValue() != "" || len(tg.GetSealedValue()) != 0 {
			t.Errorf("the review shows target %d's value", i)
		}
	}

	_, err = staff.RevealTargets(ctx, &intakev1.RevealTargetsRequest{RequestId: id})
	if fv := grpcstatus.FieldViolationsFrom(err); status.Code(err) != codes.InvalidArgument || len(fv) != 1 || fv[0].Field != "reason" {
		t.Errorf("a reveal without a reason: %v, want InvalidArgument on reason", err)
	}
	if _, err := in.RevealTargets(ctx, &intakev1.RevealTargetsRequest{RequestId: id, Reason: "to see"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a group member revealing: %v, want PermissionDenied", status.Code(err))
	}
	out, err := staff.RevealTargets(ctx, &intakev1.RevealTargetsRequest{RequestId: id, Reason: "to check the accounts before deciding"})
	if err != nil {
		t.Fatal(err)
	}
	if ts := out.GetTargets(); len(ts) != 2 || ts[0].GetValue() != "acct-981" || ts[1].GetValue() != "suspect@example.org" {
		t.Errorf("revealed %v", ts)
	}

	// The reveal is in the request's events, and in its record.
	var revealed *intakev1.TargetsRevealed
	for _, ev := range openedEventsAs(t, p, "intake", id) {
		if r, ok := ev.(*intakev1.TargetsRevealed); ok {
			revealed = r
		}
	}
	if revealed.GetRevealedBy() != reviewer || !slices.Contains(revealed.GetRoles(), "reviewer") ||
		revealed.GetReason() != "to check the accounts before deciding" || revealed.GetRevealTime() == nil {
		t.Errorf("recorded reveal %v", revealed)
	}
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))
	eventually(t, func() error {
		rec, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return err
		}
		for _, e := range rec.GetRecord().GetEntries() {
			if e.GetEventType() == "ddr.intake.v1.TargetsRevealed" {
				return nil
			}
		}
		return fmt.Errorf("the record has no TargetsRevealed entry yet")
	})
	res, err = intakev1.NewIntakeServiceClient(p.Dial(t, approver)).GetRequestForReview(ctx, &intakev1.GetRequestForReviewRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if rs := res.GetRequest().GetReveals(); len(rs) != 1 || rs[0].GetRevealedBy() != reviewer {
		t.Errorf("the review lists the reveals %v", rs)
	}
}

// Issue 16 item 3: the authority told the company directly; legal records
// the withdrawal, which the member sees closed as withdrawn and the
// record keeps with who recorded it.
func TestIssue16_WithdrawalRecordedByStaff(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "withdrawn-by-staff", Request: request(time.Now().Add(-time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetRequestId()
	must(t, "record withdrawal", func() error {
		_, err := intakev1.NewIntakeServiceClient(p.Dial(t, intakeLegal)).RecordWithdrawal(ctx, &intakev1.RecordWithdrawalRequest{RequestId: id, Reason: "the prosecutor's office called: order revoked"})
		return err
	})
	got, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if r := got.GetRequest(); r.GetStage() != intakev1.Stage_STAGE_CLOSED || r.GetOutcome() != intakev1.Outcome_OUTCOME_WITHDRAWN {
		t.Errorf("member sees %v/%v, want closed/withdrawn", r.GetStage(), r.GetOutcome())
	}
	var w *intakev1.RequestWithdrawn
	for _, ev := range openedEventsAs(t, p, "intake", id) {
		if e, ok := ev.(*intakev1.RequestWithdrawn); ok {
			w = e
		}
	}
	if w.GetRecordedBy() != intakeLegal || w.GetReason() != "the prosecutor's office called: order revoked" {
		t.Errorf("recorded withdrawal %v", w)
	}
}

// Issue 16 items 2 and 8: while the Privacy Team asks for more
// information, the member sees the stage and the question (sealed as
// RECORD in assessment's event; intake opens it), and nothing else of the
// case. The InformationRequested event is appended as assessment would
// write it: its RPC is assessment's, merged separately.
func TestIssue16_MemberSeesInformationRequestedWithTheQuestion(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "more-info", Request: request(time.Now().Add(-time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetRequestId()
	eventually(t, func() error {
		g, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
		if err == nil && g.GetRequest().GetStage() != intakev1.Stage_STAGE_UNDER_REVIEW {
			err = fmt.Errorf("stage %v, want under review", g.GetRequest().GetStage())
		}
		return err
	})

	as := storeAs(t, p, "assessment")
	h, err := as.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	asked := time.Now().UTC()
	if _, err := as.Append(ctx, id, h.LastSeq, eventstore.Event{ID: "asked-" + id, RequestID: id, Time: asked, Actor: reviewer,
		Payload: &assessmentv1.InformationRequested{RequestId: id, Question: "Which of the accounts does the order name?", AskedBy: reviewer, AskTime: timestamppb.New(asked)}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		g, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			return err
		}
		r := g.GetRequest()
		if r.GetStage() != intakev1.Stage_STAGE_INFORMATION_REQUESTED || r.GetInformationRequest().GetQuestion() != "Which of the accounts does the order name?" {
			return fmt.Errorf("member sees %v with %v", r.GetStage(), r.GetInformationRequest())
		}
		return nil
	})
	must(t, "the member answers", func() error {
		_, err := in.Amend(ctx, &intakev1.AmendRequest{RequestId: id, Information: "account acct-981 only"})
		return err
	})
	list, err := in.List(ctx, &intakev1.ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if r := list.GetRequests()[0]; r.GetStage() != intakev1.Stage_STAGE_UNDER_REVIEW || r.GetInformationRequest() != nil {
		t.Errorf("after the answer the member's list shows %v with %v", r.GetStage(), r.GetInformationRequest())
	}
}
