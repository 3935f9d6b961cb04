package service_test

import (
	"bytes"
	"context"
	"strings"
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
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/testkit"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/ports"
	"github.com/ddrsuite/ddr/services/reporting/service"
)

// Issue 16's events as their producers write them (assessment, intake,
// notification), appended directly: the producers' RPCs land on other
// branches; the suite drives the whole flow once they are merged.

func decidedAs(id, decisionID string, at time.Time, kind assessmentv1.DecisionKind, refs int) eventstore.Event {
	ev := decided(id, at, kind, refs)
	ev.ID = eventstore.DerivedID(id, "assessment.decided", decisionID)
	ev.Payload.(*assessmentv1.AssessmentDecided).GetDecision().DecisionId = decisionID
	return ev
}

func clearedFor(id, decisionID string, at time.Time) eventstore.Event {
	ev := cleared(id, at)
	ev.ID = eventstore.DerivedID(id, "notification.cleared", decisionID)
	ev.Payload.(*notificationv1.RequestCleared).DecisionId = decisionID
	return ev
}

func reopened(id, superseded string, at time.Time, trigger assessmentv1.ReopenTrigger) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "assessment.reopened", superseded), RequestID: id, Service: "assessment", Name: "reopened", Time: at,
		Payload: &assessmentv1.CaseReopened{RequestId: id, Trigger: trigger, SupersededDecisionId: superseded, ReopenTime: timestamppb.New(at),
			Reason: "the authority declined the redirect: a new decision is needed (4.1.2)"},
	}
}

func stepsStopped(id string, at time.Time, reason notificationv1.StopReason) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "notification.steps_stopped", reason.String()), RequestID: id, Service: "notification", Name: "steps_stopped", Time: at,
		Payload: &notificationv1.StepsStopped{RequestId: id, Reason: reason, Steps: []notificationv1.StepKind{notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER}, StopTime: timestamppb.New(at)},
	}
}

func acknowledged(id string, at time.Time, afterDisclosure bool) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "assessment.withdrawal_acknowledged"), RequestID: id, Service: "assessment", Name: "withdrawal_acknowledged", Time: at, Actor: staff.URI,
		Payload: &assessmentv1.WithdrawalAcknowledged{RequestId: id, AcknowledgedBy: staff.URI, AcknowledgeTime: timestamppb.New(at), AfterDisclosure: afterDisclosure},
	}
}

// The reasons below stand for personal data (sealed as RECORD by the real
// producers): the record must never show them.
const (
	revealReason   = "to check the account of Jane Canary-Reveal"
	linkReason     = "same officer, same account of Jane Canary-Link"
	questionAsked  = "Which of Jane Canary-Question's accounts?"
	withdrawReason = "Jane Canary-Withdrawn was cleared"
)

func revealed(id string, at time.Time) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "intake.targets_revealed"), RequestID: id, Service: "intake", Name: "targets_revealed", Time: at, Actor: counsel.URI,
		Payload: &intakev1.TargetsRevealed{RequestId: id, RevealedBy: counsel.URI, Roles: []string{"legal"}, Reason: revealReason, RevealTime: timestamppb.New(at)},
	}
}

func linked(id, other string, at time.Time) eventstore.Event {
	return eventstore.Event{
		ID: eventstore.DerivedID(id, "assessment.linked", other), RequestID: id, Service: "assessment", Name: "linked", Time: at, Actor: staff.URI,
		Payload: &assessmentv1.CaseLinked{RequestId: id, LinkedRequestId: other, Reason: linkReason, LinkedBy: staff.URI, LinkTime: timestamppb.New(at)},
	}
}

func disclose(id string, at time.Time) *reportingv1.RecordDispositionRequest {
	return &reportingv1.RecordDispositionRequest{RequestId: id, Kind: &reportingv1.RecordDispositionRequest_Disclosure{Disclosure: &reportingv1.Disclosure{
		Categories: []reportingv1.DataCategory{reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER}, Accounts: 1,
		DiscloseTime: timestamppb.New(at), Means: reportingv1.DeliveryMeans_DELIVERY_MEANS_SECURE_PORTAL,
	}}}
}

