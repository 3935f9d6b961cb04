package ports

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Every case status the API defines reads as one domain status and is
// shown back as itself; every domain status has its API value.
func TestEveryCaseStatusRoundTrips(t *testing.T) {
	values := assessmentv1.CaseStatus(0).Descriptor().Values()
	for i := range values.Len() {
		p := assessmentv1.CaseStatus(values.Get(i).Number())
		if p == 0 {
			continue
		}
		d := statusesToDomain([]assessmentv1.CaseStatus{p})
		if len(d) != 1 || statusToProto(d[0]) != p {
			t.Errorf("%v -> %v -> back %v", p, d, statusToProto(d[0]))
		}
	}
	for _, s := range []domain.Status{domain.StatusOpen, domain.StatusInReview, domain.StatusDecisionPendingApproval, domain.StatusDecided, domain.StatusWithdrawn} {
		if statusToProto(s) == 0 {
			t.Errorf("status %s has no API value", s)
		}
	}
	if d := statusesToDomain([]assessmentv1.CaseStatus{0}); len(d) != 1 || statusToProto(d[0]) != 0 {
		t.Errorf("the unspecified status reads as %v, which some case has", d)
	}
}

// A request's review inputs read as the domain's, and the review the
// domain keeps of them renders as what was sent.
func TestReviewInputsRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var sent []*assessmentv1.FactorAssessment
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		sent = append(sent, &assessmentv1.FactorAssessment{Factor: f, Assessment: "assessed " + f.String(), Reviewer: "r", RecordTime: timestamppb.New(at)})
	}
	review := domain.Review{Factors: map[domain.Factor]domain.Assessment{}}
	for _, in := range factorsToApp(sent) {
		review.Factors[in.Factor] = domain.Assessment{Text: in.Assessment, By: "r", At: at}
	}
	for k := assessmentv1.CounselKind_COUNSEL_KIND_INTERNAL_LEGAL; k <= assessmentv1.CounselKind_COUNSEL_KIND_OUTSIDE_COUNSEL; k++ {
		c := consultationToApp(&assessmentv1.CounselConsultation{Kind: k, Counsel: "Firm", ConsultTime: timestamppb.New(at), Summary: "ok"})
		review.Counsel = append(review.Counsel, domain.Consultation{Kind: c.Kind, Counsel: c.Counsel, ConsultedAt: c.ConsultedAt, Summary: c.Summary, RecordedBy: "r"})
	}
	got := reviewToProto(review)
	if d := cmp.Diff(sent, got.GetFactors(), protocmp.Transform()); d != "" {
		t.Errorf("factors (-sent +shown):\n%s", d)
	}
	for i, c := range got.GetConsultations() {
		if want := assessmentv1.CounselKind_COUNSEL_KIND_INTERNAL_LEGAL + assessmentv1.CounselKind(i); c.GetKind() != want || !c.GetConsultTime().AsTime().Equal(at) {
			t.Errorf("consultation %d shown as %v at %v", i, c.GetKind(), c.GetConsultTime())
		}
	}
}

func TestDecisionFromRequest(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d, err := decisionFromRequest(&assessmentv1.DecideRequest{
		Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM, Grounds: "g",
		Scope: &assessmentv1.Scope{TargetRefs: []string{"t1"}, DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
			TimeRange: &intakev1.TimeRange{From: timestamppb.New(from)}},
	})
	want := domain.Decision{Kind: policy.DecisionDisclose, Basis: domain.BasisImminentRisk, Grounds: "g",
		Narrowing: &domain.Narrowing{TargetIDs: []string{"t1"}, DataCategories: []string{"subscriber"}, TimeRange: domain.TimeRange{From: from}}}
	if err != nil || !cmp.Equal(want, d) {
		t.Errorf("got %+v, %v; want %+v", d, err, want)
	}
	d, err = decisionFromRequest(&assessmentv1.DecideRequest{Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, Scope: &assessmentv1.Scope{All: true}})
	if err != nil || d.Narrowing != nil {
		t.Errorf("all: %+v, %v; want no narrowing", d, err)
	}
	if _, err := decisionFromRequest(&assessmentv1.DecideRequest{Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE}); err == nil {
		t.Error("a disclosure without a scope was read as all")
	}
}
