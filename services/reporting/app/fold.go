package app

import (
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// Event names (the <service>.<event> tokens of subjects) reporting folds.
// Dispatch is on the subject, the cross-service contract, so an event whose
// payload type this binary does not know still counts where its name is
// enough (withdrawn, redirected, a DPA's answer recorded). The names come
// from the declarations beside the event messages (eventstore.Kind).
var (
	evReceived       = eventstore.Kind[*intakev1.RequestReceived]().QualifiedName()
	evWithdrawn      = eventstore.Kind[*intakev1.RequestWithdrawn]().QualifiedName()
	evDecided        = eventstore.Kind[*assessmentv1.AssessmentDecided]().QualifiedName()
	evCleared        = eventstore.Kind[*notificationv1.RequestCleared]().QualifiedName()
	evRedirected     = eventstore.Kind[*notificationv1.RequestRedirected]().QualifiedName()
	evNoticeSent     = eventstore.Kind[*notificationv1.NoticeDelivered]().QualifiedName()
	evDPAConsulted   = eventstore.Kind[*notificationv1.DpaConsulted]().QualifiedName()
	evSealed         = eventstore.Kind[*reportingv1.RecordSealed]().QualifiedName()
	evDisposition    = eventstore.Kind[*reportingv1.DispositionRecorded]().QualifiedName()
	evRestrictionSet = eventstore.Kind[*reportingv1.ReportingRestrictionSet]().QualifiedName()
	evAdequacyLost   = eventstore.Kind[*notificationv1.AdequacyLost]().QualifiedName()
	evRestrictionPro = eventstore.Kind[*reportingv1.RestrictionProposed]().QualifiedName()
	evRestrictionCon = eventstore.Kind[*reportingv1.RestrictionConfirmed]().QualifiedName()

	// Issue 16's lifecycle events.
	evReopened        = eventstore.Kind[*assessmentv1.CaseReopened]().QualifiedName()
	evInfoRequested   = eventstore.Kind[*assessmentv1.InformationRequested]().QualifiedName()
	evWithdrawalAck   = eventstore.Kind[*assessmentv1.WithdrawalAcknowledged]().QualifiedName()
	evLinked          = eventstore.Kind[*assessmentv1.CaseLinked]().QualifiedName()
	evTargetsRevealed = eventstore.Kind[*intakev1.TargetsRevealed]().QualifiedName()
	evStepsStopped    = eventstore.Kind[*notificationv1.StepsStopped]().QualifiedName()
	evDPAObjected     = eventstore.Kind[*notificationv1.DpaObjected]().QualifiedName()
)

// needsPayload reports whether folding the event reads its payload; the
// others are folded on their name alone and need not be decoded.
func needsPayload(name string) bool {
	switch name {
	case evReceived, evDecided, evCleared, evNoticeSent, evDisposition, evRestrictionSet, evRestrictionPro, evRestrictionCon,
		evReopened, evLinked:
		return true
	}
	return false
}

// apply folds one event of a request into f. name is "<service>.<event>";
// payload may be nil when it could not be decoded. Unknown events change
// nothing: other services add event kinds over time.
func apply(f *domain.RequestFold, name string, at time.Time, payload proto.Message) {
	applyClocks(f, payload) // issue 18 (clocks.go)
	switch name {
	case evReceived:
		if p, ok := payload.(*intakev1.RequestReceived); ok {
			f.Receive(receivedFacts(p, at))
		}
	case evWithdrawn:
		f.Withdraw()
	case evDecided:
		if p, ok := payload.(*assessmentv1.AssessmentDecided); ok {
			f.DecideAs(p.GetDecision().GetDecisionId(), decisionKind(p.GetDecision().GetKind()), approvedScope(p))
		}
	case evCleared:
		t := at
		p, ok := payload.(*notificationv1.RequestCleared)
		if ok && p.GetClearTime() != nil {
			t = p.GetClearTime().AsTime()
		}
		// A clearance recorded before adequacy was judged with it says
		// nothing about adequacy: it is not judged again at the disclosure
		// date (the domain judges again only what was found adequate).
		// A clearance of a decision a reopening superseded clears nothing.
		f.ClearFor(p.GetDecisionId(), t, ok && p.GetAdequacyJudged(), p.GetAdequate())
	case evReopened:
		// Without a readable payload the reopening still voids the
		// decision in effect: refusing a disclosure is the safe side.
		f.Reopen(payloadAs[*assessmentv1.CaseReopened](payload).GetSupersededDecisionId())
	case evStepsStopped:
		f.StopSteps()
	case evWithdrawalAck:
		f.AcknowledgeWithdrawal()
	case evLinked:
		if p, ok := payload.(*assessmentv1.CaseLinked); ok {
			f.Link(p.GetRequestId(), p.GetLinkedRequestId())
		}
	case evSealed:
		f.SealSeen()
	case evAdequacyLost:
		f.RevokeClearance()
	case evRedirected:
		f.Redirect()
	case evNoticeSent:
		// One event kind carries both the customer notice and the DPA
		// packet; the step says which. A payload this binary cannot read
		// counts as neither: the report never claims a notice it cannot see.
		if p, ok := payload.(*notificationv1.NoticeDelivered); ok && !p.GetDelivery().GetFailed() {
			switch p.GetDelivery().GetStep() {
			case notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER:
				f.NotifyCustomer()
			case notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA, notificationv1.StepKind_STEP_KIND_NOTIFY_DPA:
				// Since issue 15 every disclosing plan notifies the competent
				// DPAs (2.2) on its own step; the 4.2.1 packet keeps counting
				// for the events written before.
				f.ConsultDPA()
			}
		}
	case evDPAConsulted:
		f.ConsultDPA()
	case evDisposition:
		if p, ok := payload.(*reportingv1.DispositionRecorded); ok {
			if d, ok := DispositionFromProto(p.GetDisposition()); ok {
				f.Dispose(d)
			}
		}
	case evRestrictionSet:
		// One person's restriction (before issue 15): lifting takes
		// effect, anything else stays a proposal no one can confirm.
		if p, ok := payload.(*reportingv1.ReportingRestrictionSet); ok {
			f.Restrict(RestrictionFromProto(p.GetRestriction()))
		}
	case evRestrictionPro:
		if p, ok := payload.(*reportingv1.RestrictionProposed); ok {
			f.ProposeRestriction(RestrictionProposalFromProto(p))
		}
	case evRestrictionCon:
		if p, ok := payload.(*reportingv1.RestrictionConfirmed); ok {
			f.ConfirmRestriction(p.GetConfirmedBy(), protoconv.Time(p.GetConfirmTime()))
		}
	}
}

// payloadAs is payload as a T, or T's nil (whose getters return zero
// values) when it is not one.
func payloadAs[T proto.Message](payload proto.Message) T {
	p, _ := payload.(T)
	return p
}

// receivedFacts takes from a receipt what the report counts, and nothing
// that identifies anyone: targets are counted, never copied.
func receivedFacts(p *intakev1.RequestReceived, at time.Time) domain.Received {
	r := p.GetRequest()
	t := at
	switch {
	case r.GetReceivedAt() != nil:
		t = r.GetReceivedAt().AsTime()
	case p.GetSubmitTime() != nil:
		t = p.GetSubmitTime().AsTime()
	}
	lp := r.GetLegalProcess().GetType()
	return domain.Received{
		At:                t.UTC(),
		LegalProcess:      legalProcessCode(lp),
		Country:           countryCode(r.GetAuthority().GetCountry()),
		AccountsSpecified: len(r.GetTargets()),
		Emergency:         r.GetEmergency().GetClaimed() || lp == intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_EMERGENCY_REQUEST,
		UnderGag:          r.GetGag().GetPresent(),
	}
}

// legalProcessCode is the stable lowercase code of a legal process type:
// "subpoena", "national_security", "none" when there was none.
func legalProcessCode(t intakev1.LegalProcessType) string {
	if t == intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_UNSPECIFIED {
		return "none"
	}
	if _, known := intakev1.LegalProcessType_name[int32(t)]; !known {
		return "other"
	}
	return strings.ToLower(strings.TrimPrefix(t.String(), "LEGAL_PROCESS_TYPE_"))
}

// countryCode is the ISO code, or policy.CountryUnknown ("ZZ") for every
// spelling of unknown ever recorded (intake's events say "UNKNOWN").
func countryCode(c string) string {
	return string(policy.ParseCountry(c))
}

// decisionKind is assessment's decision as the report counts it; a kind
// this binary does not know counts as none ([domain.DecisionNone]).
func decisionKind(k assessmentv1.DecisionKind) policy.DecisionKind {
	if d := policy.DecisionKind(protoconv.EnumName(k, "DECISION_KIND_")); d.Valid() {
		return d
	}
	return domain.DecisionNone
}

// approvedScope is what an effective decision approved: the scope it
// discloses as the decision's requirements carry it (the request's own
// scope when it was not narrowed), and who proposed it. A decision recorded
// without that scope approves a narrowed decision's listed targets, and
// nothing else: no recorded scope is no scope, never "unlimited".
func approvedScope(p *assessmentv1.AssessmentDecided) domain.ApprovedScope {
	out := domain.ApprovedScope{Proposer: p.GetDecision().GetDecidedBy()}
	if p.GetDecision().GetKind() != assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE {
		return out
	}
	s := p.GetRequirements().GetScope()
	if s == nil {
		if d := p.GetDecision().GetScope(); !d.GetAll() {
			s = d
		}
	}
	out.Accounts = max(int(s.GetTargetCount()), len(s.GetTargetRefs()))
	out.Categories = approvedCategories(s.GetDataCategories())
	return out
}

// categoryMap is which of reporting's data categories each of intake's
// approves. Traffic data is the sign-in logs and metadata; content
// includes uploaded files. "Other" approves none of them: what it covers
// is not known, so a disclosure of it is refused rather than guessed
// (2.1: nothing beyond the decided scope).
var categoryMap = map[intakev1.DataCategory][]domain.DataCategory{
	intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER: {domain.CategorySubscriber},
	intakev1.DataCategory_DATA_CATEGORY_TRAFFIC:    {domain.CategoryAccessLogs, domain.CategoryMetadata},
	intakev1.DataCategory_DATA_CATEGORY_CONTENT:    {domain.CategoryContent, domain.CategoryAttachments},
}

func approvedCategories(cs []intakev1.DataCategory) []domain.DataCategory {
	var out []domain.DataCategory
	for _, c := range cs {
		for _, d := range categoryMap[c] {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}