func wantRefusal(t *testing.T, err error, clause, rule string) {
	t.Helper()
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("%v, want FAILED_PRECONDITION", err)
	}
	if pv, ok := grpcserver.PolicyViolationFrom(err); !ok || pv.Clause != clause || pv.Rule != rule {
		t.Fatalf("%v, want clause %s %s", err, clause, rule)
	}
}

func facts(rec *reportingv1.Record, k reportingv1.RecordFactKind) []*reportingv1.RecordFact {
	var out []*reportingv1.RecordFact
	for _, f := range rec.GetTimeline() {
		if f.GetKind() == k {
			out = append(out, f)
		}
	}
	return out
}

func TestClause2_1_DisclosureRefusedOverGRPCAfterTheAuthorityWithdrew(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	ctx := context.Background()
	const id = "req-withdrawn-cleared"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1))
	e.append(t, id, cleared(id, t0.Add(2*time.Hour)))
	w := withdrawn(id, t0.Add(3*time.Hour))
	w.Payload.(*intakev1.RequestWithdrawn).Reason = withdrawReason
	e.append(t, id, w)
	_, err := e.staff.RecordDisposition(ctx, disclose(id, t0.Add(4*time.Hour)))
	wantRefusal(t, err, "2.1", domain.RuleRequestWithdrawn)

	// Stopped steps refuse on their own too, until a new clearance.
	const id2 = "req-stopped"
	e.append(t, id2, received(id2, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	e.append(t, id2, decidedAs(id2, "d1", t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1))
	e.append(t, id2, clearedFor(id2, "d1", t0.Add(2*time.Hour)))
	e.append(t, id2, stepsStopped(id2, t0.Add(3*time.Hour), notificationv1.StopReason_STOP_REASON_REOPENED))
	_, err = e.staff.RecordDisposition(ctx, disclose(id2, t0.Add(4*time.Hour)))
	wantRefusal(t, err, "2.2", domain.RuleStepsStopped)
}

func TestClause2_2_ReopenedCaseVoidsTheClearanceUntilTheNewDecisionIsCleared_EarlierDecisionsStayInTheRecord(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	ctx := context.Background()
	const id = "req-reopened"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	e.append(t, id, decidedAs(id, "d1", t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1))
	e.append(t, id, clearedFor(id, "d1", t0.Add(2*time.Hour)))
	e.append(t, id, eventstore.Event{
		ID: eventstore.DerivedID(id, "notification.dpa_objected"), RequestID: id, Service: "notification", Name: "dpa_objected", Time: t0.Add(3 * time.Hour),
		Payload: &notificationv1.DpaObjected{RequestId: id, DecisionId: "d1", Dpa: "DPC-IE", ConfirmTime: timestamppb.New(t0.Add(3 * time.Hour))},
	})
	e.append(t, id, reopened(id, "d1", t0.Add(3*time.Hour), assessmentv1.ReopenTrigger_REOPEN_TRIGGER_DPA_OBJECTED))
	e.append(t, id, stepsStopped(id, t0.Add(3*time.Hour), notificationv1.StopReason_STOP_REASON_REOPENED))
	e.append(t, id, eventstore.Event{
		ID: eventstore.DerivedID(id, "assessment.information_requested"), RequestID: id, Service: "assessment", Name: "information_requested", Time: t0.Add(4 * time.Hour), Actor: proposer.URI,
		Payload: &assessmentv1.InformationRequested{RequestId: id, Question: questionAsked, AskedBy: proposer.URI, AskTime: timestamppb.New(t0.Add(4 * time.Hour))},
	})
	_, err := e.staff.RecordDisposition(ctx, disclose(id, t0.Add(5*time.Hour)))
	wantRefusal(t, err, "2.2", domain.RuleClearanceVoid)

	e.append(t, id, decidedAs(id, "d2", t0.Add(6*time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1))
	_, err = e.staff.RecordDisposition(ctx, disclose(id, t0.Add(7*time.Hour)))
	wantRefusal(t, err, "2.2", domain.RuleClearanceVoid)
	e.append(t, id, clearedFor(id, "d2", t0.Add(8*time.Hour)))
	if _, err := e.staff.RecordDisposition(ctx, disclose(id, t0.Add(9*time.Hour))); err != nil {
		t.Fatalf("after the new decision was cleared: %v", err)
	}

	rec := getRecord(t, e, id)
	ds := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_DECIDED)
	if len(ds) != 2 || ds[0].GetDecisionId() != "d1" || !ds[0].GetSuperseded() || ds[1].GetDecisionId() != "d2" || ds[1].GetSuperseded() || ds[1].GetDetail() != "disclose" {
		t.Errorf("decisions in the timeline: %v; want d1 superseded beside d2 in effect", ds)
	}
	if r := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_REOPENED); len(r) != 1 || r[0].GetTrigger() != "dpa_objected" || r[0].GetDecisionId() != "d1" || r[0].GetReason() == "" {
		t.Errorf("reopening: %v", r)
	}
	if o := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_DPA_OBJECTED); len(o) != 1 || o[0].GetDpa() != "DPC-IE" || o[0].GetDecisionId() != "d1" {
		t.Errorf("DPA objection: %v", o)
	}
	if s := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_STEPS_STOPPED); len(s) != 1 || s[0].GetTrigger() != "reopened" || len(s[0].GetSteps()) != 1 || s[0].GetSteps()[0] != "notify_customer" {
		t.Errorf("steps stopped: %v", s)
	}
	q := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_INFORMATION_REQUESTED)
	if len(q) != 1 || q[0].GetBy() != proposer.URI || !q[0].GetSealedText() || !q[0].GetTime().AsTime().Equal(t0.Add(4*time.Hour)) {
		t.Errorf("question asked: %v", q)
	}
	noCanary(t, rec)
}

