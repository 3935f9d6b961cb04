package suite_test

// Issue 18 over gRPC against the real all-in-one: who is really asking.
// An emergency request from a sender the authority directory does not
// verify is disclosed only after a person verified it through a contact
// from the directory; "forged" leaves only a reject and opens a security
// incident (and a personal-data breach with its clocks when data had
// already left).

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
)

// vEnv is one suite with the clients of issue 18's tests: alice reviews,
// bob approves and verifies.
type vEnv struct {
	t          *testing.T
	ctx        context.Context
	member     intakev1.IntakeServiceClient
	alice, bob assessmentv1.AssessmentServiceClient
	verify     assessmentv1.VerificationServiceClient
	plan       notificationv1.NotificationServiceClient
	record     reportingv1.ReportingServiceClient
	submitted  int
	keyPrefix  string
}

// vStart starts the suite with the lead DPA reachable (startEnv), so a
// disclosure can clear and be recorded.
func vStart(t *testing.T) *vEnv {
	p, ctx := startEnv(t, envOptions{})
	return &vEnv{
		t: t, ctx: ctx, keyPrefix: t.Name(),
		member: intakev1.NewIntakeServiceClient(p.Dial(t, member)),
		alice:  assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer)),
		bob:    assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver)),
		verify: assessmentv1.NewVerificationServiceClient(p.Dial(t, approver)),
		plan:   notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer)),
		record: reportingv1.NewReportingServiceClient(p.Dial(t, reviewer)),
	}
}

// gardaEmergency is an emergency in the Garda's name (Ireland: adequate,
// no customer) sent by e-mail from sender.
func gardaEmergency(sender string) *intakev1.DataDisclosureRequest {
	return &intakev1.DataDisclosureRequest{
		ReceivedAt:     timestamppb.New(time.Now().Add(-10 * time.Minute)),
		Channel:        intakev1.Channel_CHANNEL_EMAIL,
		SenderAddress:  sender,
		Authority:      &intakev1.Authority{Name: "An Garda Síochána", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "IE"},
		Emergency:      &intakev1.Emergency{Claimed: true, ImminentRiskOfSeriousHarm: true, HarmDescribed: "a threat to life described in the e-mail"},
		Targets:        []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-4711"}},
		DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
		TimeRange:      &intakev1.TimeRange{From: timestamppb.New(time.Now().AddDate(0, -1, 0)), To: timestamppb.New(time.Now().Add(-time.Hour))},
	}
}

// proposed submits r, takes its case through alice's review and has her
// propose a disclosure on imminent risk; it returns the request and
// decision ids and the case as opened.
func (e *vEnv) proposed(r *intakev1.DataDisclosureRequest) (id, decision string, opened *assessmentv1.Case) {
	t := e.t
	t.Helper()
	e.submitted++
	sub, err := e.member.Submit(e.ctx, &intakev1.SubmitRequest{IdempotencyKey: fmt.Sprintf("%s-%d", e.keyPrefix, e.submitted), Request: r})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	id = sub.GetRequestId()
	eventually(t, func() error {
		res, err := e.alice.GetCase(e.ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		opened = res.GetCase()
		return err
	})
	var factors []*assessmentv1.FactorAssessment
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		factors = append(factors, &assessmentv1.FactorAssessment{Factor: f, Assessment: "assessed: " + f.String()})
	}
	must(t, "claim", func() error {
		_, err := e.alice.ClaimCase(e.ctx, &assessmentv1.ClaimCaseRequest{RequestId: id})
		return err
	})
	must(t, "review", func() error {
		_, err := e.alice.RecordFactors(e.ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: factors, RightsAssessment: "one account; a life at risk outweighs it"})
		return err
	})
	must(t, "challenge considered", func() error {
		_, err := e.alice.RecordChallengeConsideration(e.ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: "no grounds"})
		return err
	})
	res, err := e.alice.Decide(e.ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
		LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM, Scope: &assessmentv1.Scope{All: true}})
	if err != nil {
		t.Fatalf("propose the disclosure: %v", err)
	}
	return id, res.GetCase().GetDecision().GetDecisionId(), opened
}

func (e *vEnv) approve(id, decision string) (*assessmentv1.Case, error) {
	res, err := e.bob.ApproveDecision(e.ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decision})
	return res.GetCase(), err
}

// callBack records bob's verification through the directory's first
// contact (the switchboard) with outcome o.
func (e *vEnv) callBack(id string, o assessmentv1.VerificationOutcome) *assessmentv1.RecordVerificationResponse {
	e.t.Helper()
	c, err := e.verify.GetVerificationContacts(e.ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id})
	if err != nil {
		e.t.Fatalf("GetVerificationContacts: %v", err)
	}
	if len(c.GetContacts()) == 0 {
		e.t.Fatalf("no directory contacts: %v", c)
	}
	res, err := e.verify.RecordVerification(e.ctx, &assessmentv1.RecordVerificationRequest{RequestId: id, ChannelId: c.GetContacts()[0].GetChannelId(), Outcome: o, Note: "called the switchboard"})
	if err != nil {
		e.t.Fatalf("RecordVerification %v: %v", o, err)
	}
	return res
}

