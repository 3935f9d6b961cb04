package suite_test

// Issue 15, notification: safeguards no single person can lift, over gRPC
// against the real all-in-one (embedded JetStream, mTLS, the authorization
// policy giving each caller their roles).

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// The people of these tests: alice (reviewer) proposes decisions, bob
// (approver) approves them, carol and dave are legal, erin is a reviewer
// who is also legal (so that the decision's proposer holds the role a lift
// needs, and only the proposer rule can refuse her).
const (
	sgCarol = "spiffe://ddr.local/staff/carol"
	sgDave  = "spiffe://ddr.local/staff/dave"
	sgErin  = "spiffe://ddr.local/staff/erin"
	sgLead  = "DPC-IE"
)

type sgOptions struct {
	// leadHook: the lead DPA takes packets by webhook; otherwise it has no
	// address and its packet goes out only by a confirmed manual dispatch.
	leadHook bool
	// others are further DPAs, without addresses.
	others       []string
	adequacyFile string
	customers    bool // cust-42 takes notices by webhook
}

type sgEnv struct {
	p       *runnertest.Proc
	t       *testing.T
	ctx     context.Context
	in      intakev1.IntakeServiceClient
	as      map[string]assessmentv1.AssessmentServiceClient
	no      map[string]notificationv1.NotificationServiceClient
	verify  assessmentv1.VerificationServiceClient // issue 18, as bob
	packets *atomic.Int32
	// skew moves notification's clock forward (a consultation period).
	skew *atomic.Int64
}

func startSafeguards(t *testing.T, o sgOptions) *sgEnv {
	t.Helper()
	var packets atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dpa" {
			packets.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	contacts := app.Contacts{From: "privacy@corp.example", ReplyContact: "privacy@corp.example", LeadDPA: app.DPA{Name: sgLead}}
	if o.leadHook {
		contacts.LeadDPA.Webhooks = []app.Webhook{{URL: hook.URL + "/dpa", Secret: "dpa-webhook-secret"}}
	}
	for _, d := range o.others {
		contacts.OtherDPAs = append(contacts.OtherDPAs, app.DPA{Name: d})
	}
	if o.customers {
		contacts.Customers = map[string]app.Endpoints{"cust-42": {Webhooks: []app.Webhook{{URL: hook.URL + "/customer", Secret: "customer-webhook-secret"}}}}
	}
	var skew atomic.Int64
	staff := authz.Staff{
		"alice": {authz.Reviewer}, "bob": {authz.Approver}, "carol": {authz.Legal},
		"dave": {authz.Legal}, "erin": {authz.Reviewer, authz.Legal},
	}
	p, ctx := startEnv(t, envOptions{staff: staff, contacts: &contacts, adequacyFile: o.adequacyFile, configure: func(cfg *suite.Config) {
		cfg.Notification.SweepInterval = 50 * time.Millisecond
		cfg.Notification.ConsultationPeriod = 30 * 24 * time.Hour
		cfg.Notification.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	}})
	e := &sgEnv{p: p, t: t, ctx: ctx, in: intakev1.NewIntakeServiceClient(p.Dial(t, member)), packets: &packets, skew: &skew,
		as: map[string]assessmentv1.AssessmentServiceClient{}, no: map[string]notificationv1.NotificationServiceClient{}}
	for _, who := range []string{reviewer, approver, sgCarol, sgDave, sgErin} {
		conn := p.Dial(t, who)
		e.as[who] = assessmentv1.NewAssessmentServiceClient(conn)
		e.no[who] = notificationv1.NewNotificationServiceClient(conn)
	}
	e.verify = assessmentv1.NewVerificationServiceClient(p.Dial(t, approver))
	return e
}

// submit has the member submit a request received two hours ago, changed
// by mod (nil: as it is); it returns the request id and the request.
func (e *sgEnv) submit(key string, mod func(*intakev1.DataDisclosureRequest)) (string, *intakev1.DataDisclosureRequest) {
	e.t.Helper()
	req := request(time.Now().Add(-2 * time.Hour))
	if mod != nil {
		mod(req)
	}
	sub, err := e.in.Submit(e.ctx, &intakev1.SubmitRequest{IdempotencyKey: key, Request: req})
	if err != nil {
		e.t.Fatalf("Submit %s: %v", key, err)
	}
	return sub.GetRequestId(), req
}