func TestIssue16_TheRevealIsInTheRecordWithWhoWhenAndNotItsText(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	const id = "req-revealed"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	at := t0.Add(2 * time.Hour)
	e.append(t, id, revealed(id, at))
	rec := getRecord(t, e, id)
	r := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_TARGETS_REVEALED)
	if len(r) != 1 {
		t.Fatalf("reveals in the timeline: %v", rec.GetTimeline())
	}
	if r[0].GetBy() != counsel.URI || !r[0].GetTime().AsTime().Equal(at) || len(r[0].GetRoles()) != 1 || r[0].GetRoles()[0] != "legal" || !r[0].GetSealedText() {
		t.Errorf("reveal: %v; want who, when, roles and that the reason is recorded", r[0])
	}
	noCanary(t, rec)
	if v := verify(t, e, &reportingv1.VerifyRecordRequest{RequestId: id, Copy: rec}); !v.GetValid() {
		t.Errorf("a copy with its timeline does not verify: %v", v)
	}
}

// noCanary fails when the record shows any free text the producers seal.
func noCanary(t *testing.T, rec *reportingv1.Record) {
	t.Helper()
	b, err := proto.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("Canary")) {
		t.Errorf("the record shows sealed free text: %s", strings.Join(strings.Fields(rec.String()), " "))
	}
}

