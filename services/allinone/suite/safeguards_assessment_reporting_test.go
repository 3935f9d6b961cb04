package suite_test

// Issue 15 over gRPC against the real all-in-one, for assessment and
// reporting: no single person lifts a safeguard. Each test starts the suite
// with its own staff: two legal people (carol, dana), a reviewer who is
// also legal (erin) next to the development staff.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

const (
	arCarol = "spiffe://ddr.local/staff/carol"
	arDana  = "spiffe://ddr.local/staff/dana"
	arErin  = "spiffe://ddr.local/staff/erin"
)

// arStaff: alice reviews, bob approves, carol and dana are legal, erin
// reviews and is legal.
func arStaff() authz.Staff {
	return authz.Staff{
		"alice": {authz.Reviewer}, "bob": {authz.Approver},
		"carol": {authz.Legal}, "dana": {authz.Legal},
		"erin": {authz.Reviewer, authz.Legal},
	}
}

// arEnv is one suite with a client per person.
type arEnv struct {
	t                          *testing.T
	ctx                        context.Context
	p                          *runnertest.Proc
	member                     intakev1.IntakeServiceClient
	alice, bob, carol, dana    assessmentv1.AssessmentServiceClient
	erin                       assessmentv1.AssessmentServiceClient
	plan                       notificationv1.NotificationServiceClient
	verify                     assessmentv1.VerificationServiceClient // issue 18, as bob
	record, legal, legal2, rev reportingv1.ReportingServiceClient
}

// arStart starts the suite with arStaff and the lead DPA reachable
// (startEnv).
func arStart(t *testing.T) *arEnv {
	p, ctx := startEnv(t, envOptions{staff: arStaff()})
	as := func(who string) assessmentv1.AssessmentServiceClient {
		return assessmentv1.NewAssessmentServiceClient(p.Dial(t, who))
	}
	rs := func(who string) reportingv1.ReportingServiceClient {
		return reportingv1.NewReportingServiceClient(p.Dial(t, who))
	}
	return &arEnv{
		t: t, ctx: ctx, p: p,
		member: intakev1.NewIntakeServiceClient(p.Dial(t, member)),
		alice:  as(reviewer), bob: as(approver), carol: as(arCarol), dana: as(arDana), erin: as(arErin),
		plan:   notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer)),
		verify: assessmentv1.NewVerificationServiceClient(p.Dial(t, approver)),
		record: rs(reviewer), legal: rs(arCarol), legal2: rs(arDana), rev: rs(arErin),
	}
}

// arDemand is a court order from Germany (adequate, nothing to hold) for
// the given targets and data categories.
func arDemand(targets int, categories ...intakev1.DataCategory) *intakev1.DataDisclosureRequest {
	r := &intakev1.DataDisclosureRequest{
		ReceivedAt:     timestamppb.New(time.Now().Add(-2 * time.Hour)),
		Channel:        intakev1.Channel_CHANNEL_LETTER,
		Authority:      &intakev1.Authority{Name: "Staatsanwaltschaft Berlin", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_PROSECUTOR, Country: "DE"},
		LegalProcess:   &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER, Reference: "AG Tiergarten 123/26"},
		DataCategories: categories,
		TimeRange:      &intakev1.TimeRange{From: timestamppb.New(time.Now().AddDate(0, -3, 0)), To: timestamppb.New(time.Now().AddDate(0, 0, -1))},
		StatedPurpose:  "fraud investigation",
	}
	for i := range targets {
		r.Targets = append(r.Targets, &intakev1.Target{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: fmt.Sprintf("acct-%d", 900+i)})
	}
	return r
}

// open submits r and takes its case through alice's review: claimed, every
// factor and the rights weighed, a challenge considered (warranted or not).
func (e *arEnv) open(key string, r *intakev1.DataDisclosureRequest, warranted bool) string {
	e.t.Helper()
	return e.openBy(e.alice, key, r, warranted)
}

