package app_test

import (
	"testing"
	"time"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
)

// An AssessmentDecided of kind REQUEST_MORE_INFORMATION written before
// issue 16 folds as the open question it was: the case is not closed, and
// the member's amendment sends it back to review.
func TestOldRequestMoreInformationDecisionFoldsAsInformationRequested(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f := domain.RequestFacts{RequestID: "req-old", ReceivedAt: at.Add(-time.Hour), AuthorityCountry: "IE", CountryAdequate: true, TargetCount: 1}
	cfg := domain.DefaultConfig()
	enc := codec.Encoder{RequestID: "req-old", Facts: f, Rules: cfg.RulesFor(f), Now: at, ID: func(p ...string) string { return eventstore.DerivedID(append([]string{"t"}, p...)...) }}
	opened, err := enc.Encode([]domain.Event{domain.CaseOpened{Meta: domain.Meta{At: at}, RequestID: "req-old", Facts: f, Rules: cfg.RulesFor(f), ReviewDue: at.Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	old := eventstore.Event{ID: "old-decided", RequestID: "req-old", Time: at, Sequence: 2, Payload: &assessmentv1.AssessmentDecided{RequestId: "req-old", Decision: &assessmentv1.Decision{
		DecisionId: "D-old", Kind: assessmentv1.DecisionKind_DECISION_KIND_REQUEST_MORE_INFORMATION, Grounds: "Which accounts?",
		Status: assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE, DecidedBy: alice,
	}}}
	opened[0].Sequence = 1
	st, err := app.Fold(eventstore.History{Events: append(opened, old), LastSeq: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Case.Status() != domain.StatusInformationRequested || st.Case.State() != lifecycle.InformationRequested || st.Case.OpenQuestion().Text != "Which accounts?" {
		t.Fatalf("status %s state %s", st.Case.Status(), st.Case.State())
	}
	if evs, _ := st.Case.Reopen(domain.ReopenAmended, "amend-1", "", "", at); len(evs) != 1 || evs[0].(domain.CaseReopened).Trigger != domain.ReopenInformationSupplied {
		t.Fatalf("the amendment gave %v, want INFORMATION_SUPPLIED", evs)
	}
}
