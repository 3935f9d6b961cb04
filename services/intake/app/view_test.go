package app

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

var t0 = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// fold folds payloads, one an hour after receipt, into a view.
func fold(payloads ...proto.Message) *View {
	evs := []eventstore.Event{{Time: t0, Payload: &intakev1.RequestReceived{RequestId: "r", GroupMember: "m", Request: &intakev1.DataDisclosureRequest{ReceivedAt: timestamppb.New(t0)}}}}
	for i, p := range payloads {
		evs = append(evs, eventstore.Event{Time: t0.Add(time.Duration(i+1) * time.Hour), Payload: p})
	}
	for i := range evs {
		evs[i].Type = string(proto.MessageName(evs[i].Payload)) // as decoding sets it
	}
	v, _ := foldView(eventstore.History{Events: evs})
	return v
}

func decidedAs(k assessmentv1.DecisionKind) *assessmentv1.AssessmentDecided {
	return &assessmentv1.AssessmentDecided{Decision: &assessmentv1.Decision{Kind: k}}
}

func reopenedBy(t assessmentv1.ReopenTrigger) *assessmentv1.CaseReopened {
	return &assessmentv1.CaseReopened{Trigger: t}
}

// Issue 16 item 8: the member's stage after each of the other services'
// events, old ones (the golden corpus) included.
func TestView_MemberStageFromOtherServicesEvents(t *testing.T) {
	disclose := decidedAs(assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE)
	redirect := decidedAs(assessmentv1.DecisionKind_DECISION_KIND_REDIRECT_TO_CUSTOMER)
	tests := []struct {
		name     string
		events   []proto.Message
		stage    domain.Stage
		outcome  policy.Outcome
		question string
	}{
		{"opened", []proto.Message{&assessmentv1.CaseOpened{}}, domain.StageUnderReview, "", ""},
		{"information requested", []proto.Message{&assessmentv1.CaseOpened{}, &assessmentv1.InformationRequested{Question: "which?"}}, domain.StageInformationRequested, "", "which?"},
		{"old request-more-information decision", []proto.Message{&assessmentv1.CaseOpened{}, decidedAs(assessmentv1.DecisionKind_DECISION_KIND_REQUEST_MORE_INFORMATION)}, domain.StageInformationRequested, "", ""},
		{"information supplied, reopened", []proto.Message{&assessmentv1.CaseOpened{}, &assessmentv1.InformationRequested{Question: "which?"}, reopenedBy(assessmentv1.ReopenTrigger_REOPEN_TRIGGER_INFORMATION_SUPPLIED)}, domain.StageUnderReview, "", ""},
		{"decided: still in review to the member", []proto.Message{&assessmentv1.CaseOpened{}, disclose}, domain.StageUnderReview, "", ""},
		{"on hold", []proto.Message{&assessmentv1.CaseOpened{}, disclose, &notificationv1.HoldPlaced{}}, domain.StageOnHold, "", ""},
		{"hold lifted", []proto.Message{&assessmentv1.CaseOpened{}, disclose, &notificationv1.HoldPlaced{}, &notificationv1.HoldLifted{}}, domain.StageUnderReview, "", ""},
		{"cleared after a hold", []proto.Message{&assessmentv1.CaseOpened{}, disclose, &notificationv1.HoldPlaced{}, &notificationv1.RequestCleared{}}, domain.StageCleared, "", ""},
		{"disclosed", []proto.Message{&assessmentv1.CaseOpened{}, disclose, &notificationv1.RequestCleared{}, &reportingv1.DispositionRecorded{Disposition: &reportingv1.Disposition{Kind: &reportingv1.Disposition_Disclosure{Disclosure: &reportingv1.Disclosure{}}}}}, domain.StageClosed, policy.OutcomeDisclosed, ""},
		{"redirected", []proto.Message{&assessmentv1.CaseOpened{}, redirect, &notificationv1.RequestRedirected{}}, domain.StageClosed, policy.OutcomeRedirected, ""},
		{"redirect declined, reopened", []proto.Message{&assessmentv1.CaseOpened{}, redirect, reopenedBy(assessmentv1.ReopenTrigger_REOPEN_TRIGGER_REDIRECT_DECLINED)}, domain.StageUnderReview, "", ""},
		{"DPA objected while on hold, reopened", []proto.Message{&assessmentv1.CaseOpened{}, disclose, &notificationv1.HoldPlaced{}, reopenedBy(assessmentv1.ReopenTrigger_REOPEN_TRIGGER_DPA_OBJECTED)}, domain.StageUnderReview, "", ""},
		{"steps stopped on a reopening", []proto.Message{&assessmentv1.CaseOpened{}, disclose, &notificationv1.RequestCleared{}, &notificationv1.StepsStopped{Reason: notificationv1.StopReason_STOP_REASON_REOPENED}}, domain.StageUnderReview, "", ""},
		{"withdrawn, acknowledged", []proto.Message{&assessmentv1.CaseOpened{}, &intakev1.RequestWithdrawn{}, &notificationv1.StepsStopped{Reason: notificationv1.StopReason_STOP_REASON_WITHDRAWN}, &assessmentv1.WithdrawalAcknowledged{}}, domain.StageClosed, policy.OutcomeWithdrawn, ""},
		{"rejected", []proto.Message{&assessmentv1.CaseOpened{}, decidedAs(assessmentv1.DecisionKind_DECISION_KIND_REJECT)}, domain.StageClosed, policy.OutcomeRejected, ""},
		{"challenged, then recorded as such", []proto.Message{&assessmentv1.CaseOpened{}, decidedAs(assessmentv1.DecisionKind_DECISION_KIND_CHALLENGE), &reportingv1.DispositionRecorded{Disposition: &reportingv1.Disposition{Kind: &reportingv1.Disposition_Outcome{Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_CHALLENGED}}}}, domain.StageClosed, policy.OutcomeChallenged, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fold(tt.events...).Request()
			if r.Stage != tt.stage || r.Outcome != tt.outcome {
				t.Errorf("stage %s outcome %q, want %s %q", r.Stage, r.Outcome, tt.stage, tt.outcome)
			}
			switch q := r.Question; {
			case tt.stage != domain.StageInformationRequested && q != nil:
				t.Errorf("question %+v shown at stage %s", q, r.Stage)
			case tt.question != "" && (q == nil || q.Text != tt.question):
				t.Errorf("question %+v, want %q", q, tt.question)
			}
		})
	}
}