// openBy is open with another reviewer.
func (e *arEnv) openBy(by assessmentv1.AssessmentServiceClient, key string, r *intakev1.DataDisclosureRequest, warranted bool) string {
	t := e.t
	t.Helper()
	sub, err := e.member.Submit(e.ctx, &intakev1.SubmitRequest{IdempotencyKey: key, Request: r})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	id := sub.GetRequestId()
	eventually(t, func() error {
		_, err := by.GetCase(e.ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		return err
	})
	var factors []*assessmentv1.FactorAssessment
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		factors = append(factors, &assessmentv1.FactorAssessment{Factor: f, Assessment: "assessed: " + f.String()})
	}
	e.ok("claim", func() error {
		_, err := by.ClaimCase(e.ctx, &assessmentv1.ClaimCaseRequest{RequestId: id})
		return err
	})
	e.ok("factors", func() error {
		_, err := by.RecordFactors(e.ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: factors, RightsAssessment: "proportionate"})
		return err
	})
	e.ok("challenge", func() error {
		_, err := by.RecordChallengeConsideration(e.ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Warranted: warranted, Reasoning: "considered"})
		return err
	})
	return id
}

func (e *arEnv) ok(what string, f func() error) {
	e.t.Helper()
	must(e.t, what, f)
}

// refused checks that err is a policy refusal of clause naming rule.
func (e *arEnv) refused(what string, err error, clause, rule string) {
	e.t.Helper()
	pv, ok := grpcstatus.PolicyViolationFrom(err)
	if !ok || pv.Clause != clause || pv.Rule != rule {
		e.t.Fatalf("%s: %v (%+v), want FAILED_PRECONDITION clause %s %s", what, err, pv, clause, rule)
	}
}

func (e *arEnv) denied(what string, err error) {
	e.t.Helper()
	if status.Code(err) != codes.PermissionDenied {
		e.t.Fatalf("%s: %v, want PERMISSION_DENIED", what, err)
	}
}

func (e *arEnv) decide(by assessmentv1.AssessmentServiceClient, req *assessmentv1.DecideRequest) (string, error) {
	res, err := by.Decide(e.ctx, req)
	return res.GetCase().GetDecision().GetDecisionId(), err
}

func (e *arEnv) approve(by assessmentv1.AssessmentServiceClient, id, decision string) (*assessmentv1.Case, error) {
	res, err := by.ApproveDecision(e.ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decision})
	return res.GetCase(), err
}

func disclose(id string, basis assessmentv1.LegalBasis, scope *assessmentv1.Scope) *assessmentv1.DecideRequest {
	return &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE, LegalBasis: basis, Scope: scope}
}

var (
	allScope   = &assessmentv1.Scope{All: true}
	compelling = assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION
	imminent   = assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM
)

func (e *arEnv) proposeOutcome(by assessmentv1.AssessmentServiceClient, id string, o assessmentv1.ChallengeOutcome) error {
	_, err := by.ProposeChallengeOutcome(e.ctx, &assessmentv1.ProposeChallengeOutcomeRequest{RequestId: id, Outcome: o, Basis: "the court decided", EvidenceReference: "KG Berlin 7/26"})
	return err
}

func (e *arEnv) confirmOutcome(by assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.Case, error) {
	res, err := by.ConfirmChallengeOutcome(e.ctx, &assessmentv1.ConfirmChallengeOutcomeRequest{RequestId: id})
	return res.GetCase(), err
}

