package ports

import (
	"strconv"
	"time"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// This file is the RPC side of assessment's one conversion: requests into
// app and domain types, cases into the Case message. The message parts a
// Case shares with the events (facts, rules, flags, decision) are shown as
// the record holds them; the enum mappings are package codec's.

var statuses = map[domain.Status]assessmentv1.CaseStatus{
	domain.StatusOpen:                    assessmentv1.CaseStatus_CASE_STATUS_OPEN,
	domain.StatusInReview:                assessmentv1.CaseStatus_CASE_STATUS_IN_REVIEW,
	domain.StatusDecisionPendingApproval: assessmentv1.CaseStatus_CASE_STATUS_PENDING_APPROVAL,
	domain.StatusDecided:                 assessmentv1.CaseStatus_CASE_STATUS_DECIDED,
	domain.StatusWithdrawn:               assessmentv1.CaseStatus_CASE_STATUS_WITHDRAWN,
	domain.StatusInformationRequested:    assessmentv1.CaseStatus_CASE_STATUS_INFORMATION_REQUESTED,
}

func statusToProto(s domain.Status) assessmentv1.CaseStatus { return statuses[s] }

// statusesToDomain reads a status filter; a status no case has matches none.
func statusesToDomain(ps []assessmentv1.CaseStatus) []domain.Status {
	var out []domain.Status
	for _, p := range ps {
		found := false
		for d, v := range statuses {
			if v == p {
				out, found = append(out, d), true
			}
		}
		if !found {
			out = append(out, domain.Status("unknown_"+strconv.Itoa(int(p))))
		}
	}
	return out
}

// caseToProto renders the case as the Privacy Team sees it at now.
func caseToProto(st *app.CaseState, now time.Time) *assessmentv1.Case {
	c := st.Case
	f := c.Facts()
	opened := st.Opening()
	out := &assessmentv1.Case{
		NextDeadline: nextDeadline(c), // issue 18 (clocks.go)

		RequestId:        c.RequestID(),
		Status:           statusToProto(c.Status()),
		Flags:            st.RecordedFlags(),
		Assignee:         c.Assignee(),
		Review:           reviewToProto(c.Review()),
		Decision:         st.Decision(),
		PolicyVersion:    c.PolicyVersion(),
		OpenTime:         protoconv.Timestamp(c.OpenedAt()),
		ReviewDueTime:    protoconv.Timestamp(c.ReviewDue()),
		Overdue:          st.OverdueAt(now),
		Emergency:        f.Urgent(),
		DeadlineTime:     protoconv.Timestamp(f.Deadline),
		ReceiveTime:      protoconv.Timestamp(f.ReceivedAt),
		AuthorityKind:    st.RecordedFacts().GetAuthorityKind(),
		AuthorityCountry: f.AuthorityCountry,
		Version:          st.Version,
		Facts:            st.RecordedFacts(),
		Rules:            opened.GetRules(),
		WithdrawTime:     protoconv.Timestamp(c.WithdrawnAt()),
	}
	lifecycleToProto(st, out)
	return out
}

func reviewToProto(r domain.Review) *assessmentv1.Review {
	out := &assessmentv1.Review{}
	for _, f := range domain.AllFactors() {
		if a, ok := r.Factors[f]; ok {
			out.Factors = append(out.Factors, &assessmentv1.FactorAssessment{
				Factor: codec.FactorToProto(f), Assessment: a.Text, Reviewer: a.By, RecordTime: protoconv.Timestamp(a.At),
			})
		}
	}
	if r.RightsWeighed != nil {
		out.RightsAssessment = r.RightsWeighed.Text
	}
	for _, c := range r.Counsel {
		out.Consultations = append(out.Consultations, &assessmentv1.CounselConsultation{
			Kind:        codec.CounselKinds.Proto(c.Kind),
			Counsel:     c.Counsel,
			ConsultTime: protoconv.Timestamp(c.ConsultedAt),
			Summary:     c.Summary,
			RecordedBy:  c.RecordedBy,
		})
	}
	if ch := r.Challenge; ch != nil {
		out.Challenge = &assessmentv1.ChallengeConsideration{
			Considered: true, Warranted: ch.Warranted, Reasoning: ch.Reasoning, RecordedBy: ch.By, RecordTime: protoconv.Timestamp(ch.At),
		}
		if ch.Outcome != "" {
			out.Challenge.Outcome = codec.ChallengeOutcomes.Proto(ch.Outcome)
			out.Challenge.OutcomeLift = protoconv.Lift(ch.OutcomeLift)
		}
	}
	if j := r.RiskJustified; j != nil {
		out.ImminentRiskJustification = j.Text
	}
	return out
}

func factorsToApp(fs []*assessmentv1.FactorAssessment) []app.FactorInput {
	return protoconv.Each(fs, func(f *assessmentv1.FactorAssessment) app.FactorInput {
		return app.FactorInput{Factor: codec.FactorToDomain(f.GetFactor()), Assessment: f.GetAssessment()}
	})
}

func consultationToApp(c *assessmentv1.CounselConsultation) app.Consultation {
	return app.Consultation{
		Kind:        codec.CounselKinds.Domain(c.GetKind()),
		Counsel:     c.GetCounsel(),
		ConsultedAt: protoconv.Time(c.GetConsultTime()),
		Summary:     c.GetSummary(),
	}
}

// decisionFromRequest reads the decision. A disclosure must say what it
// covers: all that was asked, or a narrowing; silence is not read as "all".
func decisionFromRequest(req *assessmentv1.DecideRequest) (domain.Decision, error) {
	d := domain.Decision{
		Kind:    codec.DecisionKinds.Domain(req.GetKind()),
		Basis:   codec.LegalBases.Domain(req.GetLegalBasis()),
		Grounds: req.GetGrounds(),
		Statute: req.GetStatute(),
	}
	sc := req.GetScope()
	narrowed := len(sc.GetTargetRefs()) > 0 || len(sc.GetDataCategories()) > 0 || sc.GetTimeRange() != nil
	switch {
	case d.Kind != policy.DecisionDisclose && (sc.GetAll() || narrowed):
		return d, ddrerr.Invalid(ddrerr.FieldViolation{Field: "scope", Description: "only a disclosure has a scope"})
	case d.Kind != policy.DecisionDisclose:
		return d, nil
	case sc.GetAll() && narrowed:
		return d, ddrerr.Invalid(ddrerr.FieldViolation{Field: "scope.all", Description: "either all, or a narrowing; not both"})
	case !sc.GetAll() && !narrowed:
		return d, ddrerr.Invalid(ddrerr.FieldViolation{Field: "scope", Description: "say all, or narrow it by target_refs, data_categories or time_range"})
	}
	d.Narrowing = codec.NarrowingToDomain(sc)
	return d, nil
}

func indexed(list string, i int, field string) string {
	return list + "[" + strconv.Itoa(i) + "]." + field
}
