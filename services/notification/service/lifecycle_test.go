package service_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/notification/internal/smtptest"
	"github.com/ddrsuite/ddr/services/notification/service"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

const otherCustEmail = "legal@other-cust.example"

// lifecycleEnv is notification running on embedded JetStream with a real
// SMTP server and gRPC on loopback; intake and assessment are played by
// appending their declared events to the record.
type lifecycleEnv struct {
	t      *testing.T
	ctx    context.Context
	store  *eventstore.Store
	smtp   *smtptest.Server
	comp   *service.Component
	client notificationv1.NotificationServiceClient
	addr   string
}

func startLifecycle(t *testing.T) *lifecycleEnv {
	t.Helper()
	ctx := t.Context()
	smtpSrv, err := smtptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(smtpSrv.Down)
	logger := slog.New(slog.NewTextHandler(&testkit.LogBuffer{}, nil))
	nenv := natstest.Start(t)
	if err := eventstore.EnsureStreams(ctx, nenv.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	store := eventstore.NewStore(nenv.JS, eventstore.WithLogger(logger))
	deps := runner.Deps{NC: nenv.Conn, JS: nenv.JS, Store: store, Logger: logger, Replicas: 1}
	contacts := app.Contacts{
		From: "privacy@corp.example", ReplyContact: "privacy@corp.example",
		Customers: map[string]app.Endpoints{"cust-42": {Emails: []string{custEmail}}, "cust-77": {Emails: []string{otherCustEmail}}},
		LeadDPA:   app.DPA{Name: "DPC-IE", Endpoints: app.Endpoints{Emails: []string{dpaEmail}}},
	}
	comp, err := service.New(ctx, deps, service.Config{Contacts: &contacts, SMTPAddr: smtpSrv.Addr(), SMTPTLS: app.SMTPTLSNone, SweepInterval: time.Hour, LeaseTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := authz.New("ddr.local", authz.Staff{"priya": {authz.Reviewer, authz.Approver}, "lena": {authz.Legal}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := grpcserver.New(grpcserver.Config{Logger: logger, ServiceNames: comp.GRPCServiceNames(), DevIdentityHeader: true, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	comp.RegisterGRPC(srv.GRPC())
	if err := comp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(comp.Stop)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	return &lifecycleEnv{t: t, ctx: ctx, store: store, smtp: smtpSrv, comp: comp,
		client: dialer(t, lis.Addr().String())("spiffe://ddr.local/staff/priya"), addr: lis.Addr().String()}
}

// appendEvents appends other services' events to the request's record,
// as they would.
func (e *lifecycleEnv) appendEvents(id string, evs ...eventstore.Event) {
	e.t.Helper()
	// Notification writes to the same record: a conflict is retried.
	testkit.EventuallyNoError(e.t, func() error {
		h, err := e.store.Load(e.ctx, id)
		if err != nil {
			return err
		}
		_, err = e.store.Append(e.ctx, id, h.LastSeq, evs...)
		return err
	})
}

func received(id string, at time.Time) eventstore.Event {
	return eventstore.Event{Service: "intake", Name: "received", Payload: &intakev1.RequestReceived{
		RequestId: id, GroupMember: "spiffe://ddr.local/group-member/acme-de",
		Request: &intakev1.DataDisclosureRequest{
			ReceivedAt: timestamppb.New(at), Channel: intakev1.Channel_CHANNEL_LETTER,
			Authority:    &intakev1.Authority{Name: "Example Police", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "DE"},
			LegalProcess: &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SEARCH_WARRANT, Reference: "SW-1"},
			Targets:      []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: targetValue, Ref: "t1"}},
			CustomerId:   "cust-42",
		},
	}}
}

// decided is a disclose decision from an adequate country (no hold);
// customers, when given, is the decision's list of customers.
func decided(id, decisionID string, at time.Time, customers ...*intakev1.Customer) eventstore.Event {
	return eventstore.Event{Service: "assessment", Name: "decided", Payload: &assessmentv1.AssessmentDecided{
		RequestId: id,
		Decision: &assessmentv1.Decision{DecisionId: decisionID, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Status: assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE},
		Requirements: &assessmentv1.NotificationRequirements{CustomerIsController: true, CustomerId: "cust-42", AuthorityCountry: "DE",
			ReceiveTime: timestamppb.New(at), Customers: customers},
	}}
}

// recorded counts the request's events of type T in the record.
func recorded[T any](t *testing.T, e *lifecycleEnv, id string) []T {
	t.Helper()
	h, err := e.store.Load(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, ev := range h.Events {
		if m, ok := ev.Payload.(T); ok {
			out = append(out, m)
		}
	}
	return out
}

func (e *lifecycleEnv) waitFor(id, what string, ok func(p *notificationv1.Plan) bool) *notificationv1.Plan {
	e.t.Helper()
	var last *notificationv1.Plan
	testkit.Eventually(e.t, what, func() bool {
		r, err := e.client.GetPlan(e.ctx, &notificationv1.GetPlanRequest{RequestId: id})
		last = r.GetPlan()
		return err == nil && ok(last)
	})
	return last
}

func deliveredTo(p *notificationv1.Plan, k notificationv1.StepKind) int {
	n := 0
	for _, d := range p.GetDeliveries() {
		if d.GetStep() == k && !d.GetFailed() {
			n++
		}
	}
	return n
}

func wantRefused(t *testing.T, err error, words string) {
	t.Helper()
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), words) {
		t.Fatalf("got %v, want FAILED_PRECONDITION naming %q", err, words)
	}
}

func TestClause2_1_WithdrawalBeforeTheNoticeNoNoticeReachesTheCustomerAndDisclosureIsRefused(t *testing.T) {
	e := startLifecycle(t)
	const id = "req-withdrawn"
	at := time.Now().Add(-time.Hour).UTC()
	e.appendEvents(id, received(id, at), decided(id, "D1", at))
	e.waitFor(id, "the DPA packet", func(p *notificationv1.Plan) bool {
		return deliveredTo(p, notificationv1.StepKind_STEP_KIND_NOTIFY_DPA) == 1
	})

	// The authority withdraws while the notice waits for its redirect
	// answer: the steps stop at once.
	e.appendEvents(id, eventstore.Event{Service: "intake", Name: "withdrawn", Payload: &intakev1.RequestWithdrawn{
		RequestId: id, Reason: "no longer needed", WithdrawTime: timestamppb.Now(), RecordedBy: "spiffe://ddr.local/staff/priya"}})
	p := e.waitFor(id, "the plan withdrawn", func(p *notificationv1.Plan) bool {
		return p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_WITHDRAWN
	})
	for _, s := range p.GetSteps() {
		if s.GetKind() == notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER && s.GetStatus() != notificationv1.StepStatus_STEP_STATUS_STOPPED {
			t.Fatalf("customer notice %v after the withdrawal", s.GetStatus())
		}
	}
	// The answer that would have opened the notice is refused, and the
	// worker, run now, sends nothing.
	_, err := e.client.RecordRedirectOutcome(e.ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED})
	wantRefused(t, err, "withdrew")
	if err := e.comp.Deliverer().Deliver(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := e.smtp.To(custEmail); len(got) != 0 {
		t.Fatalf("%d notices reached the customer after the withdrawal", len(got))
	}
	_, err = e.client.CheckDisclosure(e.ctx, &notificationv1.CheckDisclosureRequest{RequestId: id})
	wantRefused(t, err, "withdrew")
	// StepsStopped is in the record, once.
	h, err := e.store.Load(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range h.Events {
		if s, ok := ev.Payload.(*notificationv1.StepsStopped); ok && s.GetReason() == notificationv1.StopReason_STOP_REASON_WITHDRAWN {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d StepsStopped(WITHDRAWN) recorded, want 1", n)
	}
}

func TestClause4_1_2_TwoControllerCustomersGetTwoNotices(t *testing.T) {
	e := startLifecycle(t)
	const id = "req-two-customers"
	at := time.Now().Add(-time.Hour).UTC()
	e.appendEvents(id, received(id, at), decided(id, "D1", at,
		&intakev1.Customer{CustomerId: "cust-42", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER},
		// Unspecified reads as controller.
		&intakev1.Customer{CustomerId: "cust-77"}))
	e.waitFor(id, "the DPA packet", func(p *notificationv1.Plan) bool {
		return deliveredTo(p, notificationv1.StepKind_STEP_KIND_NOTIFY_DPA) == 1
	})

	_, err := e.client.RecordRedirectOutcome(e.ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("an answer naming no customer of two: %v, want INVALID_ARGUMENT", err)
	}
	for _, ref := range []string{"c1", "c2"} {
		if _, err := e.client.RecordRedirectOutcome(e.ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, CustomerRef: ref,
			Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED}); err != nil {
			t.Fatalf("redirect answer for %s: %v", ref, err)
		}
	}
	p := e.waitFor(id, "two notices and the clearance", func(p *notificationv1.Plan) bool {
		return deliveredTo(p, notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER) == 2 && p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED
	})
	refs := map[string]bool{}
	for _, d := range p.GetDeliveries() {
		if d.GetStep() == notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER {
			refs[d.GetCustomerRef()] = true
		}
	}
	if !refs["c1"] || !refs["c2"] {
		t.Fatalf("notices to %v, want c1 and c2", refs)
	}
	if rs := p.GetRedirects(); len(rs) != 2 || rs[0].GetCustomerRef() != "c1" || rs[1].GetCustomerRef() != "c2" {
		t.Fatalf("redirect answers %v, want one per customer", rs)
	}
	if len(e.smtp.To(custEmail)) != 1 || len(e.smtp.To(otherCustEmail)) != 1 {
		t.Fatalf("notices by mail: %d to the first customer, %d to the second; want one each", len(e.smtp.To(custEmail)), len(e.smtp.To(otherCustEmail)))
	}
}

func TestClause3_3_ReopenedCaseStopsTheStepsAndTheNewDecisionSupersedesThePlan(t *testing.T) {
	e := startLifecycle(t)
	const id = "req-reopened"
	at := time.Now().Add(-time.Hour).UTC()
	e.appendEvents(id, received(id, at), decided(id, "D1", at))
	e.waitFor(id, "the DPA packet", func(p *notificationv1.Plan) bool {
		return deliveredTo(p, notificationv1.StepKind_STEP_KIND_NOTIFY_DPA) == 1
	})
	reopened := eventstore.Event{Service: "assessment", Name: "reopened", Payload: &assessmentv1.CaseReopened{RequestId: id,
		Trigger: assessmentv1.ReopenTrigger_REOPEN_TRIGGER_AMENDED, SupersededDecisionId: "D1", ReopenTime: timestamppb.Now(), Reason: "amended"}}
	e.appendEvents(id, reopened)
	e.waitFor(id, "the plan waiting for a new decision", func(p *notificationv1.Plan) bool {
		return p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_AWAITING_DECISION
	})
	_, err := e.client.CheckDisclosure(e.ctx, &notificationv1.CheckDisclosureRequest{RequestId: id})
	wantRefused(t, err, "back to review")
	_, err = e.client.RecordRedirectOutcome(e.ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED})
	wantRefused(t, err, "back to review")

	e.appendEvents(id, decided(id, "D2", at))
	p := e.waitFor(id, "the new plan", func(p *notificationv1.Plan) bool {
		return p.GetDecisionId() == "D2" && p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_OPEN
	})
	// The packet sent under D1 counts: it is not sent again.
	for _, s := range p.GetSteps() {
		if s.GetKind() == notificationv1.StepKind_STEP_KIND_NOTIFY_DPA && s.GetStatus() != notificationv1.StepStatus_STEP_STATUS_DONE {
			t.Fatalf("DPA step %v under the new decision", s.GetStatus())
		}
	}
	if _, err := e.client.RecordRedirectOutcome(e.ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED}); err != nil {
		t.Fatal(err)
	}
	e.waitFor(id, "the notice and the clearance under D2", func(p *notificationv1.Plan) bool {
		return p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED
	})
	if n := len(e.smtp.To(dpaEmail)); n != 1 {
		t.Fatalf("%d DPA packets sent, want 1", n)
	}
}

// clock is a test clock the service reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestClause4_1_2_NoticeOwedAfterAnEmergencyDisclosureIsRecordedOverdueOnceByTheTicker(t *testing.T) {
	ctx := t.Context()
	logger := slog.New(slog.NewTextHandler(&testkit.LogBuffer{}, nil))
	nenv := natstest.Start(t)
	if err := eventstore.EnsureStreams(ctx, nenv.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	store := eventstore.NewStore(nenv.JS, eventstore.WithLogger(logger))
	clk := &clock{now: time.Now().UTC()}
	tick := make(chan time.Time)
	// The customer has no contact: the owed notice cannot go out.
	contacts := app.Contacts{From: "privacy@corp.example", ReplyContact: "privacy@corp.example", LeadDPA: app.DPA{Name: "DPC-IE"}}
	comp, err := service.New(ctx, runner.Deps{NC: nenv.Conn, JS: nenv.JS, Store: store, Logger: logger, Replicas: 1},
		service.Config{Contacts: &contacts, Now: clk.Now, Tick: tick, LeaseTTL: time.Minute, NoticeWindow: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := comp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(comp.Stop)
	a := comp.App()
	const id = "req-emergency"
	at := clk.Now().Add(-time.Hour)
	dec := decided(id, "D1", at)
	dec.Payload.(*assessmentv1.AssessmentDecided).Requirements.ImminentRiskClaimed = true
	dec.Payload.(*assessmentv1.AssessmentDecided).Requirements.ImminentRisk = true
	e := &lifecycleEnv{t: t, ctx: ctx, store: store}
	e.appendEvents(id, received(id, at), dec)
	testkit.EventuallyNoError(t, func() error { _, err := a.Get(ctx, id); return err })
	// The packet goes out by hand; prior notice is exempted by two people.
	md, err := a.ProposeManualDispatch(ctx, "spiffe://ddr.local/staff/priya", id, domain.ManualDispatch{Authority: "DPC-IE", Means: domain.DispatchPortal, Reference: "P-1", SentAt: at})
	if err != nil {
		t.Fatal(err)
	}
	lena := policy.Person{ID: "spiffe://ddr.local/staff/lena", Roles: []policy.Role{policy.RoleLegal, policy.RoleApprover}}
	if _, err := a.ConfirmLift(ctx, lena, id, md.LiftID); err != nil {
		t.Fatal(err)
	}
	r, err := a.ProposeExemption(ctx, "spiffe://ddr.local/staff/priya", id, domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipImminentRisk,
		Basis: "threat to life", Evidence: "finding-1", WhyNoticeDefeats: "the customer's staff may warn the suspect"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.ConfirmLift(ctx, lena, id, r.LiftID)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Plan.Cleared() {
		t.Fatalf("not cleared: %v", domain.Blockers(v.Plan, clk.Now()))
	}
	// Reporting records the disclosure: the notice's clock starts.
	e.appendEvents(id, eventstore.Event{Service: "reporting", Name: "disposition_recorded", Payload: &reportingv1.DispositionRecorded{RequestId: id,
		Disposition: &reportingv1.Disposition{Kind: &reportingv1.Disposition_Disclosure{Disclosure: &reportingv1.Disclosure{Accounts: 1}},
			RecordTime: timestamppb.New(clk.Now()), RecordedBy: "spiffe://ddr.local/staff/priya"}}})
	testkit.Eventually(t, "the owed notice's deadline", func() bool {
		g, err := a.Get(ctx, id)
		return err == nil && len(g.Plan.NoticeDeadlines()) == 1
	})
	overdue := func() int {
		h, err := store.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range h.Events {
			if _, ok := ev.Payload.(*notificationv1.NoticeOverdue); ok {
				n++
			}
		}
		return n
	}
	tick <- clk.Now()
	tick <- clk.Now() // the first sweep is done once the second is taken
	if n := overdue(); n != 0 {
		t.Fatalf("%d overdue before the due date", n)
	}
	clk.advance(49 * time.Hour)
	// The sweep finds its work in the index, which follows the record.
	testkit.Eventually(t, "the overdue notice recorded", func() bool {
		tick <- clk.Now()
		return overdue() > 0
	})
	if n := overdue(); n != 1 {
		t.Fatalf("%d NoticeOverdue recorded, want 1", n)
	}
	tick <- clk.Now()
	tick <- clk.Now()
	if n := overdue(); n != 1 {
		t.Fatalf("%d NoticeOverdue after more sweeps, want still 1", n)
	}
	g, err := a.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d := g.Plan.NoticeDeadlines(); d[0].Status != deadline.Overdue {
		t.Fatalf("deadline %+v", d[0])
	}
}

func TestClause4_2_1_TheLeadDPAsConfirmedObjectionIsRecordedAsDpaObjected(t *testing.T) {
	e := startLifecycle(t)
	const id = "req-objection"
	at := time.Now().Add(-2 * time.Hour).UTC()
	dec := decided(id, "D1", at)
	dec.Payload.(*assessmentv1.AssessmentDecided).Requirements.AuthorityCountry = "CN" // not adequate: a hold and a consultation
	e.appendEvents(id, received(id, at), dec)
	e.waitFor(id, "the DPA packet", func(p *notificationv1.Plan) bool {
		return deliveredTo(p, notificationv1.StepKind_STEP_KIND_NOTIFY_DPA) == 1
	})
	res, err := e.client.ProposeConsultationOutcome(e.ctx, &notificationv1.ProposeConsultationOutcomeRequest{RequestId: id, Authority: "DPC-IE",
		Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_OBJECTION, Summary: "objects to the transfer", ReplyReference: "DPC-R-1", ReplyTime: timestamppb.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if got := recorded[*notificationv1.DpaObjected](t, e, id); len(got) != 0 {
		t.Fatal("an objection proposed by one person was recorded as the DPA's objection")
	}
	lena := dialer(t, e.addr)("spiffe://ddr.local/staff/lena")
	if _, err := lena.ConfirmLift(e.ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: res.GetLiftId()}); err != nil {
		t.Fatal(err)
	}
	got := recorded[*notificationv1.DpaObjected](t, e, id)
	if len(got) != 1 || got[0].GetDecisionId() != "D1" || got[0].GetDpa() != "DPC-IE" {
		t.Fatalf("DpaObjected %v, want one for D1 by DPC-IE", got)
	}
}