func TestClause3_3_WarrantedChallengeBlocksDisclosureUntilATwoPersonOutcome(t *testing.T) {
	e := arStart(t)
	id := e.open("challenge-warranted", arDemand(1, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER), true)

	_, err := e.decide(e.alice, disclose(id, compelling, allScope))
	e.refused("disclosure with the challenge unresolved", err, "3.3", "CHALLENGE_UNRESOLVED")
	_, err = e.alice.RecordChallengeConsideration(e.ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: "on second thought, fine"})
	e.refused("un-warranting the challenge alone", err, "3.3", "CHALLENGE_WARRANTED_NEEDS_OUTCOME")

	// carol (legal) records the outcome: it does not count yet.
	e.ok("propose the outcome", func() error {
		return e.proposeOutcome(e.carol, id, assessmentv1.ChallengeOutcome_CHALLENGE_OUTCOME_DISMISSED)
	})
	_, err = e.decide(e.alice, disclose(id, compelling, allScope))
	e.refused("disclosure with the outcome unconfirmed", err, "3.3", "CHALLENGE_UNRESOLVED")
	// Neither the recorder nor someone without the legal role confirms it.
	_, err = e.confirmOutcome(e.carol, id)
	e.refused("the recorder confirming", err, "3.3", "LIFT_CONFIRMED_BY_RECORDER")
	_, err = e.confirmOutcome(e.bob, id)
	e.denied("an approver confirming", err)

	c, err := e.confirmOutcome(e.dana, id)
	if err != nil {
		t.Fatalf("dana confirms: %v", err)
	}
	ch := c.GetReview().GetChallenge()
	if ch.GetOutcome() != assessmentv1.ChallengeOutcome_CHALLENGE_OUTCOME_DISMISSED || ch.GetOutcomeLift().GetRecordedBy() != arCarol || ch.GetOutcomeLift().GetConfirmedBy() != arDana {
		t.Fatalf("challenge after confirmation: %v", ch)
	}
	did, err := e.decide(e.alice, disclose(id, compelling, allScope))
	if err != nil {
		t.Fatalf("disclosure after a confirmed dismissal: %v", err)
	}
	if c, err := e.approve(e.bob, id, did); err != nil || c.GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_DECIDED {
		t.Fatalf("approve: %v, %v", c.GetStatus(), err)
	}
}

func TestClause3_3_UpheldChallengeAllowsOnlyRejectOrNarrower(t *testing.T) {
	e := arStart(t)
	id := e.open("challenge-upheld", arDemand(2, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER, intakev1.DataCategory_DATA_CATEGORY_TRAFFIC), true)
	e.ok("propose upheld", func() error {
		return e.proposeOutcome(e.alice, id, assessmentv1.ChallengeOutcome_CHALLENGE_OUTCOME_UPHELD)
	})
	e.ok("confirm upheld", func() error { _, err := e.confirmOutcome(e.carol, id); return err })

	_, err := e.decide(e.alice, disclose(id, compelling, allScope))
	e.refused("everything asked after an upheld challenge", err, "3.3", "CHALLENGE_UPHELD_NEEDS_NARROWER")
	did, err := e.decide(e.alice, disclose(id, compelling, &assessmentv1.Scope{TargetRefs: []string{"t1"}}))
	if err != nil {
		t.Fatalf("a narrower disclosure after an upheld challenge: %v", err)
	}
	// bob sends it back; a reject is always open.
	e.ok("reject the proposal", func() error {
		_, err := e.bob.RejectDecision(e.ctx, &assessmentv1.RejectDecisionRequest{RequestId: id, DecisionId: did, Reason: "reject instead"})
		return err
	})
	if _, err := e.decide(e.alice, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "the court upheld the challenge"}); err != nil {
		t.Fatalf("reject after an upheld challenge: %v", err)
	}
}

func TestClause2_1_ImminentRiskWithoutTheAuthoritysClaimNeedsAJustificationAndALegalApprover(t *testing.T) {
	e := arStart(t)
	d := arDemand(1, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER)
	fromTheBKA(d) // issue 18: an imminent-risk disclosure is made after a call back through the directory
	id := e.open("imminent-unclaimed", d, false)

	_, err := e.decide(e.alice, disclose(id, imminent, allScope))
	e.refused("imminent risk the authority did not claim, unjustified", err, "2.1", "IMMINENT_RISK_NOT_JUSTIFIED")
	_, err = e.bob.JustifyImminentRisk(e.ctx, &assessmentv1.JustifyImminentRiskRequest{RequestId: id, Justification: "x"})
	e.denied("an approver justifying", err)
	e.ok("justify", func() error {
		_, err := e.alice.JustifyImminentRisk(e.ctx, &assessmentv1.JustifyImminentRiskRequest{RequestId: id, Justification: "credible threat described in the call log"})
		return err
	})
	did, err := e.decide(e.alice, disclose(id, imminent, allScope))
	if err != nil {
		t.Fatalf("justified disclosure: %v", err)
	}
	_, err = e.approve(e.bob, id, did)
	e.refused("an approver without the legal role", err, "2.1", "LEGAL_APPROVER_REQUIRED")
	_, err = e.approve(e.carol, id, did)
	e.refused("a legal approver before the requester is verified", err, "2.1", "REQUESTER_NOT_VERIFIED")
	e.ok("verify the requester", confirmRequester(e.ctx, e.verify, id))
	c, err := e.approve(e.carol, id, did)
	if err != nil || c.GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_DECIDED {
		t.Fatalf("legal approval: %v, %v", c.GetStatus(), err)
	}
	if j := c.GetReview().GetImminentRiskJustification(); j == "" {
		t.Error("the case does not show the justification")
	}
	if a := c.GetDecision().GetApprovals(); len(a) != 1 || a[0].GetApprover() != arCarol || !slices.Contains(a[0].GetRoles(), "legal") {
		t.Errorf("approvals %v, want carol's with the legal role", a)
	}
}

