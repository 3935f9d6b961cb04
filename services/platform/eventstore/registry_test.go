package eventstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// The stream keeps every event under the subject it was written with, so
// the declared subjects may never change: this is the list as published
// before the declarations existed. A new event adds a line; no line changes.
var publishedSubjects = []string{
	"ddr.assessment.v1.AssessmentDecided assessment.decided",
	"ddr.assessment.v1.AuthorityFlagged assessment.authority_flagged",
	"ddr.assessment.v1.CaseClaimed assessment.claimed",
	"ddr.assessment.v1.CaseLinked assessment.linked",
	"ddr.assessment.v1.CaseOpened assessment.opened",
	"ddr.assessment.v1.CaseOverdue assessment.overdue",
	"ddr.assessment.v1.CaseReopened assessment.reopened",
	"ddr.assessment.v1.ChallengeConsidered assessment.challenge_considered",
	"ddr.assessment.v1.ChallengeOutcomeConfirmed assessment.challenge_outcome_confirmed",
	"ddr.assessment.v1.ChallengeOutcomeProposed assessment.challenge_outcome_proposed",
	"ddr.assessment.v1.CounselConsulted assessment.counsel_consulted",
	"ddr.assessment.v1.DeadlineMet assessment.deadline_met",
	"ddr.assessment.v1.DeadlineOverdue assessment.deadline_overdue",
	"ddr.assessment.v1.DeadlinesSet assessment.deadlines_set",
	"ddr.assessment.v1.DecisionApproved assessment.decision_approved",
	"ddr.assessment.v1.DecisionProposed assessment.decision_proposed",
	"ddr.assessment.v1.DecisionRejected assessment.decision_rejected",
	"ddr.assessment.v1.FactCorrectionProposed assessment.fact_correction_proposed",
	"ddr.assessment.v1.FactorsRecorded assessment.factors_recorded",
	"ddr.assessment.v1.FactsCorrected assessment.facts_corrected",
	"ddr.assessment.v1.ImminentRiskJustified assessment.imminent_risk_justified",
	"ddr.assessment.v1.InformationRequested assessment.information_requested",
	"ddr.assessment.v1.PersonalDataBreachOpened assessment.breach_opened",
	"ddr.assessment.v1.RequesterChecked assessment.requester_checked",
	"ddr.assessment.v1.RequesterVerified assessment.requester_verified",
	"ddr.assessment.v1.SecurityIncidentOpened assessment.security_incident_opened",
	"ddr.assessment.v1.WithdrawalAcknowledged assessment.withdrawal_acknowledged",
	"ddr.intake.v1.RequestAmended intake.amended",
	"ddr.intake.v1.RequestReceived intake.received",
	"ddr.intake.v1.RequestWithdrawn intake.withdrawn",
	"ddr.intake.v1.TargetsErased intake.targets_erased",
	"ddr.intake.v1.TargetsRevealed intake.targets_revealed",
	"ddr.notification.v1.AdequacyLost notification.adequacy_lost",
	"ddr.notification.v1.ConsultationOutcomeProposed notification.consultation_outcome_proposed",
	"ddr.notification.v1.DpaConsulted notification.dpa_consulted",
	"ddr.notification.v1.DpaObjected notification.dpa_objected",
	"ddr.notification.v1.ExemptionProposed notification.exemption_proposed",
	"ddr.notification.v1.ExemptionRecorded notification.exemption_recorded",
	"ddr.notification.v1.HoldLifted notification.hold_lifted",
	"ddr.notification.v1.HoldPlaced notification.hold_placed",
	"ddr.notification.v1.LiftConfirmed notification.lift_confirmed",
	"ddr.notification.v1.ManualDispatchProposed notification.manual_dispatch_proposed",
	"ddr.notification.v1.NoticeDelivered notification.notice_delivered",
	"ddr.notification.v1.NoticeFailed notification.notice_failed",
	"ddr.notification.v1.NoticeOverdue notification.notice_overdue",
	"ddr.notification.v1.PlanDerived notification.plan_derived",
	"ddr.notification.v1.RedirectOutcomeRecorded notification.redirect_outcome_recorded",
	"ddr.notification.v1.RequestCleared notification.cleared",
	"ddr.notification.v1.RequestRedirected notification.redirected",
	"ddr.notification.v1.StepsStopped notification.steps_stopped",
	"ddr.notification.v1.WaiverEffortRecorded notification.waiver_effort_recorded",
	"ddr.notification.v1.WeakeningProposed notification.weakening_proposed",
	"ddr.reporting.v1.DispositionRecorded reporting.disposition_recorded",
	"ddr.reporting.v1.DpaAccessGranted reporting.dpa_access_granted",
	"ddr.reporting.v1.DpaRecordRead reporting.dpa_record_read",
	"ddr.reporting.v1.RecordSealed reporting.sealed",
	"ddr.reporting.v1.ReportingRestrictionSet reporting.restriction_set",
	"ddr.reporting.v1.RestrictionConfirmed reporting.restriction_confirmed",
	"ddr.reporting.v1.RestrictionProposed reporting.restriction_proposed",
}

