package app

import (
	"slices"
	"testing"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// The approved scope is the decision's disclosed scope (issue 15): its
// target count, and reporting's categories for intake's. "Other" approves
// none, and a decision other than a disclosure approves nothing.
func TestClause2_1_ApprovedScopeIsTheDecidedScope(t *testing.T) {
	decided := func(kind assessmentv1.DecisionKind, targets int32, cats ...intakev1.DataCategory) *assessmentv1.AssessmentDecided {
		return &assessmentv1.AssessmentDecided{
			Decision:     &assessmentv1.Decision{Kind: kind, DecidedBy: "alice", Scope: &assessmentv1.Scope{All: true, TargetCount: targets}},
			Requirements: &assessmentv1.NotificationRequirements{Scope: &assessmentv1.Scope{TargetCount: targets, DataCategories: cats}},
		}
	}
	for _, c := range []struct {
		name string
		in   *assessmentv1.AssessmentDecided
		want domain.ApprovedScope
	}{
		{"subscriber and traffic", decided(assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 2, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER, intakev1.DataCategory_DATA_CATEGORY_TRAFFIC),
			domain.ApprovedScope{Accounts: 2, Categories: []domain.DataCategory{domain.CategorySubscriber, domain.CategoryAccessLogs, domain.CategoryMetadata}, Proposer: "alice"}},
		{"content", decided(assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1, intakev1.DataCategory_DATA_CATEGORY_CONTENT),
			domain.ApprovedScope{Accounts: 1, Categories: []domain.DataCategory{domain.CategoryContent, domain.CategoryAttachments}, Proposer: "alice"}},
		{"other approves nothing", decided(assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, 1, intakev1.DataCategory_DATA_CATEGORY_OTHER),
			domain.ApprovedScope{Accounts: 1, Proposer: "alice"}},
		{"a reject approves nothing", decided(assessmentv1.DecisionKind_DECISION_KIND_REJECT, 1, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER),
			domain.ApprovedScope{Proposer: "alice"}},
	} {
		got := approvedScope(c.in)
		if got.Accounts != c.want.Accounts || got.Proposer != c.want.Proposer || !slices.Equal(got.Categories, c.want.Categories) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