func TestIssue16_AnAcknowledgedWithdrawalClosesTheRecordAsWithdrawn(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	ctx := context.Background()
	const id = "req-withdrawal-acknowledged"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1))
	e.append(t, id, withdrawn(id, t0.Add(2*time.Hour)))
	e.append(t, id, stepsStopped(id, t0.Add(2*time.Hour), notificationv1.StopReason_STOP_REASON_WITHDRAWN))
	if rec := getRecord(t, e, id); rec.GetClosed() || seals(rec) != 0 {
		t.Fatalf("closed %v with %d seals on the withdrawal alone", rec.GetClosed(), seals(rec))
	}
	e.append(t, id, acknowledged(id, t0.Add(3*time.Hour), false))
	// Sealed after the disposition. The acknowledgement alone makes the
	// record terminal, so a seal reactor still working through the earlier
	// events may seal it once before the disposition: one seal or two.
	var rec *reportingv1.Record
	testkit.Eventually(t, "the record to be sealed after the disposition", func() bool {
		rec = getRecord(t, e, id)
		n := len(rec.GetEntries())
		return strings.HasSuffix(rec.GetEntries()[n-1].GetSubject(), ".reporting.sealed") &&
			len(facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_DISPOSITION)) == 1
	})
	if !rec.GetClosed() {
		t.Error("not closed after the acknowledgement")
	}
	d := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_DISPOSITION)
	if len(d) != 1 || d[0].GetDetail() != "withdrawn" || d[0].GetBy() != staff.URI {
		t.Errorf("disposition: %v; want withdrawn in the acknowledger's name", d)
	}
	if a := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_WITHDRAWAL_ACKNOWLEDGED); len(a) != 1 || a[0].GetBy() != staff.URI || a[0].GetAfterDisclosure() {
		t.Errorf("acknowledgement: %v", a)
	}
	if v := verify(t, e, &reportingv1.VerifyRecordRequest{RequestId: id}); !v.GetValid() || int(v.GetSealsChecked()) != seals(rec) {
		t.Errorf("verify: %v; want valid with the record's %d seals", v, seals(rec))
	}
	if _, err := e.staff.RecordDisposition(ctx, disclose(id, t0.Add(4*time.Hour))); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a disclosure after the close: %v", err)
	}
}

func TestClause2_1_AWithdrawalAcknowledgedAfterADisclosureUndoesNothing(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	ctx := context.Background()
	const id = "req-withdrawn-after-disclosure"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1))
	e.append(t, id, cleared(id, t0.Add(2*time.Hour)))
	// The clearance's seal first: a disposition recorded before the reactor
	// reached the clearance would share its seal, and two never come.
	waitSeals(t, e, id, 1)
	if _, err := e.staff.RecordDisposition(ctx, disclose(id, t0.Add(3*time.Hour))); err != nil {
		t.Fatal(err)
	}
	waitSeals(t, e, id, 2)
	e.append(t, id, withdrawn(id, t0.Add(4*time.Hour)))
	e.append(t, id, acknowledged(id, t0.Add(5*time.Hour), true))
	// Sealed after the acknowledgement (the withdrawal may share its seal).
	var rec *reportingv1.Record
	testkit.Eventually(t, "the record to be sealed after the acknowledgement", func() bool {
		rec = getRecord(t, e, id)
		n := len(rec.GetEntries())
		return n >= 2 && strings.HasSuffix(rec.GetEntries()[n-1].GetSubject(), ".reporting.sealed") &&
			len(facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_WITHDRAWAL_ACKNOWLEDGED)) == 1
	})
	d := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_DISPOSITION)
	if len(d) != 1 || d[0].GetDetail() != "non_content_only" {
		t.Errorf("dispositions %v: want the disclosure alone", d)
	}
	if w := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_WITHDRAWN); len(w) != 1 || !w[0].GetAfterDisclosure() || w[0].GetBy() != member.URI {
		t.Errorf("withdrawal: %v; want after the disclosure, by the member", w)
	}
}