func wantRefused(t *testing.T, what string, err error, clause, rule string) {
	t.Helper()
	pv, ok := grpcstatus.PolicyViolationFrom(err)
	if !ok || pv.Clause != clause || pv.Rule != rule {
		t.Fatalf("%s: %v (%+v), want FAILED_PRECONDITION clause %s %s", what, err, pv, clause, rule)
	}
	if pv.Reason == "" {
		t.Errorf("%s: the refusal does not explain itself", what)
	}
}

func hasFlag(c *assessmentv1.Case, code assessmentv1.FlagCode, containing string) bool {
	return slices.ContainsFunc(c.GetFlags(), func(f *assessmentv1.Flag) bool {
		return f.GetCode() == code && strings.Contains(f.GetExplanation(), containing)
	})
}

// 2.1 / issue 18, must show: an emergency request from an unverified sender
// (a look-alike of the Garda's domain) cannot be disclosed until a
// verification through the directory is recorded as confirmed;
// "unreachable" keeps it blocked.
func TestClause2_1_EmergencyFromAnUnverifiedSenderIsDisclosedOnlyAfterADirectoryVerification(t *testing.T) {
	e := vStart(t)
	id, decision, opened := e.proposed(gardaEmergency("d.murphy@garda-ie.com"))
	if !hasFlag(opened, assessmentv1.FlagCode_FLAG_CODE_UNVERIFIED_REQUESTER, "email domain is not a known email domain of ie-garda") {
		t.Fatalf("flags %v: want UNVERIFIED_REQUESTER naming the look-alike domain", opened.GetFlags())
	}
	for _, f := range opened.GetFlags() {
		if strings.Contains(f.GetExplanation(), "murphy") {
			t.Errorf("flag %v quotes the sender's address", f)
		}
	}
	_, err := e.approve(id, decision)
	wantRefused(t, "approval before any verification", err, "2.1", "REQUESTER_NOT_VERIFIED")

	c, err := e.verify.GetVerificationContacts(e.ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if c.GetAuthorityId() != "ie-garda" || c.GetContacts()[0].GetChannel() != "phone" || c.GetVerification().GetSenderVerified() {
		t.Fatalf("contacts %v: want the Garda's directory contacts, phone first, sender unverified", c)
	}
	for _, k := range c.GetContacts() {
		if strings.Contains(k.GetValue(), "garda-ie.com") {
			t.Errorf("contact %v comes from the request, not the directory", k)
		}
	}

	e.callBack(id, assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_UNREACHABLE)
	_, err = e.approve(id, decision)
	wantRefused(t, "approval with the authority unreachable", err, "2.1", "REQUESTER_NOT_VERIFIED")

	v := e.callBack(id, assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED).GetVerification()
	if v.GetVerifiedBy() != approver || v.GetVerifyTime() == nil || !strings.HasPrefix(v.GetChannelId(), "phone:") {
		t.Errorf("verification %v: want who, when and the channel", v)
	}
	got, err := e.approve(id, decision)
	if err != nil || got.GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_DECIDED {
		t.Fatalf("approval after the confirmed verification: %v, %v", got.GetStatus(), err)
	}
}

// 2.1 / issue 18, must show: "forged" lapses the pending disclosure and
// leaves only a reject, opens a security incident, and flags the authority
// so its next request, even from its own domain, is flagged too.
func TestClause2_1_ForgedRequestLeadsToRejectOnlyAndASecurityIncident(t *testing.T) {
	e := vStart(t)
	id, _, _ := e.proposed(gardaEmergency("d.murphy@garda-ie.com"))
	res := e.callBack(id, assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_FORGED)
	if res.GetVerification().GetIncidentId() == "" || res.GetCase().GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_IN_REVIEW || res.GetCase().GetDecision() != nil {
		t.Fatalf("after forged: incident %q, status %s, decision %v: want an incident and the proposal lapsed",
			res.GetVerification().GetIncidentId(), res.GetCase().GetStatus(), res.GetCase().GetDecision())
	}
	_, err := e.alice.Decide(e.ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
		LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM, Scope: &assessmentv1.Scope{All: true}})
	wantRefused(t, "a disclosure of a forged request", err, "2.1", "REQUESTER_FORGED")
	_, err = e.alice.Decide(e.ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_CHALLENGE, Grounds: "challenge it"})
	wantRefused(t, "a challenge of a forged request", err, "2.1", "REQUESTER_FORGED")
	dec, err := e.alice.Decide(e.ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "the Garda confirmed the request is forged"})
	if err != nil || dec.GetCase().GetStatus() != assessmentv1.CaseStatus_CASE_STATUS_DECIDED {
		t.Fatalf("reject: %v, %v", dec.GetCase().GetStatus(), err)
	}

	// The next request in the Garda's name comes from its own domain: it is
	// flagged all the same, and needs a call back before any disclosure.
	eventually(t, func() error {
		e.submitted++
		sub, err := e.member.Submit(e.ctx, &intakev1.SubmitRequest{IdempotencyKey: fmt.Sprintf("%s-next-%d", e.keyPrefix, e.submitted), Request: gardaEmergency("duty.officer@garda.ie")})
		if err != nil {
			return err
		}
		var c *assessmentv1.Case
		eventually(t, func() error {
			r, err := e.alice.GetCase(e.ctx, &assessmentv1.GetCaseRequest{RequestId: sub.GetRequestId()})
			c = r.GetCase()
			return err
		})
		if !hasFlag(c, assessmentv1.FlagCode_FLAG_CODE_UNVERIFIED_REQUESTER, "confirmed forged") {
			return fmt.Errorf("flags %v: the flagged authority's next request is not flagged", c.GetFlags())
		}
		return nil
	})
}

