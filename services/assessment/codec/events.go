package codec

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// Encoder maps the domain events of one command onto the events to append.
// It carries what the wire form needs and the domain events do not: the
// case's facts and rules, the pending decision as recorded, and the call's
// id source.
type Encoder struct {
	RequestID string
	Facts     domain.RequestFacts
	Rules     domain.Rules
	// Pending is the disclosure awaiting approval as the record holds it
	// (its id, decide time and approvals so far); nil when none.
	Pending *assessmentv1.Decision
	// AdequacyReason explains CaseOpened's adequacy judgement (4.2.1).
	AdequacyReason string
	// ID gives the call's deterministic event ids (command.Call.EventID).
	ID func(parts ...string) string
	// Now is the time of the call.
	Now time.Time
}

// Encode maps evs. Factor records and the rights weighing of one call
// become one FactorsRecorded. The approval that completes four eyes is not
// written as a DecisionApproved of its own: it is in AssessmentDecided's
// approvals, so the decision takes effect in a single append and no
// conflict can leave a case approved but not decided. Ids derived from the
// decision or the request (not the call) make a second replica's or a
// retried caller's write of the same fact a duplicate the stream drops.
func (e Encoder) Encode(evs []domain.Event) ([]eventstore.Event, error) {
	rid := e.RequestID
	var out []eventstore.Event
	add := func(id, actor string, p proto.Message) {
		out = append(out, eventstore.Event{ID: id, RequestID: rid, Time: e.Now, Actor: actor, Payload: p})
	}
	var factors *assessmentv1.FactorsRecorded
	var factorsBy string
	for i, ev := range evs {
		switch ev := ev.(type) {
		case domain.CaseOpened:
			add(e.ID("assessment.opened"), ev.By, &assessmentv1.CaseOpened{
				RequestId:     ev.RequestID,
				Flags:         flagsToProto(ev.Flags),
				PolicyVersion: ev.Rules.PolicyVersion,
				OpenTime:      protoconv.Timestamp(ev.At),
				ReviewDueTime: protoconv.Timestamp(ev.ReviewDue),
				Requirements:  openingRequirements(ev.Facts, ev.Rules),
				Facts:         factsToProto(ev.Facts, e.AdequacyReason),
				Rules:         rulesToProto(ev.Rules),
			})
		case domain.Assigned:
			add(e.ID("assessment.claimed"), ev.By, &assessmentv1.CaseClaimed{RequestId: rid, Assignee: ev.Assignee, ClaimTime: protoconv.Timestamp(ev.At)})
		case domain.FactorRecorded:
			if factors == nil {
				factors, factorsBy = &assessmentv1.FactorsRecorded{RequestId: rid}, ev.By
			}
			factors.Factors = append(factors.Factors, &assessmentv1.FactorAssessment{
				Factor: FactorToProto(ev.Factor), Assessment: ev.Assessment, Reviewer: ev.By, RecordTime: protoconv.Timestamp(ev.At),
			})
		case domain.RightsWeighed:
			if factors == nil {
				factors, factorsBy = &assessmentv1.FactorsRecorded{RequestId: rid}, ev.By
			}
			factors.RightsAssessment = ev.Text
		case domain.CounselConsulted:
			add(e.ID("assessment.counsel_consulted"), ev.By, &assessmentv1.CounselConsulted{RequestId: rid, Consultation: &assessmentv1.CounselConsultation{
				Kind:        CounselKinds.Proto(ev.Kind),
				Counsel:     ev.Counsel,
				ConsultTime: protoconv.Timestamp(ev.ConsultedAt),
				Summary:     ev.Summary,
				RecordedBy:  ev.By,
			}})
		case domain.ChallengeConsidered:
			add(e.ID("assessment.challenge_considered"), ev.By, &assessmentv1.ChallengeConsidered{RequestId: rid, Consideration: &assessmentv1.ChallengeConsideration{
				Considered: true, Warranted: ev.Warranted, Reasoning: ev.Reasoning, RecordedBy: ev.By, RecordTime: protoconv.Timestamp(ev.At),
			}})
		case domain.DecisionProposed:
			d := decisionToProto(ev.Decision, e.Facts)
			d.DecidedBy, d.DecideTime, d.PolicyVersion = ev.By, protoconv.Timestamp(ev.At), ev.PolicyVersion
			d.Status = assessmentv1.DecisionStatus_DECISION_STATUS_PENDING_APPROVAL
			d.ApprovalsRequired = int32(e.Rules.RequiredApprovals)
			add(eventstore.DerivedID(ev.Decision.ID, "assessment.decision_proposed"), ev.By,
				&assessmentv1.DecisionProposed{RequestId: rid, Decision: d})
		case domain.DecisionApproved:
			if i+1 < len(evs) {
				if _, last := evs[i+1].(domain.CaseDecided); last {
					continue
				}
			}
			id := e.Pending.GetDecisionId()
			add(eventstore.DerivedID(id, "assessment.decision_approved", ev.By), ev.By, &assessmentv1.DecisionApproved{
				RequestId: rid, DecisionId: id, Approval: &assessmentv1.Approval{Approver: ev.By, ApproveTime: protoconv.Timestamp(ev.At), Roles: RolesToProto(ev.Roles)},
			})
		case domain.ImminentRiskJustified:
			add(e.ID("assessment.imminent_risk_justified"), ev.By, &assessmentv1.ImminentRiskJustified{
				RequestId: rid, Justification: ev.Text, JustifiedBy: ev.By, JustifyTime: protoconv.Timestamp(ev.At),
			})
		case domain.ChallengeOutcomeProposed:
			add(e.ID("assessment.challenge_outcome_proposed"), ev.By, &assessmentv1.ChallengeOutcomeProposed{
				RequestId: rid, Outcome: ChallengeOutcomes.Proto(ev.Outcome), Lift: protoconv.Lift(ev.Lift),
			})
		case domain.ChallengeOutcomeConfirmed:
			add(e.ID("assessment.challenge_outcome_confirmed"), ev.By, &assessmentv1.ChallengeOutcomeConfirmed{
				RequestId: rid, ConfirmedBy: ev.By, Roles: RolesToProto(ev.Roles), ConfirmTime: protoconv.Timestamp(ev.At),
			})
		case domain.DecisionRejected:
			add(e.ID("assessment.decision_rejected"), ev.By, &assessmentv1.DecisionRejected{
				RequestId: rid, DecisionId: e.Pending.GetDecisionId(), Reason: ev.Reason, RejectedBy: ev.By, RejectTime: protoconv.Timestamp(ev.At),
			})
		case domain.CaseDecided:
			d := decisionToProto(ev.Decision, e.Facts)
			d.DecidedBy, d.PolicyVersion = ev.DecidedBy, ev.PolicyVersion
			d.Status = assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE
			d.DecideTime = protoconv.Timestamp(ev.At)
			if ev.Decision.Kind == policy.DecisionDisclose {
				d.DecideTime = e.Pending.GetDecideTime()
				d.ApprovalsRequired = int32(e.Rules.RequiredApprovals)
				d.Approvals = append(slices.Clone(e.Pending.GetApprovals()),
					&assessmentv1.Approval{Approver: ev.By, ApproveTime: protoconv.Timestamp(ev.At), Roles: lastApprovalRoles(evs[:i])})
			}
			req := requirementsToProto(ev.Notification, e.Facts.ReceivedAt)
			req.DecisionProposer = ev.DecidedBy
			add(eventstore.DerivedID(ev.Decision.ID, "assessment.decided"), ev.By, &assessmentv1.AssessmentDecided{
				RequestId: rid, Decision: d, Requirements: req,
			})
		case domain.ReviewOverdue:
			// One per due time: a reopened case has a new review deadline
			// and is overdue again, once, if it passes.
			add(eventstore.DerivedID(rid, "assessment.overdue", ev.Due.UTC().Format(time.RFC3339Nano)), "", &assessmentv1.CaseOverdue{
				RequestId: rid, ReviewDueTime: protoconv.Timestamp(ev.Due), DetectTime: protoconv.Timestamp(ev.At),
			})
		default:
			if x, ok := e.encodeVerification(ev); ok { // issue 18 (verification.go)
				out = append(out, x)
				continue
			}
			if id, p, ok := e.encodeClock(ev); ok { // issue 18's clocks (clocks.go)
				add(id, ev.Actor(), p)
				continue
			}
			prev := ""
			if len(out) > 0 {
				prev = out[len(out)-1].ID
			}
			p, id := e.encodeLifecycle(ev, prev)
			if p == nil {
				return nil, fmt.Errorf("assessment: no wire form for domain event %s", ev.EventName())
			}
			add(id, ev.Actor(), p)
		}
	}
	if factors != nil {
		add(e.ID("assessment.factors_recorded"), factorsBy, factors)
	}
	return out, nil
}