func TestClause2_1_CompellingObligationWithoutLegalProcessNeedsAStatuteAndALegalApprover(t *testing.T) {
	e := arStart(t)
	r := arDemand(1, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER)
	r.LegalProcess = &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NONE}
	id := e.open("no-legal-process", r, false)

	_, err := e.decide(e.alice, disclose(id, compelling, allScope))
	e.refused("no legal process, no statute", err, "2.1", "STATUTE_NOT_CITED")
	req := disclose(id, compelling, allScope)
	req.Statute = "§ 100j StPO"
	did, err := e.decide(e.alice, req)
	if err != nil {
		t.Fatalf("with the statute: %v", err)
	}
	_, err = e.approve(e.bob, id, did)
	e.refused("an approver without the legal role", err, "2.1", "LEGAL_APPROVER_REQUIRED")
	c, err := e.approve(e.dana, id, did)
	if err != nil || c.GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_DECIDED {
		t.Fatalf("legal approval: %v, %v", c.GetStatus(), err)
	}
	if s := c.GetDecision().GetStatute(); s != "§ 100j StPO" {
		t.Errorf("decision statute %q", s)
	}
}

func TestClause6_1_ScopeDescriptionIsBulkEvenBesideListedTargets(t *testing.T) {
	e := arStart(t)
	r := arDemand(1, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER)
	r.ScopeDescription = "and everyone who contacted that account"
	id := e.open("described-beside-targets", r, false)

	_, err := e.decide(e.alice, disclose(id, compelling, allScope))
	e.refused("a described scope beside one listed target", err, "6.1", "BULK_DISCLOSURE")
	if _, err := e.decide(e.alice, disclose(id, compelling, &assessmentv1.Scope{TargetRefs: []string{"t1"}})); err != nil {
		t.Fatalf("naming the listed target drops the description: %v", err)
	}
}

// cleared takes a request to an effective disclose decision by req and waits
// until notification cleared it.
func (e *arEnv) cleared(id string, req *assessmentv1.DecideRequest) {
	e.t.Helper()
	did, err := e.decide(e.alice, req)
	if err != nil {
		e.t.Fatalf("decide: %v", err)
	}
	if _, err := e.approve(e.bob, id, did); err != nil {
		e.t.Fatalf("approve: %v", err)
	}
	untilCleared(e.t, e.ctx, e.plan, id)
}

func disclosure(accounts int32, cats ...reportingv1.DataCategory) *reportingv1.RecordDispositionRequest_Disclosure {
	return &reportingv1.RecordDispositionRequest_Disclosure{Disclosure: &reportingv1.Disclosure{
		Categories: cats, Accounts: accounts, DiscloseTime: timestamppb.Now(), Means: reportingv1.DeliveryMeans_DELIVERY_MEANS_SECURE_PORTAL,
	}}
}

func terminal(o reportingv1.TerminalOutcome) *reportingv1.RecordDispositionRequest_Outcome {
	return &reportingv1.RecordDispositionRequest_Outcome{Outcome: o}
}