// disclose submits a request and has proposer decide to disclose it, bob
// approving; it returns the request id once notification has its plan.
func (e *sgEnv) disclose(key, proposer string, mod func(*intakev1.DataDisclosureRequest)) string {
	e.t.Helper()
	id, req := e.submit(key, mod)
	var verify []func() error
	if req.GetEmergency().GetClaimed() || req.GetEmergency().GetImminentRiskOfSeriousHarm() {
		verify = append(verify, confirmRequester(e.ctx, e.verify, id)) // issue 18
	}
	decideDisclosure(e.t, e.ctx, e.as[proposer], e.as[approver], id, verify...)
	e.plan(id, "the plan", func(*notificationv1.Plan) error { return nil })
	return id
}

// plan waits until ok accepts the request's plan, and returns it.
func (e *sgEnv) plan(id, what string, ok func(*notificationv1.Plan) error) *notificationv1.Plan {
	e.t.Helper()
	var p *notificationv1.Plan
	eventually(e.t, func() error {
		res, err := e.no[approver].GetPlan(e.ctx, &notificationv1.GetPlanRequest{RequestId: id})
		if err != nil {
			return err
		}
		p = res.GetPlan()
		if err := ok(p); err != nil {
			return fmt.Errorf("%s: %w (status %v, blockers %v)", what, err, p.GetStatus(), p.GetBlockers())
		}
		return nil
	})
	return p
}

func sgStep(p *notificationv1.Plan, k notificationv1.StepKind) *notificationv1.Step {
	for _, s := range p.GetSteps() {
		if s.GetKind() == k {
			return s
		}
	}
	return &notificationv1.Step{}
}

func stepIs(k notificationv1.StepKind, want notificationv1.StepStatus) func(*notificationv1.Plan) error {
	return func(p *notificationv1.Plan) error {
		if got := sgStep(p, k).GetStatus(); got != want {
			return fmt.Errorf("%v is %v, want %v", k, got, want)
		}
		return nil
	}
}

func planIs(want notificationv1.PlanStatus) func(*notificationv1.Plan) error {
	return func(p *notificationv1.Plan) error {
		if p.GetStatus() != want {
			return fmt.Errorf("plan is %v, want %v", p.GetStatus(), want)
		}
		return nil
	}
}

// refused checks err is a policy refusal citing clause with rule (rule
// empty: any).
func refused(t *testing.T, what string, err error, clause, rule string) {
	t.Helper()
	pv, ok := grpcstatus.PolicyViolationFrom(err)
	if status.Code(err) != codes.FailedPrecondition || !ok || pv.Clause != clause || (rule != "" && pv.Rule != rule) {
		t.Fatalf("%s: %v, want FAILED_PRECONDITION citing %s %s", what, err, clause, rule)
	}
}

func gagged(r *intakev1.DataDisclosureRequest) {
	r.CustomerId = "cust-42"
	r.Gag = &intakev1.Gag{Present: true, Reference: "NDO-2026-7"}
}