// lastApprovalRoles are the roles of the approval that completes four eyes:
// the DecisionApproved just before CaseDecided, which is written inside
// AssessmentDecided's approvals rather than as an event of its own.
func lastApprovalRoles(evs []domain.Event) []string {
	if len(evs) == 0 {
		return nil
	}
	if a, ok := evs[len(evs)-1].(domain.DecisionApproved); ok {
		return RolesToProto(a.Roles)
	}
	return nil
}

// OwnTime is when a stored event says its fact happened (ts, the event's
// own time field), else when the stream stored it: an event written before
// the field existed, or by a writer that left it unset, is dated by the
// stream.
func OwnTime(ts *timestamppb.Timestamp, ev eventstore.Event) time.Time {
	if t := protoconv.Time(ts); !t.IsZero() {
		return t
	}
	return ev.Time
}

// meta is the domain metadata of a stored event: by whom, and its
// [OwnTime].
func meta(ev eventstore.Event, by string, ts *timestamppb.Timestamp) domain.Meta {
	return domain.Meta{By: by, At: OwnTime(ts, ev)}
}

// Decode maps a stored event onto the domain events it stands for. A proto
// event may stand for several (FactorsRecorded holds factors and the rights
// weighing); events the case does not fold give none. facts and rules are
// the case's so far: a decision's notification requirements are rebuilt
// from them, exactly as the decision computed them.
func Decode(ev eventstore.Event, facts domain.RequestFacts, rules domain.Rules) ([]domain.Event, error) {
	switch p := ev.Payload.(type) {
	case *intakev1.RequestWithdrawn:
		return []domain.Event{domain.RequestWithdrawn{Meta: meta(ev, ev.Actor, p.GetWithdrawTime())}}, nil
	case *intakev1.TargetsErased:
		return []domain.Event{domain.TargetsErased{Meta: meta(ev, ev.Actor, p.GetEraseTime())}}, nil
	case *assessmentv1.CaseOpened:
		if p.GetFacts() == nil || p.GetRules() == nil {
			return nil, fmt.Errorf("CaseOpened at sequence %d lacks its facts or rules", ev.Sequence)
		}
		return []domain.Event{domain.CaseOpened{
			Meta:      domain.Meta{By: ev.Actor, At: protoconv.Time(p.GetOpenTime())},
			RequestID: p.GetRequestId(),
			Facts:     factsToDomain(p.GetRequestId(), p.GetFacts()),
			Flags:     flagsToDomain(p.GetFlags()),
			Rules:     rulesToDomain(p.GetRules()),
			ReviewDue: protoconv.Time(p.GetReviewDueTime()),
		}}, nil
	case *assessmentv1.CaseClaimed:
		return []domain.Event{domain.Assigned{Meta: domain.Meta{By: ev.Actor, At: protoconv.Time(p.GetClaimTime())}, Assignee: p.GetAssignee()}}, nil
	case *assessmentv1.FactorsRecorded:
		var out []domain.Event
		for _, f := range p.GetFactors() {
			out = append(out, domain.FactorRecorded{
				Meta:       domain.Meta{By: f.GetReviewer(), At: protoconv.Time(f.GetRecordTime())},
				Factor:     FactorToDomain(f.GetFactor()),
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
			Kind:        CounselKinds.Domain(c.GetKind()),
			Counsel:     c.GetCounsel(),
			ConsultedAt: protoconv.Time(c.GetConsultTime()),
			Summary:     c.GetSummary(),
		}}, nil
	case *assessmentv1.ChallengeConsidered:
		c := p.GetConsideration()
		return []domain.Event{domain.ChallengeConsidered{
			Meta:      domain.Meta{By: c.GetRecordedBy(), At: protoconv.Time(c.GetRecordTime())},
			Warranted: c.GetWarranted(),
			Reasoning: c.GetReasoning(),
		}}, nil
	case *assessmentv1.DecisionProposed:
		d := p.GetDecision()
		return []domain.Event{domain.DecisionProposed{
			Meta:          domain.Meta{By: d.GetDecidedBy(), At: protoconv.Time(d.GetDecideTime())},
			Decision:      decisionToDomain(d),
			PolicyVersion: d.GetPolicyVersion(),
		}}, nil
	case *assessmentv1.DecisionApproved:
		a := p.GetApproval()
		return []domain.Event{domain.DecisionApproved{Meta: domain.Meta{By: a.GetApprover(), At: protoconv.Time(a.GetApproveTime())}, Roles: RolesToDomain(a.GetRoles())}}, nil
	case *assessmentv1.ImminentRiskJustified:
		return []domain.Event{domain.ImminentRiskJustified{Meta: domain.Meta{By: p.GetJustifiedBy(), At: protoconv.Time(p.GetJustifyTime())}, Text: p.GetJustification()}}, nil
	case *assessmentv1.ChallengeOutcomeProposed:
		l := protoconv.LiftFrom(p.GetLift())
		return []domain.Event{domain.ChallengeOutcomeProposed{Meta: domain.Meta{By: l.RecordedBy, At: l.RecordedAt}, Outcome: ChallengeOutcomes.Domain(p.GetOutcome()), Lift: l}}, nil
	case *assessmentv1.ChallengeOutcomeConfirmed:
		return []domain.Event{domain.ChallengeOutcomeConfirmed{Meta: domain.Meta{By: p.GetConfirmedBy(), At: protoconv.Time(p.GetConfirmTime())}, Roles: RolesToDomain(p.GetRoles())}}, nil
	case *assessmentv1.DecisionRejected:
		return []domain.Event{domain.DecisionRejected{Meta: domain.Meta{By: p.GetRejectedBy(), At: protoconv.Time(p.GetRejectTime())}, Reason: p.GetReason()}}, nil
	case *assessmentv1.AssessmentDecided:
		d := p.GetDecision()
		dd := decisionToDomain(d)
		var approvers []string
		for _, a := range d.GetApprovals() {
			approvers = append(approvers, a.GetApprover())
		}
		n := domain.RequirementsFor(facts, rules, dd)
		n.ImminentRiskJustification = p.GetRequirements().GetImminentRiskJustification()
		return []domain.Event{domain.CaseDecided{
			Meta:          domain.Meta{By: ev.Actor, At: ev.Time},
			Decision:      dd,
			DecidedBy:     d.GetDecidedBy(),
			ApprovedBy:    approvers,
			PolicyVersion: d.GetPolicyVersion(),
			Notification:  n,
		}}, nil
	case *assessmentv1.CaseOverdue:
		return []domain.Event{domain.ReviewOverdue{Meta: domain.Meta{By: ev.Actor, At: protoconv.Time(p.GetDetectTime())}, Due: protoconv.Time(p.GetReviewDueTime())}}, nil
	}
	if evs, err := decodeLifecycle(ev); err != nil || evs != nil {
		return evs, err
	}
	if evs := decodeVerification(ev); evs != nil { // issue 18 (verification.go)
		return evs, nil
	}
	return decodeClock(ev), nil // issue 18's clocks (clocks.go)
}
