package suite_test

// Issue 16 over gRPC against the real all-in-one, for reporting: a
// withdrawal refuses any later disclosure, a reveal of the targets is in
// the record (who, when, roles; never its reason), and a demand sent to
// two group members is counted once in the transparency report.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// lrDemand is a demand for one subscriber record, received at.
func lrDemand(key string, at time.Time) *intakev1.SubmitRequest {
	return &intakev1.SubmitRequest{
		IdempotencyKey: key,
		Request: &intakev1.DataDisclosureRequest{
			ReceivedAt:     timestamppb.New(at),
			Channel:        intakev1.Channel_CHANNEL_LETTER,
			Authority:      &intakev1.Authority{Name: "Staatsanwaltschaft Berlin", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_PROSECUTOR, Country: "DE"},
			LegalProcess:   &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER, Reference: "AG Tiergarten 123/26"},
			Targets:        []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-981"}},
			DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
			TimeRange:      &intakev1.TimeRange{From: timestamppb.New(at.AddDate(0, -3, 0)), To: timestamppb.New(at.AddDate(0, 0, -1))},
			StatedPurpose:  "fraud investigation",
		},
	}
}

// The dead end of issue 16: after the authority withdrew the request a
// disclosure was still recorded. Now the cleared request, withdrawn by the
// group member, refuses it (2.1: no demand stands), and its record stays
// open until a Privacy Team member acknowledges the withdrawal.
func TestClause2_1_ADisclosureAfterTheMemberWithdrewIsRefusedEndToEnd(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	asAlice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	asBob := assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))

	sub, err := in.Submit(ctx, lrDemand("withdrawn-after-clearing", time.Now().Add(-2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetRequestId()
	decideDisclosure(t, ctx, asAlice, asBob, id)
	dispatchLeadPacket(t, ctx, p, id)
	untilCleared(t, ctx, no, id)

	if _, err := in.Withdraw(ctx, &intakev1.WithdrawRequest{RequestId: id, Reason: "the authority withdrew by letter"}); err != nil {
		t.Fatal(err)
	}
	// The record sees the withdrawal (reporting reads the stream itself).
	eventually(t, func() error {
		rec, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return err
		}
		for _, f := range rec.GetRecord().GetTimeline() {
			if f.GetKind() == reportingv1.RecordFactKind_RECORD_FACT_KIND_WITHDRAWN {
				return nil
			}
		}
		return errors.New("the withdrawal is not in the record's timeline yet")
	})
	_, err = re.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: id, Kind: disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a disclosure after the withdrawal: %v, want FAILED_PRECONDITION", err)
	}
	if pv, ok := grpcstatus.PolicyViolationFrom(err); !ok || pv.Clause != "2.1" || pv.Rule != domain.RuleRequestWithdrawn {
		t.Fatalf("a disclosure after the withdrawal: %v, want clause 2.1 %s", err, domain.RuleRequestWithdrawn)
	}
	// "Withdrawn" is what staff may record.
	if _, err := re.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: id, Kind: &reportingv1.RecordDispositionRequest_Outcome{
		Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_WITHDRAWN}}); err != nil {
		t.Fatalf("withdrawn: %v", err)
	}
}