func TestClause4_1_2_ExemptionNeedsAGagOrAnImminentRiskBasis(t *testing.T) {
	e := startSafeguards(t, sgOptions{leadHook: true})
	carol := e.no[sgCarol]
	exempt := func(id, reason, statute, why string) (*notificationv1.ProposeExemptionResponse, error) {
		return carol.ProposeExemption(e.ctx, &notificationv1.ProposeExemptionRequest{
			RequestId: id, Step: notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER, Reason: reason,
			Basis: "the notice would be unlawful or defeat the purpose", EvidenceReference: "REF-1", Statute: statute, WhyNoticeDefeats: why,
		})
	}

	// No gag, no risk claimed, a compelling obligation: neither ground.
	plain := e.disclose("sg-exempt-plain", reviewer, func(r *intakev1.DataDisclosureRequest) { r.CustomerId = "cust-42" })
	_, err := exempt(plain, "PROHIBITED", "", "")
	refused(t, "\"prohibited\" without a gag or a statute", err, "4.1.2", "EXEMPTION_WITHOUT_PROHIBITION")
	_, err = exempt(plain, "IMMINENT_RISK", "", "the subject would flee")
	refused(t, "\"imminent risk\" without a finding", err, "4.1.2", "EXEMPTION_WITHOUT_RISK_FINDING")
	// A statute legal cites is a recorded prohibition too.
	if _, err := exempt(plain, "PROHIBITED", "Investigatory Powers Act s. 57", ""); err != nil {
		t.Fatalf("\"prohibited\" on a cited statute: %v", err)
	}

	// A recorded gag order allows "prohibited".
	gag := e.disclose("sg-exempt-gag", reviewer, gagged)
	res, err := exempt(gag, "PROHIBITED", "", "")
	if err != nil || res.GetLiftId() == "" {
		t.Fatalf("\"prohibited\" on a recorded gag: %v (lift %q)", err, res.GetLiftId())
	}

	// The authority's claim of imminent risk is a finding; the exemption
	// still needs why prior notice would defeat it.
	risk := e.disclose("sg-exempt-risk", reviewer, func(r *intakev1.DataDisclosureRequest) {
		r.CustomerId = "cust-42"
		r.Emergency = &intakev1.Emergency{Claimed: true, HarmDescribed: "a threat to life described in the order", ImminentRiskOfSeriousHarm: true}
		fromTheBKA(r) // issue 18: an emergency is disclosed after a call back through the directory
	})
	_, err = exempt(risk, "IMMINENT_RISK", "", "")
	refused(t, "\"imminent risk\" without why notice defeats it", err, "4.1.2", "EXEMPTION_WITHOUT_RISK_FINDING")
	if _, err := exempt(risk, "IMMINENT_RISK", "", "the customer's administrator is the suspect"); err != nil {
		t.Fatalf("\"imminent risk\" on the authority's claim: %v", err)
	}
}

func TestClause4_1_2_ExemptionNeedsASecondPersonWithTheLegalRole(t *testing.T) {
	e := startSafeguards(t, sgOptions{leadHook: true})
	// erin (reviewer and legal) proposes the disclosure decision.
	id := e.disclose("sg-second-person", sgErin, gagged)
	prop, err := e.no[sgCarol].ProposeExemption(e.ctx, &notificationv1.ProposeExemptionRequest{
		RequestId: id, Step: notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER, Reason: "PROHIBITED",
		Basis: "the order forbids telling the customer", EvidenceReference: "NDO-2026-7",
	})
	if err != nil {
		t.Fatal(err)
	}
	// The proposer alone lifts nothing.
	if s := sgStep(prop.GetPlan(), notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER).GetStatus(); s != notificationv1.StepStatus_STEP_STATUS_REQUIRED {
		t.Fatalf("notice step %v after one person's exemption, want REQUIRED", s)
	}
	if ls := prop.GetPlan().GetLifts(); len(ls) != 1 || ls[0].GetId() != prop.GetLiftId() || ls[0].GetConfirmedBy() != "" || !slices.Contains(ls[0].GetConfirmRoles(), "legal") {
		t.Fatalf("lifts = %v, want the one pending lift, legal to confirm", ls)
	}
	confirm := func(who string) error {
		_, err := e.no[who].ConfirmLift(e.ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: prop.GetLiftId()})
		return err
	}
	refused(t, "the recorder confirming", confirm(sgCarol), "4.1.2", "LIFT_CONFIRMED_BY_RECORDER")
	refused(t, "an approver without the legal role confirming", confirm(approver), "4.1.2", "LIFT_CONFIRMER_LACKS_ROLE")
	refused(t, "the decision's proposer confirming, though legal", confirm(sgErin), "4.1.2", "LIFT_CONFIRMED_BY_PROPOSER")
	if err := confirm(reviewer); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a reviewer confirming: %v, want PERMISSION_DENIED", err)
	}
	e.plan(id, "still owed", stepIs(notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER, notificationv1.StepStatus_STEP_STATUS_REQUIRED))

	// A second person with the legal role: now the notice is exempt.
	if err := confirm(sgDave); err != nil {
		t.Fatalf("a second legal person confirming: %v", err)
	}
	p := e.plan(id, "exempted", stepIs(notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER, notificationv1.StepStatus_STEP_STATUS_SKIPPED))
	if l := p.GetLifts()[0]; l.GetConfirmedBy() != sgDave || l.GetRecordedBy() != sgCarol {
		t.Errorf("lift recorded by %q confirmed by %q, want carol and dave", l.GetRecordedBy(), l.GetConfirmedBy())
	}
}