func (e *arEnv) dispose(id string, kind any) error {
	req := &reportingv1.RecordDispositionRequest{RequestId: id}
	switch k := kind.(type) {
	case *reportingv1.RecordDispositionRequest_Disclosure:
		req.Kind = k
	case *reportingv1.RecordDispositionRequest_Outcome:
		req.Kind = k
	}
	_, err := e.record.RecordDisposition(e.ctx, req)
	return err
}

func TestClause2_1_RecordedDisclosureCannotExceedTheDecidedScope(t *testing.T) {
	e := arStart(t)
	id := e.open("disclosure-scope", arDemand(2, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER, intakev1.DataCategory_DATA_CATEGORY_TRAFFIC), false)
	// Decided: one of the two accounts, subscriber data only.
	e.cleared(id, disclose(id, compelling, &assessmentv1.Scope{TargetRefs: []string{"t1"}, DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER}}))

	for _, c := range []struct {
		what string
		d    *reportingv1.RecordDispositionRequest_Disclosure
	}{
		{"two accounts", disclosure(2, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)},
		{"access logs the request asked for but the decision left out", disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_ACCESS_LOGS)},
		{"content nobody asked for", disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER, reportingv1.DataCategory_DATA_CATEGORY_CONTENT)},
	} {
		e.refused(c.what, e.dispose(id, c.d), "2.1", "DISCLOSURE_EXCEEDS_DECIDED_SCOPE")
	}
	e.refused("no data found after a disclosure decision is allowed, rejected is not",
		e.dispose(id, terminal(reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REJECTED)), "2.1", "OUTCOME_NOT_ALLOWED_BY_DECISION")
	if err := e.dispose(id, disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)); err != nil {
		t.Fatalf("the decided scope: %v", err)
	}
}

// The outcome table, walked: after each decision, which dispositions the
// record accepts. One request per decision; a refusal records nothing, so
// the accepted outcome is tried last.
func TestClause2_1_EachDecisionAllowsOnlyTheOutcomesOfTheOutcomeTable(t *testing.T) {
	e := arStart(t)
	type try struct {
		kind   any
		rule   string // "" accepted
		clause string
	}
	notAllowed := func(k any) try { return try{k, "OUTCOME_NOT_ALLOWED_BY_DECISION", "2.1"} }
	var (
		rejected   = terminal(reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REJECTED)
		challenged = terminal(reportingv1.TerminalOutcome_TERMINAL_OUTCOME_CHALLENGED)
		noData     = terminal(reportingv1.TerminalOutcome_TERMINAL_OUTCOME_NO_DATA_FOUND)
		withdrawn  = terminal(reportingv1.TerminalOutcome_TERMINAL_OUTCOME_WITHDRAWN)
		redirected = terminal(reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REDIRECTED)
		data       = disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)
	)
	decided := func(kind assessmentv1.DecisionKind) func(id string) {
		return func(id string) {
			if _, err := e.decide(e.alice, &assessmentv1.DecideRequest{RequestId: id, Kind: kind, Grounds: "grounds"}); err != nil {
				t.Fatalf("decide %v: %v", kind, err)
			}
		}
	}
	for _, row := range []struct {
		name   string
		decide func(id string)
		tries  []try
	}{
		{"no decision", func(string) {}, []try{
			notAllowed(rejected), notAllowed(noData),
			{data, "DISCLOSURE_BEFORE_CLEARED", "2.2"},
			{withdrawn, "OUTCOME_WITHOUT_ITS_FACT", "2.1"},
		}},
		{"reject", decided(assessmentv1.DecisionKind_DECISION_KIND_REJECT), []try{
			notAllowed(challenged), notAllowed(noData), notAllowed(redirected), {rejected, "", ""},
		}},
		{"challenge", decided(assessmentv1.DecisionKind_DECISION_KIND_CHALLENGE), []try{
			notAllowed(rejected), notAllowed(noData), {challenged, "", ""},
		}},
		{"request more information", decided(assessmentv1.DecisionKind_DECISION_KIND_REQUEST_MORE_INFORMATION), []try{
			notAllowed(rejected), notAllowed(challenged), notAllowed(noData),
		}},
		{"disclose", func(id string) { e.cleared(id, disclose(id, compelling, allScope)) }, []try{
			notAllowed(rejected), notAllowed(challenged), {noData, "", ""},
		}},
	} {
		id := e.open("outcome-table-"+strings.ReplaceAll(row.name, " ", "-"), arDemand(1, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER), false)
		row.decide(id)
		for i, tr := range row.tries {
			err := e.dispose(id, tr.kind)
			what := fmt.Sprintf("%s: try %d (%v)", row.name, i, tr.kind)
			if tr.rule == "" {
				if err != nil {
					t.Fatalf("%s: %v, want accepted", what, err)
				}
				continue
			}
			e.refused(what, err, tr.clause, tr.rule)
		}
	}
}

