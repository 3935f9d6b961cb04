package app

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// CaseState is a request's case folded from its history: the domain case,
// which carries the rules, plus what the wire view needs and the domain
// does not keep (decision ids, approval times, the flags as sent).
type CaseState struct {
	Case *domain.Case
	// Version is the stream sequence of the request's last event, of any
	// service: the optimistic-concurrency point of the next append.
	Version uint64

	opened   *assessmentv1.CaseOpened
	decision *assessmentv1.Decision
}

// NewCaseState returns the state of a request with no events.
func NewCaseState() *CaseState { return &CaseState{Case: &domain.Case{}} }

// Fold replays a request's history.
func Fold(h eventstore.History) (*CaseState, error) {
	s := NewCaseState()
	for _, ev := range h.Events {
		if err := s.Apply(ev); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Apply folds one event of the request in. Events of other services that do
// not concern the case only move the version.
func (s *CaseState) Apply(ev eventstore.Event) error {
	s.Version = max(s.Version, ev.Sequence)
	evs, err := toDomain(ev, s.Case)
	if err != nil {
		return err
	}
	switch p := ev.Payload.(type) {
	case *assessmentv1.CaseOpened:
		s.opened = p
	case *assessmentv1.DecisionProposed:
		s.decision = proto.CloneOf(p.GetDecision())
	case *assessmentv1.DecisionApproved:
		if s.decision.GetDecisionId() == p.GetDecisionId() {
			s.decision.Approvals = append(s.decision.Approvals, p.GetApproval())
		}
	case *assessmentv1.DecisionRejected:
		s.decision = nil
	case *assessmentv1.AssessmentDecided:
		s.decision = p.GetDecision()
	}
	for _, e := range evs {
		s.Case.Apply(e)
	}
	if s.Case.Status() == domain.StatusWithdrawn {
		s.decision = nil
	}
	return nil
}

// PendingDecisionID is the id of the disclosure awaiting approval, or "".
func (s *CaseState) PendingDecisionID() string {
	if s.Case.Status() != domain.StatusDecisionPendingApproval {
		return ""
	}
	return s.decision.GetDecisionId()
}

// toDomain maps a stored event onto the domain events it stands for. A
// proto event may stand for several (FactorsRecorded holds factors and the
// rights weighing); events the case does not fold give none. c is the case
// so far: a decision's notification requirements are rebuilt from its facts
// and rules, exactly as the decision computed them.
func toDomain(ev eventstore.Event, c *domain.Case) ([]domain.Event, error) {
	switch p := ev.Payload.(type) {
	case *intakev1.RequestWithdrawn:
		at := tm(p.GetWithdrawTime())
		if at.IsZero() {
			at = ev.Time
		}
		return []domain.Event{domain.RequestWithdrawn{Meta: domain.Meta{By: ev.Actor, At: at}}}, nil
	case *assessmentv1.CaseOpened:
		if p.GetFacts() == nil || p.GetRules() == nil {
			return nil, fmt.Errorf("CaseOpened at sequence %d lacks its facts or rules", ev.Sequence)
		}
		f := factsToDomain(p.GetRequestId(), p.GetFacts())
		return []domain.Event{domain.CaseOpened{
			Meta:      domain.Meta{By: ev.Actor, At: tm(p.GetOpenTime())},
			RequestID: p.GetRequestId(),
			Facts:     f,
			Flags:     flagsToDomain(p.GetFlags()),
			Rules:     rulesToDomain(p.GetRules()),
			ReviewDue: tm(p.GetReviewDueTime()),
		}}, nil
	case *assessmentv1.CaseClaimed:
		return []domain.Event{domain.Assigned{Meta: domain.Meta{By: ev.Actor, At: tm(p.GetClaimTime())}, Assignee: p.GetAssignee()}}, nil
	case *assessmentv1.FactorsRecorded:
		var out []domain.Event
		for _, f := range p.GetFactors() {
			out = append(out, domain.FactorRecorded{
				Meta:       domain.Meta{By: f.GetReviewer(), At: tm(f.GetRecordTime())},
				Factor:     factorToDomain(f.GetFactor()),
				Assessment: f.GetAssessment(),
			})
		}
		if p.GetRightsAssessment() != "" {
			out = append(out, domain.RightsWeighed{Meta: domain.Meta{By: ev.Actor, At: ev.Time}, Text: p.GetRightsAssessment()})
		}
		return out, nil
	case *assessmentv1.CounselConsulted:
		c := p.GetConsultation()
		return []domain.Event{domain.CounselConsulted{
			Meta:        domain.Meta{By: c.GetRecordedBy(), At: ev.Time},
			Kind:        domain.CounselKind(fromEnum(c.GetKind(), "COUNSEL_KIND_")),
			Counsel:     c.GetCounsel(),
			ConsultedAt: tm(c.GetConsultTime()),
			Summary:     c.GetSummary(),
		}}, nil
	case *assessmentv1.ChallengeConsidered:
		c := p.GetConsideration()
		return []domain.Event{domain.ChallengeConsidered{
			Meta:      domain.Meta{By: c.GetRecordedBy(), At: tm(c.GetRecordTime())},
			Warranted: c.GetWarranted(),
			Reasoning: c.GetReasoning(),
		}}, nil
	case *assessmentv1.DecisionProposed:
		d := p.GetDecision()
		return []domain.Event{domain.DecisionProposed{
			Meta:          domain.Meta{By: d.GetDecidedBy(), At: tm(d.GetDecideTime())},
			Decision:      decisionToDomain(d),
			PolicyVersion: d.GetPolicyVersion(),
		}}, nil
	case *assessmentv1.DecisionApproved:
		a := p.GetApproval()
		return []domain.Event{domain.DecisionApproved{Meta: domain.Meta{By: a.GetApprover(), At: tm(a.GetApproveTime())}}}, nil
	case *assessmentv1.DecisionRejected:
		return []domain.Event{domain.DecisionRejected{Meta: domain.Meta{By: p.GetRejectedBy(), At: tm(p.GetRejectTime())}, Reason: p.GetReason()}}, nil
	case *assessmentv1.AssessmentDecided:
		d := p.GetDecision()
		dd := decisionToDomain(d)
		var approvers []string
		for _, a := range d.GetApprovals() {
			approvers = append(approvers, a.GetApprover())
		}
		return []domain.Event{domain.CaseDecided{
			Meta:          domain.Meta{By: ev.Actor, At: ev.Time},
			Decision:      dd,
			DecidedBy:     d.GetDecidedBy(),
			ApprovedBy:    approvers,
			PolicyVersion: d.GetPolicyVersion(),
			Notification:  domain.RequirementsFor(c.Facts(), c.Rules(), dd),
		}}, nil
	case *assessmentv1.CaseOverdue:
		return []domain.Event{domain.ReviewOverdue{Meta: domain.Meta{By: ev.Actor, At: tm(p.GetDetectTime())}, Due: tm(p.GetReviewDueTime())}}, nil
	}
	return nil, nil
}

var statuses = map[domain.Status]assessmentv1.CaseStatus{
	domain.StatusOpen:                    assessmentv1.CaseStatus_CASE_STATUS_OPEN,
	domain.StatusInReview:                assessmentv1.CaseStatus_CASE_STATUS_IN_REVIEW,
	domain.StatusDecisionPendingApproval: assessmentv1.CaseStatus_CASE_STATUS_PENDING_APPROVAL,
	domain.StatusDecided:                 assessmentv1.CaseStatus_CASE_STATUS_DECIDED,
	domain.StatusWithdrawn:               assessmentv1.CaseStatus_CASE_STATUS_WITHDRAWN,
}

// Proto renders the case as the Privacy Team sees it at now.
func (s *CaseState) Proto(now time.Time) *assessmentv1.Case {
	c := s.Case
	f := c.Facts()
	out := &assessmentv1.Case{
		RequestId:        c.RequestID(),
		Status:           statuses[c.Status()],
		Flags:            s.opened.GetFlags(),
		Assignee:         c.Assignee(),
		Review:           reviewToProto(c.Review()),
		Decision:         s.decision,
		PolicyVersion:    c.PolicyVersion(),
		OpenTime:         ts(c.OpenedAt()),
		ReviewDueTime:    ts(c.ReviewDue()),
		Overdue:          c.OverdueRecorded() || c.Overdue(now),
		Emergency:        f.Urgent(),
		DeadlineTime:     ts(f.Deadline),
		ReceiveTime:      ts(f.ReceivedAt),
		AuthorityKind:    s.opened.GetFacts().GetAuthorityKind(),
		AuthorityCountry: f.AuthorityCountry,
		Version:          s.Version,
		Facts:            s.opened.GetFacts(),
		Rules:            s.opened.GetRules(),
		WithdrawTime:     ts(c.WithdrawnAt()),
	}
	if c.Status() == domain.StatusDecided {
		out.Overdue = c.OverdueRecorded()
	}
	return out
}

func reviewToProto(r domain.Review) *assessmentv1.Review {
	out := &assessmentv1.Review{}
	for _, f := range domain.AllFactors() {
		if a, ok := r.Factors[f]; ok {
			out.Factors = append(out.Factors, &assessmentv1.FactorAssessment{
				Factor: factorToProto(f), Assessment: a.Text, Reviewer: a.By, RecordTime: ts(a.At),
			})
		}
	}
	if r.RightsWeighed != nil {
		out.RightsAssessment = r.RightsWeighed.Text
	}
	for _, c := range r.Counsel {
		out.Consultations = append(out.Consultations, &assessmentv1.CounselConsultation{
			Kind:        toEnum[assessmentv1.CounselKind](string(c.Kind), "COUNSEL_KIND_", assessmentv1.CounselKind_value),
			Counsel:     c.Counsel,
			ConsultTime: ts(c.ConsultedAt),
			Summary:     c.Summary,
			RecordedBy:  c.RecordedBy,
		})
	}
	if ch := r.Challenge; ch != nil {
		out.Challenge = &assessmentv1.ChallengeConsideration{
			Considered: true, Warranted: ch.Warranted, Reasoning: ch.Reasoning, RecordedBy: ch.By, RecordTime: ts(ch.At),
		}
	}
	return out
}

// approvalsOf lists the approvals of the pending decision plus the one being
// given now.
func (s *CaseState) approvalsOf(last string, at time.Time) []*assessmentv1.Approval {
	out := slices.Clone(s.decision.GetApprovals())
	return append(out, &assessmentv1.Approval{Approver: last, ApproveTime: ts(at)})
}