func TestClause4_2_1_ConsultationOutcomeNeedsADeliveredPacketAndASecondPerson(t *testing.T) {
	// The lead DPA has no address: its packet goes out only by hand.
	e := startSafeguards(t, sgOptions{})
	id := e.disclose("sg-consult", reviewer, func(r *intakev1.DataDisclosureRequest) { r.Authority.Country = "CN" })
	e.plan(id, "held", planIs(notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD))
	outcome := func(who string) (*notificationv1.ProposeConsultationOutcomeResponse, error) {
		return e.no[who].ProposeConsultationOutcome(e.ctx, &notificationv1.ProposeConsultationOutcomeRequest{
			RequestId: id, Authority: sgLead, Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_NO_OBJECTION,
			Summary: "no objection", ReplyReference: "DPC-2026-118", ReplyTime: timestamppb.Now(),
		})
	}
	_, err := outcome(approver)
	refused(t, "an outcome before any packet went out", err, "4.2.1", "CONSULTATION_WITHOUT_PACKET")

	// A manual dispatch counts as sent only once a second person confirms.
	d, err := e.no[approver].ProposeManualDispatch(e.ctx, &notificationv1.ProposeManualDispatchRequest{
		RequestId: id, Authority: sgLead, Means: notificationv1.DispatchMeans_DISPATCH_MEANS_PORTAL, Reference: "PORTAL-4471", SentTime: timestamppb.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = outcome(approver)
	refused(t, "an outcome after an unconfirmed dispatch", err, "4.2.1", "CONSULTATION_WITHOUT_PACKET")
	if _, err := e.no[sgCarol].ConfirmLift(e.ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: d.GetLiftId()}); err != nil {
		t.Fatalf("confirming the dispatch: %v", err)
	}

	// The outcome now: one person's record keeps the hold.
	o, err := outcome(approver)
	if err != nil {
		t.Fatal(err)
	}
	if o.GetPlan().GetStatus() != notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD || o.GetPlan().GetHoldLiftTime() != nil {
		t.Fatalf("after one person's outcome: %v, want still ON_HOLD", o.GetPlan().GetStatus())
	}
	_, err = e.no[approver].ConfirmLift(e.ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: o.GetLiftId()})
	refused(t, "the recorder confirming the outcome", err, "4.2.1", "LIFT_CONFIRMED_BY_RECORDER")
	_, err = e.no[approver].LiftHold(e.ctx, &notificationv1.LiftHoldRequest{RequestId: id})
	refused(t, "lifting the hold on an unconfirmed outcome", err, "4.2.1", "HOLD_NEEDS_CONSULTATION")

	if _, err := e.no[sgCarol].ConfirmLift(e.ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: o.GetLiftId()}); err != nil {
		t.Fatalf("a second person confirming the outcome: %v", err)
	}
	p := e.plan(id, "cleared", planIs(notificationv1.PlanStatus_PLAN_STATUS_CLEARED))
	if p.GetHoldLiftTime() == nil || sgStep(p, notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA).GetStatus() != notificationv1.StepStatus_STEP_STATUS_DONE {
		t.Fatalf("hold %v, step %v; want lifted and done", p.GetHoldLiftTime(), sgStep(p, notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA))
	}
}