// Issue 16's must-show: a reveal (intake's RevealTargets) is recorded and
// appears in the record reporting serves, with who, when and the roles;
// its reason is sealed as the company's record and never shown there.
func TestClause3_3_ARevealOfTheTargetsAppearsInTheRecordEndToEnd(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	staff := intakev1.NewIntakeServiceClient(p.Dial(t, reviewer))
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))
	sub, err := in.Submit(ctx, lrDemand("revealed", time.Now().Add(-time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetRequestId()
	const reason = "to check the account of Jane Canary-Reveal"
	if _, err := staff.RevealTargets(ctx, &intakev1.RevealTargetsRequest{RequestId: id, Reason: reason}); err != nil {
		t.Fatal(err)
	}
	var rec *reportingv1.Record
	var fact *reportingv1.RecordFact
	eventually(t, func() error {
		res, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return err
		}
		rec = res.GetRecord()
		for _, f := range rec.GetTimeline() {
			if f.GetKind() == reportingv1.RecordFactKind_RECORD_FACT_KIND_TARGETS_REVEALED {
				fact = f
				return nil
			}
		}
		return errors.New("the reveal is not in the record's timeline yet")
	})
	if fact.GetBy() != reviewer || !slices.Contains(fact.GetRoles(), "reviewer") || fact.GetTime() == nil || !fact.GetSealedText() {
		t.Errorf("reveal in the record: %v; want who, when, roles and that its reason is recorded", fact)
	}
	if strings.Contains(prototext.Format(rec), "Canary") {
		t.Error("the record shows the reveal's reason")
	}
}

// One demand, two group members (issue 16, 5.1): staff link the second
// request to the first; the report of their half-year counts them once,
// and still verifies against the record. assessment's LinkCase lands on
// another branch: the link is appended as assessment writes it (its
// RECORD-sealed reason left empty, so nothing personal is written
// unsealed); the suite test of the merge drives it through the RPC.
func TestClause5_1_ADemandSentToTwoGroupMembersIsCountedOnceEndToEnd(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))

	// Received in the half-year before this one, which is over.
	now := time.Now().UTC()
	prev := domain.PeriodOf(domain.PeriodOf(now).Start().Add(-time.Hour))
	at := prev.Start().Add(24 * time.Hour)
	var ids []string
	for _, key := range []string{"same-demand-1", "same-demand-2", "other-demand"} {
		sub, err := in.Submit(ctx, lrDemand(key, at))
		if err != nil {
			t.Fatalf("submit %s: %v", key, err)
		}
		ids = append(ids, sub.GetRequestId())
	}
	report := func() (*domain.Report, []byte) {
		res, err := re.GetTransparencyReport(ctx, &reportingv1.GetTransparencyReportRequest{Period: prev.String(), Format: reportingv1.ReportFormat_REPORT_FORMAT_JSON})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := domain.ReadJSON(bytes.NewReader(res.GetReport().GetContent()))
		if err != nil {
			t.Fatal(err)
		}
		return rep, res.GetReport().GetContent()
	}
	eventually(t, func() error {
		if rep, _ := report(); rep.Totals.Requests != 3 {
			return fmt.Errorf("%d requests counted before the link, want 3", rep.Totals.Requests)
		}
		return nil
	})

	staff := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	if _, err := staff.LinkCase(ctx, &assessmentv1.LinkCaseRequest{RequestId: ids[1], LinkedRequestId: ids[0],
		Reason: "the same production order, sent to both group members"}); err != nil {
		t.Fatal(err)
	}
	var content []byte
	eventually(t, func() error {
		rep, c := report()
		if rep.Totals.Requests != 2 {
			return fmt.Errorf("%d requests counted after the link, want 2", rep.Totals.Requests)
		}
		content = c
		return nil
	})
	v, err := re.VerifyTransparencyReport(ctx, &reportingv1.VerifyTransparencyReportRequest{ReportJson: content})
	if err != nil || !v.GetValid() {
		t.Fatalf("the report counting the demand once does not verify: %v %v", v, err)
	}
	rec, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rec.GetRecord().GetTimeline() {
		found = found || (f.GetKind() == reportingv1.RecordFactKind_RECORD_FACT_KIND_LINKED && f.GetLinkedRequestId() == ids[0] && f.GetBy() == reviewer)
	}
	if !found {
		t.Errorf("the link is not in the record: %v", rec.GetRecord().GetTimeline())
	}
}

// acknowledgeWithdrawal is a Privacy Team member acknowledging the
// request's withdrawal, which closes and seals its record (issue 16). The
// case reads the withdrawal from the record asynchronously: until it has,
// the acknowledgement is refused, so it is asked again.
func acknowledgeWithdrawal(t *testing.T, p *runnertest.Proc, id string) {
	t.Helper()
	as := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	eventually(t, func() error {
		_, err := as.AcknowledgeWithdrawal(context.Background(), &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: id})
		return err
	})
}