// Issue 18: a forgery found after the data left is a personal-data breach;
// its clocks are set as deadlines with their rule and source: each
// controller customer told without undue delay, the supervisory authority
// within 72 hours.
func TestClause2_2_ForgeryFoundAfterADisclosureOpensABreachWithItsClocks(t *testing.T) {
	e := vStart(t)
	r := gardaEmergency("duty.officer@garda.ie")
	id, decision, _ := e.proposed(r)
	e.callBack(id, assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED)
	if _, err := e.approve(id, decision); err != nil {
		t.Fatalf("approve: %v", err)
	}
	untilCleared(t, e.ctx, e.plan, id)
	_, err := e.record.RecordDisposition(e.ctx, &reportingv1.RecordDispositionRequest{RequestId: id, Kind: disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)})
	if err != nil {
		t.Fatalf("record the disclosure: %v", err)
	}
	// The assessment sees reporting's record before the forgery is found.
	eventually(t, func() error {
		c, err := e.verify.GetVerificationContacts(e.ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id})
		if err != nil {
			return err
		}
		if !c.GetVerification().GetDataDisclosed() {
			return fmt.Errorf("the disclosure is not folded yet")
		}
		return nil
	})
	// Later the Garda says it never sent it (a second verification).
	c, err := e.verify.GetVerificationContacts(e.ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.verify.RecordVerification(e.ctx, &assessmentv1.RecordVerificationRequest{RequestId: id, ChannelId: c.GetContacts()[0].GetChannelId(),
		Outcome: assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_FORGED, Note: "the account that sent it was compromised"})
	if err != nil {
		t.Fatalf("forged after disclosure: %v", err)
	}
	v := res.GetVerification()
	if v.GetIncidentId() == "" {
		t.Fatal("no incident")
	}
	ids := map[string]*assessmentv1.BreachDeadline{}
	for _, d := range v.GetBreachDeadlines() {
		ids[d.GetId()] = d
	}
	sa := ids["breach/supervisory-authority"]
	if sa == nil || sa.GetCounting() != "hours" || sa.GetN() != 72 || sa.GetSource() == "" || sa.GetClause() == "" ||
		!sa.GetDueTime().AsTime().Equal(sa.GetStartTime().AsTime().Add(72*time.Hour)) {
		t.Errorf("supervisory authority deadline %v: want 72 hours with its source", sa)
	}
}

// fromTheBKA makes r come from an authority the directory knows (the BKA,
// e-mailing from its own domain): an emergency disclosure takes effect only
// after a call back through the directory (issue 18), which needs one.
func fromTheBKA(r *intakev1.DataDisclosureRequest) {
	r.Authority = &intakev1.Authority{Name: "Bundeskriminalamt", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "DE"}
	r.Channel, r.SenderAddress = intakev1.Channel_CHANNEL_EMAIL, "ermittlungen@bka.bund.de"
}

// confirmRequester records a confirmed call back through the directory's
// first contact of the request's authority, for tests whose emergency
// disclosure is not about issue 18.
func confirmRequester(ctx context.Context, v assessmentv1.VerificationServiceClient, id string) func() error {
	return func() error {
		c, err := v.GetVerificationContacts(ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id})
		if err != nil {
			return err
		}
		if len(c.GetContacts()) == 0 {
			return fmt.Errorf("no directory contacts for %s", c.GetAuthorityId())
		}
		_, err = v.RecordVerification(ctx, &assessmentv1.RecordVerificationRequest{RequestId: id, ChannelId: c.GetContacts()[0].GetChannelId(),
			Outcome: assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED})
		return err
	}
}