// Issue 14: a request recorded before sealing (the golden corpus) holds
// its personal data in clear, with no key to shred; once its erasure is
// recorded the view forgets those values too, on every fold alike, and
// shows its targets erased, while an amendment after the erasure (written
// in clear by an old intake) is forgotten as it folds.
func TestView_ErasureForgetsARequestRecordedBeforeSealing(t *testing.T) {
	received := &intakev1.RequestReceived{RequestId: "r", GroupMember: "m", Request: &intakev1.DataDisclosureRequest{
		ReceivedAt: timestamppb.New(t0),
		Targets:    []*intakev1.Target{{Ref: "t1", Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Value: "legacy@example.org"}},
		Notes:      "legacy notes",
		Emergency:  &intakev1.Emergency{Claimed: true, HarmDescribed: "legacy harm"},
	}}
	evs := []eventstore.Event{
		{Time: t0, Payload: received},
		{Time: t0.Add(time.Hour), Payload: &intakev1.RequestAmended{RequestId: "r", AmendmentId: "a1", Information: "legacy amendment", AmendTime: timestamppb.New(t0.Add(time.Hour))}},
		{Time: t0.Add(2 * time.Hour), Payload: &intakev1.TargetsErased{RequestId: "r", Reason: "retention", EraseTime: timestamppb.New(t0.Add(2 * time.Hour))}},
		{Time: t0.Add(3 * time.Hour), Payload: &intakev1.RequestAmended{RequestId: "r", AmendmentId: "a2", Information: "after the erasure", AmendTime: timestamppb.New(t0.Add(3 * time.Hour))}},
	}
	for i := range evs {
		evs[i].Type = string(proto.MessageName(evs[i].Payload))
	}
	v, _ := foldView(eventstore.History{Events: evs})
	r := v.Request()
	if r.Content.Notes != "" || r.Content.Emergency.HarmDescribed != "" || !r.Content.Emergency.Claimed {
		t.Errorf("after the erasure the demand reads %+v", r.Content)
	}
	if len(r.Targets) != 1 || r.Targets[0].Value != "" || !r.Targets[0].Erased || r.Targets[0].Ref != "t1" {
		t.Errorf("after the erasure the targets read %+v", r.Targets)
	}
	if len(r.Amendments) != 2 || r.Amendments[0].Amendment.Information != "" || r.Amendments[1].Amendment.Information != "" || r.Amendments[1].ID != "a2" {
		t.Errorf("after the erasure the amendments read %+v", r.Amendments)
	}
}