func TestClause4_2_1_NoReplyAfterTheConsultationPeriodIsATwoPersonOutcome(t *testing.T) {
	e := startSafeguards(t, sgOptions{leadHook: true})
	id := e.disclose("sg-no-reply", reviewer, func(r *intakev1.DataDisclosureRequest) { r.Authority.Country = "CN" })
	e.plan(id, "the packet sent", stepIs(notificationv1.StepKind_STEP_KIND_NOTIFY_DPA, notificationv1.StepStatus_STEP_STATUS_DONE))
	noReply := func() (*notificationv1.ProposeConsultationOutcomeResponse, error) {
		return e.no[approver].ProposeConsultationOutcome(e.ctx, &notificationv1.ProposeConsultationOutcomeRequest{
			RequestId: id, Authority: sgLead, Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_NO_RESPONSE,
		})
	}
	_, err := noReply()
	refused(t, "\"no reply\" before the consultation period ran", err, "4.2.1", "NO_REPLY_BEFORE_PERIOD")

	// Thirty-one days on, the DPA has not answered.
	e.skew.Store(int64(31 * 24 * time.Hour))
	o, err := noReply()
	if err != nil {
		t.Fatalf("\"no reply\" after the period: %v", err)
	}
	_, err = e.no[approver].LiftHold(e.ctx, &notificationv1.LiftHoldRequest{RequestId: id})
	refused(t, "lifting the hold on one person's \"no reply\"", err, "4.2.1", "HOLD_NEEDS_CONSULTATION")
	// "No reply" takes legal to confirm, not just a second person.
	if _, err := e.no[sgCarol].ConfirmLift(e.ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: o.GetLiftId()}); err != nil {
		t.Fatalf("legal confirming \"no reply\": %v", err)
	}
	if _, err := e.no[approver].LiftHold(e.ctx, &notificationv1.LiftHoldRequest{RequestId: id}); err != nil {
		t.Fatalf("lifting the hold on the confirmed \"no reply\": %v", err)
	}
	e.plan(id, "cleared", planIs(notificationv1.PlanStatus_PLAN_STATUS_CLEARED))

	// The same with an approver as the second person is refused.
	other := e.disclose("sg-no-reply-2", reviewer, func(r *intakev1.DataDisclosureRequest) { r.Authority.Country = "CN" })
	e.plan(other, "the packet sent", stepIs(notificationv1.StepKind_STEP_KIND_NOTIFY_DPA, notificationv1.StepStatus_STEP_STATUS_DONE))
	e.skew.Store(int64(62 * 24 * time.Hour))
	o2, err := e.no[sgCarol].ProposeConsultationOutcome(e.ctx, &notificationv1.ProposeConsultationOutcomeRequest{
		RequestId: other, Authority: sgLead, Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_NO_RESPONSE,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.no[approver].ConfirmLift(e.ctx, &notificationv1.ConfirmLiftRequest{RequestId: other, LiftId: o2.GetLiftId()})
	refused(t, "an approver confirming \"no reply\"", err, "4.2.1", "LIFT_CONFIRMER_LACKS_ROLE")
}

func TestClause2_2_AdequateCountryStillNotifiesTheCompetentDPA(t *testing.T) {
	// The lead DPA takes packets by webhook; CNIL, also competent, has no
	// address.
	e := startSafeguards(t, sgOptions{leadHook: true, others: []string{"CNIL"}})
	id := e.disclose("sg-adequate", reviewer, nil) // Germany: adequate
	p := e.plan(id, "the lead DPA's packet", func(p *notificationv1.Plan) error {
		for _, d := range p.GetDeliveries() {
			if d.GetStep() == notificationv1.StepKind_STEP_KIND_NOTIFY_DPA && d.GetRecipient() == sgLead && !d.GetFailed() {
				return nil
			}
		}
		return fmt.Errorf("no packet delivered to %s", sgLead)
	})
	if s := sgStep(p, notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA); s.GetSkipReason() != "COUNTRY_ADEQUATE" {
		t.Errorf("hold step %v, want skipped COUNTRY_ADEQUATE: an adequate country owes no hold", s)
	}
	if got := p.GetAuthorities(); !slices.Equal(got, []string{sgLead, "CNIL"}) {
		t.Errorf("competent authorities %v, want the lead and CNIL", got)
	}
	if e.packets.Load() < 1 {
		t.Error("the lead DPA's webhook received no packet")
	}
	// CNIL has not been notified: the request does not clear, and the
	// disclosure is refused on 2.2.
	p = e.plan(id, "2.2 blocks", stepIs(notificationv1.StepKind_STEP_KIND_NOTIFY_DPA, notificationv1.StepStatus_STEP_STATUS_REQUIRED))
	if p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED {
		t.Fatal("cleared before every competent DPA was notified")
	}
	_, err := e.no[approver].CheckDisclosure(e.ctx, &notificationv1.CheckDisclosureRequest{RequestId: id})
	refused(t, "disclosure before CNIL was notified", err, "2.2", "DISCLOSURE_BLOCKED")

	// The packet to CNIL by post, recorded by one and confirmed by another.
	d, err := e.no[reviewer].ProposeManualDispatch(e.ctx, &notificationv1.ProposeManualDispatchRequest{
		RequestId: id, Authority: "CNIL", Means: notificationv1.DispatchMeans_DISPATCH_MEANS_POST, Reference: "RR-1234-FR", SentTime: timestamppb.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.no[approver].ConfirmLift(e.ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: d.GetLiftId()}); err != nil {
		t.Fatal(err)
	}
	e.plan(id, "cleared", planIs(notificationv1.PlanStatus_PLAN_STATUS_CLEARED))
	if _, err := e.no[approver].CheckDisclosure(e.ctx, &notificationv1.CheckDisclosureRequest{RequestId: id}); err != nil {
		t.Errorf("disclosure once every DPA was notified: %v", err)
	}
}

func TestClause4_2_1_AdequacyLostBeforeDisclosurePlacesAHold(t *testing.T) {
	// A registry in which Japan's adequacy ends today: a request received
	// three days ago is judged adequate at receipt, and not at clearance.
	today := time.Now().UTC().Format(time.DateOnly)
	registry := fmt.Sprintf(`{"note": "test registry", "entries": [
		{"country": "DE", "name": "Germany", "basis": "eea", "scope": "general", "from": "1958-01-01", "source": "EU member state"},
		{"country": "IE", "name": "Ireland", "basis": "eea", "scope": "general", "from": "1973-01-01", "source": "EU member state"},
		{"country": "JP", "name": "Japan", "basis": "adequacy_decision", "scope": "general", "from": "2019-01-23", "until": %q, "source": "a decision struck down (test)"}
	]}`, today)
	path := filepath.Join(t.TempDir(), "adequacy.json")
	if err := os.WriteFile(path, []byte(registry), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startSafeguards(t, sgOptions{leadHook: true, adequacyFile: path})
	id := e.disclose("sg-adequacy-lost", reviewer, func(r *intakev1.DataDisclosureRequest) {
		r.ReceivedAt = timestamppb.New(time.Now().Add(-72 * time.Hour))
		r.Authority.Country = "JP"
	})
	// Once the packet is out nothing else blocks, so clearance judges
	// adequacy again: lost, the plan is re-made with a hold.
	p := e.plan(id, "held after adequacy was lost", planIs(notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD))
	if p.GetInputs().GetAdequacy().GetAdequate() {
		t.Errorf("adequacy %v, want not adequate as judged today", p.GetInputs().GetAdequacy())
	}
	if s := sgStep(p, notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA).GetStatus(); s != notificationv1.StepStatus_STEP_STATUS_REQUIRED {
		t.Errorf("hold step %v, want REQUIRED", s)
	}
	if p.GetClearTime() != nil {
		t.Error("cleared although adequacy was lost")
	}
	_, err := e.no[approver].CheckDisclosure(e.ctx, &notificationv1.CheckDisclosureRequest{RequestId: id})
	pv, ok := grpcstatus.PolicyViolationFrom(err)
	if !ok || !slices.Contains(pv.Clauses, "4.2.1") {
		t.Fatalf("disclosure after adequacy was lost: %v, want refused citing 4.2.1", err)
	}
}

func TestClause4_1_2_RefusalNamesEveryBlockingClause(t *testing.T) {
	// No address for the lead DPA nor the customer; a gag; a country
	// without adequacy: the notice, the DPA notice, the hold, the waiver
	// efforts and the redirect request all block.
	e := startSafeguards(t, sgOptions{})
	id := e.disclose("sg-every-clause", reviewer, func(r *intakev1.DataDisclosureRequest) {
		gagged(r)
		r.Authority.Country = "CN"
	})
	e.plan(id, "held", planIs(notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD))
	_, err := e.no[approver].CheckDisclosure(e.ctx, &notificationv1.CheckDisclosureRequest{RequestId: id})
	pv, ok := grpcstatus.PolicyViolationFrom(err)
	if status.Code(err) != codes.FailedPrecondition || !ok {
		t.Fatalf("CheckDisclosure: %v, want FAILED_PRECONDITION", err)
	}
	for _, c := range []string{"4.1.1", "4.1.2", "4.2.1", "4.2.2", "2.2"} {
		if !slices.Contains(pv.Clauses, c) {
			t.Errorf("refusal names %v, lacks %s", pv.Clauses, c)
		}
	}
	// Most specific first: the general 2.2 comes after the clauses that
	// say what to do.
	if pv.Clause == "2.2" || pv.Clauses[len(pv.Clauses)-1] != "2.2" {
		t.Errorf("clauses %v (first %s), want 2.2 last", pv.Clauses, pv.Clause)
	}
	st, _ := status.FromError(err)
	if !strings.Contains(st.Message(), "4.2.2") {
		t.Errorf("message %q does not explain the 4.2.2 blocker", st.Message())
	}
}

// dispatchLeadPacket records, for the suites without DPA addresses, the lead
// DPA's packet (2.2) as sent by portal: bob records it once the plan
// exists, carol (legal) confirms it.
func dispatchLeadPacket(t *testing.T, ctx context.Context, p *runnertest.Proc, id string) {
	t.Helper()
	var lift string
	eventually(t, func() error {
		res, err := notificationv1.NewNotificationServiceClient(p.Dial(t, approver)).ProposeManualDispatch(ctx, &notificationv1.ProposeManualDispatchRequest{
			RequestId: id, Authority: sgLead, Means: notificationv1.DispatchMeans_DISPATCH_MEANS_PORTAL, Reference: "PORTAL-" + id, SentTime: timestamppb.Now()})
		lift = res.GetLiftId()
		return err
	})
	must(t, "confirm the dispatch", func() error {
		_, err := notificationv1.NewNotificationServiceClient(p.Dial(t, sgCarol)).ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: lift})
		return err
	})
}

// 2.2: the competent authorities are found per request from data: the
// lead authority under the BCR plus the authority competent for the
// controller customer, by the country of its establishment, without
// any configured "others". A customer established in France brings CNIL
// in; the same request without the establishment does not.
func TestClause2_2_TheControllerCustomersEstablishmentNamesItsCompetentDPA(t *testing.T) {
	e := startSafeguards(t, sgOptions{})
	withFR := e.disclose("sg-establishment-fr", reviewer, func(r *intakev1.DataDisclosureRequest) {
		r.CustomerId, r.CustomerEstablishment = "cust-fr-1", "FR"
	})
	p := e.plan(withFR, "the authorities", func(p *notificationv1.Plan) error {
		if len(p.GetAuthorities()) == 0 {
			return fmt.Errorf("no authorities yet")
		}
		return nil
	})
	if got := p.GetAuthorities(); !slices.Equal(got, []string{sgLead, "CNIL"}) {
		t.Errorf("competent authorities %v, want the lead and CNIL (the customer's establishment)", got)
	}
	without := e.disclose("sg-establishment-none", reviewer, func(r *intakev1.DataDisclosureRequest) {
		r.CustomerId = "cust-2"
	})
	p = e.plan(without, "the authorities", func(p *notificationv1.Plan) error {
		if len(p.GetAuthorities()) == 0 {
			return fmt.Errorf("no authorities yet")
		}
		return nil
	})
	if got := p.GetAuthorities(); !slices.Equal(got, []string{sgLead}) {
		t.Errorf("competent authorities %v, want the lead only", got)
	}
	// An establishment without a customer, or not a country, is refused
	// at intake with the field named.
	_, err := e.in.Submit(e.ctx, &intakev1.SubmitRequest{IdempotencyKey: "sg-establishment-bad", Request: func() *intakev1.DataDisclosureRequest {
		r := request(time.Now().Add(-time.Hour))
		r.CustomerId, r.CustomerEstablishment = "", "FR"
		return r
	}()})
	if v := grpcstatus.FieldViolationsFrom(err); len(v) == 0 || v[0].Field != "request.customer_establishment" {
		t.Errorf("establishment without a customer: %v, want a violation of request.customer_establishment", err)
	}
}