func TestClause5_1_ReportRestrictionNeedsTwoLegalPeopleAndAReference(t *testing.T) {
	e := arStart(t)
	// erin (reviewer and legal) proposes the decision: she may never
	// confirm a restriction of its report.
	id := e.openBy(e.erin, "restricted", arDemand(1, intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER), false)
	if _, err := e.decide(e.erin, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "invalid order"}); err != nil {
		t.Fatalf("erin rejects: %v", err)
	}
	excluded := reportingv1.ReportingRestriction_REPORTING_RESTRICTION_EXCLUDED_BY_COURT_ORDER
	propose := func(by reportingv1.ReportingServiceClient, reference string) (*reportingv1.ProposeReportingRestrictionResponse, error) {
		return by.ProposeReportingRestriction(e.ctx, &reportingv1.ProposeReportingRestrictionRequest{RequestId: id, Restriction: excluded, LegalReference: reference})
	}
	confirm := func(by reportingv1.ReportingServiceClient) (*reportingv1.ConfirmReportingRestrictionResponse, error) {
		return by.ConfirmReportingRestriction(e.ctx, &reportingv1.ConfirmReportingRestrictionRequest{RequestId: id})
	}

	_, err := e.legal.SetReportingRestriction(e.ctx, &reportingv1.SetReportingRestrictionRequest{RequestId: id, Restriction: excluded, LegalReference: "LG Berlin 1/26"})
	e.refused("one person excluding a request", err, "5.1", "NEEDS_TWO_PEOPLE")
	if _, err := propose(e.legal, ""); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a restriction without a legal reference: %v, want INVALID_ARGUMENT", err)
	}
	_, err = propose(e.record, "LG Berlin 1/26")
	e.denied("a reviewer proposing", err)
	p, err := propose(e.legal, "LG Berlin 1/26")
	if err != nil {
		t.Fatalf("carol proposes: %v", err)
	}
	if l := p.GetLift(); l.GetRecordedBy() != arCarol || l.GetConfirmedBy() != "" || l.GetEvidenceReference() != "LG Berlin 1/26" {
		t.Fatalf("proposed lift %v", l)
	}
	_, err = confirm(e.legal)
	e.refused("the proposer confirming", err, "5.1", "LIFT_CONFIRMED_BY_RECORDER")
	_, err = confirm(e.rev)
	e.refused("the decision's proposer confirming", err, "5.1", "LIFT_CONFIRMED_BY_PROPOSER")
	_, err = confirm(e.record)
	e.denied("a reviewer confirming", err)
	c, err := confirm(e.legal2)
	if err != nil {
		t.Fatalf("dana confirms: %v", err)
	}
	if l := c.GetLift(); l.GetConfirmedBy() != arDana || l.GetRecordedBy() != arCarol {
		t.Fatalf("confirmed lift %v", l)
	}
	_, err = confirm(e.legal2)
	e.refused("nothing left to confirm", err, "5.1", "NOTHING_TO_RESTRICT")
	// The record keeps both steps.
	res, err := e.record.GetRecord(e.ctx, &reportingv1.GetRecordRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, en := range res.GetRecord().GetEntries() {
		types = append(types, en.GetEventType())
	}
	for _, want := range []string{"ddr.reporting.v1.RestrictionProposed", "ddr.reporting.v1.RestrictionConfirmed"} {
		if !slices.Contains(types, want) {
			t.Errorf("record lacks %s: %v", want, types)
		}
	}
}