func TestClause5_1_LinkedRequestsAreCountedOnceInTheReport(t *testing.T) {
	c := testkit.NewClock(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	e := start(t, cfgAt(c, 250))
	ctx := context.Background()
	for _, id := range []string{"req-a", "req-b", "req-c"} {
		e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	}
	e.append(t, "req-a", decided("req-a", t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_REJECT, 0))
	e.append(t, "req-b", decided("req-b", t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER, 0))
	e.append(t, "req-b", redirected("req-b", t0.Add(2*time.Hour)))
	last := e.append(t, "req-b", linked("req-b", "req-a", t0.Add(3*time.Hour)))
	if err := e.comp.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	out := getReport(t, e, "2026-H1", reportingv1.ReportFormat_REPORT_FORMAT_JSON)
	rep, err := domain.ReadJSON(bytes.NewReader(out.GetContent()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Requests != 2 {
		t.Errorf("%d requests counted, want 2 (req-a and req-b one demand)", rep.Totals.Requests)
	}
	if by := asMap(rep.ByOutcome); by["redirected"] != 1 || by["rejected"] != 0 || by["pending"] != 1 {
		t.Errorf("by outcome %v: want the demand redirected (its most significant), req-c pending", by)
	}
	v, err := e.staff.VerifyTransparencyReport(ctx, &reportingv1.VerifyTransparencyReportRequest{ReportJson: out.GetContent()})
	if err != nil || !v.GetValid() {
		t.Fatalf("the report does not verify: %v %v", v, err)
	}
	rec := getRecord(t, e, "req-b")
	if l := facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_LINKED); len(l) != 1 || l[0].GetLinkedRequestId() != "req-a" || l[0].GetBy() != staff.URI || !l[0].GetSealedText() {
		t.Errorf("link: %v", l)
	}
	noCanary(t, rec)
}

// The steps' stop can reach the record after the acknowledgement closed and
// sealed it (notification reacts to the withdrawal on its own time; seen
// under CI load): the record is sealed again, so a closed record always
// ends with a seal that covers every entry.
func TestIssue16_StepsStoppedAfterTheCloseIsCoveredByANewSeal(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	const id = "req-steps-stopped-late"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	e.append(t, id, withdrawn(id, t0.Add(time.Hour)))
	e.append(t, id, acknowledged(id, t0.Add(2*time.Hour), false))
	testkit.Eventually(t, "the record to be closed with its disposition", func() bool {
		rec := getRecord(t, e, id)
		return rec.GetClosed() && len(facts(rec, reportingv1.RecordFactKind_RECORD_FACT_KIND_DISPOSITION)) == 1
	})
	before := waitSeals(t, e, id, 1)
	e.append(t, id, stepsStopped(id, t0.Add(3*time.Hour), notificationv1.StopReason_STOP_REASON_WITHDRAWN))
	wantSealedAfter(t, e, id, before, ".notification.steps_stopped")
}

// wantSealedAfter waits for the record of id to gain a seal over what it
// had before, and checks that the seal comes right after the event whose
// subject ends in suffix and that the record verifies with every seal.
func wantSealedAfter(t *testing.T, e *env, id string, before *reportingv1.Record, suffix string) {
	t.Helper()
	rec := waitSeals(t, e, id, seals(before)+1)
	n := len(rec.GetEntries())
	if !strings.HasSuffix(rec.GetEntries()[n-2].GetSubject(), suffix) {
		t.Errorf("entries %d..%d: %s, %s; want *%s, then its seal", n-2, n-1, rec.GetEntries()[n-2].GetSubject(), rec.GetEntries()[n-1].GetSubject(), suffix)
	}
	if v := verify(t, e, &reportingv1.VerifyRecordRequest{RequestId: id}); !v.GetValid() || int(v.GetSealsChecked()) != seals(rec) {
		t.Errorf("verify: %v; want valid with the record's %d seals", v, seals(rec))
	}
}

// Any event that extends a closed record is covered by a new seal, not only
// the ones that close it: here a customer notice delivered after the
// rejection was sealed. An event of an open record seals nothing.
func TestClause5_1_AClosedRecordEndsWithASealWhateverExtendsIt(t *testing.T) {
	e := start(t, service.Config{BandWidth: 250, Delay: time.Hour})
	const id, open = "req-closed-then-noticed", "req-still-open"
	e.append(t, id, received(id, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	e.append(t, id, decided(id, t0.Add(time.Hour), assessmentv1.DecisionKind_DECISION_KIND_REJECT, 0))
	before := waitSeals(t, e, id, 1)
	e.append(t, id, noticeDelivered(id, t0.Add(2*time.Hour), notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER))
	wantSealedAfter(t, e, id, before, ".notification.notice_delivered")

	// The open request's events pass the same reactor, which has handled
	// them all once nothing is pending: still no seal.
	e.append(t, open, received(open, t0, intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SUBPOENA, "DE", 1, false, false))
	e.append(t, open, noticeDelivered(open, t0.Add(time.Hour), notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER))
	testkit.Eventually(t, "the seal reactor to handle every event", func() bool {
		c, err := e.js.Consumer(context.Background(), eventstore.StreamName, ports.SealConsumer)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
	if r := getRecord(t, e, open); seals(r) != 0 || r.GetClosed() {
		t.Errorf("the open record: %d seals, closed %v; want none, open", seals(r), r.GetClosed())
	}
}