func TestRegistry_DeclaredSubjectsAreThePublishedOnes(t *testing.T) {
	var got []string
	for _, k := range eventstore.Kinds() {
		got = append(got, k.Type+" "+k.QualifiedName())
	}
	slices.Sort(got)
	if !slices.Equal(got, publishedSubjects) {
		t.Errorf("declared event subjects changed:\n got %q\nwant %q", got, publishedSubjects)
	}
}

func TestRegistry_TypedHelpers(t *testing.T) {
	if got := eventstore.PatternOf[*intakev1.RequestReceived](); got != "ddr.req.*.intake.received" {
		t.Errorf("PatternOf = %q", got)
	}
	if got := eventstore.SubjectOf("r-1", &notificationv1.RequestCleared{}); got != "ddr.req.r-1.notification.cleared" {
		t.Errorf("SubjectOf = %q", got)
	}
	if _, err := eventstore.KindOfMessage(&intakev1.DataDisclosureRequest{}); !errors.Is(err, eventstore.ErrNotEvent) {
		t.Errorf("KindOfMessage(not an event) = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("PatternOf a non-event did not panic")
		}
	}()
	eventstore.PatternOf[*wrapperspb.StringValue]()
}

func TestNormalize_DerivesAndChecksServiceAndName(t *testing.T) {
	m, err := eventstore.ToMsg(context.Background(), eventstore.Event{RequestID: "r", Payload: &assessmentv1.CaseOpened{}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "ddr.req.r.assessment.opened" || m.Header.Get("ce-source") != "ddr/assessment" {
		t.Errorf("subject %q source %q", m.Subject, m.Header.Get("ce-source"))
	}
	for name, ev := range map[string]eventstore.Event{
		"other service":  {RequestID: "r", Service: "reporting", Name: "opened", Payload: &assessmentv1.CaseOpened{}},
		"other name":     {RequestID: "r", Service: "assessment", Name: "decided", Payload: &assessmentv1.CaseOpened{}},
		"foreign source": {RequestID: "r", Source: "ddr/reporting", Payload: &assessmentv1.CaseOpened{}},
		"not an event":   {RequestID: "r", Service: "intake", Name: "x", Payload: &intakev1.DataDisclosureRequest{}},
	} {
		if _, err := eventstore.ToMsg(context.Background(), ev); !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Errorf("%s: ToMsg = %v, want ErrInvalidEvent", name, err)
		}
	}
}

// forgedSubjects are the two forgeries of issue 14: a RequestReceived on a
// subject the reporting user may publish on, which would let its author
// read the request (sealed) or take it over (disposition_recorded).
func forgedSubjects(id string) []string {
	return []string{
		"ddr.req." + id + ".reporting.sealed",
		"ddr.req." + id + ".reporting.disposition_recorded",
	}
}

func TestFromMsg_RefusesForgedEvents(t *testing.T) {
	received := &intakev1.RequestReceived{RequestId: "r", GroupMember: "spiffe://ddr.test/group-member/mallory"}
	for _, subject := range forgedSubjects("r") {
		m, err := eventstore.ToMsg(context.Background(), eventstore.Event{RequestID: "r", Payload: received})
		if err != nil {
			t.Fatal(err)
		}
		m.Header.Set("ce-source", "ddr/reporting")
		_, err = eventstore.FromMsg(subject, m.Header, m.Data, 7)
		var de *eventstore.DecodeError
		if !errors.Is(err, eventstore.ErrForged) || !errors.As(err, &de) {
			t.Errorf("%s: FromMsg = %v, want a DecodeError matching ErrForged", subject, err)
		}
	}
	// The genuine subject with another service's source is forged too.
	m, _ := eventstore.ToMsg(context.Background(), eventstore.Event{RequestID: "r", Payload: received})
	m.Header.Set("ce-source", "ddr/reporting")
	if _, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, 7); !errors.Is(err, eventstore.ErrForged) {
		t.Errorf("foreign ce-source: FromMsg = %v, want ErrForged", err)
	}
	m.Header.Set("ce-source", "ddr/intake")
	if _, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, 7); err != nil {
		t.Errorf("genuine event: FromMsg = %v", err)
	}
}

func TestLoad_LeavesForgedEventsOutButKeepsLastSeq(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	ctx := context.Background()
	const id = "req-forged"
	seq, err := store.Append(ctx, id, 0, eventstore.Event{Payload: &intakev1.RequestReceived{RequestId: id, GroupMember: "owner"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, subject := range forgedSubjects(id) {
		seq = testkit.PublishForged(t, js, subject, &intakev1.RequestReceived{RequestId: id, GroupMember: "mallory"})
	}
	h, err := store.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != 1 || h.Events[0].Payload.(*intakev1.RequestReceived).GetGroupMember() != "owner" {
		t.Errorf("history = %+v, want only the genuine receipt", h.Events)
	}
	if h.LastSeq != seq {
		t.Errorf("LastSeq = %d, want %d (the forged events still take sequences)", h.LastSeq, seq)
	}
	// And the next append's concurrency check holds on that LastSeq.
	if _, err := store.Append(ctx, id, h.LastSeq, eventstore.Event{Payload: &reportingv1.RecordSealed{RequestId: id}}); err != nil {
		t.Errorf("append after forged events: %v", err)
	}
}
