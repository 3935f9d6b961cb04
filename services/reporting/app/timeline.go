package app

import (
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// The record's timeline (issue 16): the course of a request as staff read
// it beside the entries, taken from the payloads as stored. Reporting
// cannot open sealed fields and never copies a free-text field: a
// question, a link's or a reveal's reason are sealed as the company's
// record (RECORD) and read where the case is shown; the timeline says
// only that they are there.

// inTimeline reports whether the event is a step of the timeline, whose
// payload LoadRecord then decodes.
func inTimeline(name string) bool {
	switch name {
	case evDecided, evReopened, evInfoRequested, evWithdrawn, evWithdrawalAck, evLinked,
		evTargetsRevealed, evStepsStopped, evDPAObjected, evCleared, evDisposition:
		return true
	}
	return false
}

// timelineFact reads the step of event name (stored at seq, at, by actor);
// ok is false for an event that is no step, or whose payload this binary
// could not decode where the step needs it.
func timelineFact(name string, seq uint64, at time.Time, actor string, payload proto.Message) (domain.Fact, bool) {
	f := domain.Fact{Seq: seq, At: at}
	when := func(ts *timestamppb.Timestamp) {
		if ts != nil {
			f.At = ts.AsTime().UTC()
		}
	}
	switch p := payload.(type) {
	case *assessmentv1.AssessmentDecided:
		d := p.GetDecision()
		f.Kind, f.DecisionID, f.By = domain.FactDecided, d.GetDecisionId(), d.GetDecidedBy()
		f.Detail = protoconv.EnumName(d.GetKind(), "DECISION_KIND_")
		when(d.GetDecideTime())
	case *assessmentv1.CaseReopened:
		f.Kind, f.DecisionID, f.By, f.Reason = domain.FactReopened, p.GetSupersededDecisionId(), p.GetReopenedBy(), p.GetReason()
		f.Trigger = protoconv.EnumName(p.GetTrigger(), "REOPEN_TRIGGER_")
		when(p.GetReopenTime())
	case *assessmentv1.InformationRequested:
		f.Kind, f.By, f.SealedText = domain.FactInformationRequested, p.GetAskedBy(), true
		when(p.GetAskTime())
	case *intakev1.RequestWithdrawn:
		// The authority's reason is about the people concerned (SUBJECT):
		// never shown here. Who: the staff member who recorded it, or
		// whoever reported it (the group member).
		f.Kind, f.By = domain.FactWithdrawn, p.GetRecordedBy()
		if f.By == "" {
			f.By = actor
		}
		when(p.GetWithdrawTime())
	case *assessmentv1.WithdrawalAcknowledged:
		f.Kind, f.By, f.AfterDisclosure = domain.FactWithdrawalAcknowledged, p.GetAcknowledgedBy(), p.GetAfterDisclosure()
		when(p.GetAcknowledgeTime())
	case *assessmentv1.CaseLinked:
		f.Kind, f.By, f.LinkedRequestID, f.SealedText = domain.FactLinked, p.GetLinkedBy(), p.GetLinkedRequestId(), true
		when(p.GetLinkTime())
	case *intakev1.TargetsRevealed:
		f.Kind, f.By, f.Roles, f.SealedText = domain.FactTargetsRevealed, p.GetRevealedBy(), p.GetRoles(), true
		when(p.GetRevealTime())
	case *notificationv1.StepsStopped:
		f.Kind, f.Trigger = domain.FactStepsStopped, protoconv.EnumName(p.GetReason(), "STOP_REASON_")
		for _, s := range p.GetSteps() {
			f.Steps = append(f.Steps, protoconv.EnumName(s, "STEP_KIND_"))
		}
		when(p.GetStopTime())
	case *notificationv1.DpaObjected:
		f.Kind, f.DecisionID, f.DPA = domain.FactDPAObjected, p.GetDecisionId(), p.GetDpa()
		when(p.GetConfirmTime())
	case *notificationv1.RequestCleared:
		f.Kind, f.DecisionID = domain.FactCleared, p.GetDecisionId()
		when(p.GetClearTime())
	case *reportingv1.DispositionRecorded:
		d, ok := DispositionFromProto(p.GetDisposition())
		if !ok {
			return domain.Fact{}, false
		}
		f.Kind, f.By, f.Detail = domain.FactDisposition, p.GetDisposition().GetRecordedBy(), d.ReportOutcome().String()
		when(p.GetDisposition().GetRecordTime())
	default:
		// A withdrawal is a step even when its payload is unreadable: its
		// name says it all.
		if name != evWithdrawn {
			return domain.Fact{}, false
		}
		f.Kind, f.By = domain.FactWithdrawn, actor
	}
	return f, true
}
