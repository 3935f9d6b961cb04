package service_test

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/internal/smtptest"
	"github.com/ddrsuite/ddr/services/notification/service"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

const (
	targetValue = "acct-7781-alice" // personal data: only the customer notice may carry it
	custEmail   = "legal@cust.example"
	dpaEmail    = "consult@dpc.example"
)

// writeFile writes data to a file of the test's temporary directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dialer connects to addr as a caller named by a SPIFFE URI (the dev
// identity header).
func dialer(t *testing.T, addr string) func(uri string) notificationv1.NotificationServiceClient {
	return func(uri string) notificationv1.NotificationServiceClient {
		t.Helper()
		id, err := auth.ParseSPIFFE(uri)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpcclient.Dial(addr, grpcclient.WithDevIdentity(id))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return notificationv1.NewNotificationServiceClient(conn)
	}
}

// TestClause4_2_1_EndToEndHoldConsultRedirectDeclinedNoticeDeliveredCleared
// drives a request from a country without adequacy about a customer's data
// through the running service: hold, DPA consultation packet by e-mail,
// consultation outcome proposed and confirmed by a second person over gRPC, redirect declined over gRPC, customer
// notice delivered to a real SMTP server, cleared.
func TestClause4_2_1_EndToEndHoldConsultRedirectDeclinedNoticeDeliveredCleared(t *testing.T) {
	ctx := t.Context()
	// The notices travel over STARTTLS, verified with the development CA
	// given as a CA file.
	serverTLS, _, caPEM, err := smtptest.DevTLS()
	if err != nil {
		t.Fatal(err)
	}
	smtpSrv, err := smtptest.StartWith(smtptest.Options{TLS: serverTLS})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(smtpSrv.Down)
	caFile := writeFile(t, "ca.pem", caPEM)
	logs := &testkit.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	nenv := natstest.Start(t)
	if err := eventstore.EnsureStreams(ctx, nenv.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	store := eventstore.NewStore(nenv.JS, eventstore.WithLogger(logger))
	deps := runner.Deps{NC: nenv.Conn, JS: nenv.JS, Store: store, Logger: logger, Replicas: 1}
	contacts := app.Contacts{
		From:         "privacy@corp.example",
		ReplyContact: "privacy@corp.example",
		Customers:    map[string]app.Endpoints{"cust-42": {Emails: []string{custEmail}}},
		LeadDPA:      app.DPA{Name: "DPC-IE", Endpoints: app.Endpoints{Emails: []string{dpaEmail}}},
	}
	comp, err := service.New(ctx, deps, service.Config{Contacts: &contacts, SMTPAddr: smtpSrv.Addr(), SMTPTLS: app.SMTPTLSStartTLS, TLSCAFile: caFile, SweepInterval: time.Hour, LeaseTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// The authorization policy gives each caller their roles: the second
	// person's role is checked by the domain (issue 15).
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
	dial := dialer(t, lis.Addr().String())
	staff, err := auth.ParseSPIFFE("spiffe://ddr.local/staff/priya")
	if err != nil {
		t.Fatal(err)
	}
	client := dial(staff.URI)
	second := dial("spiffe://ddr.local/staff/lena")

	// Intake and assessment, as they would write to the record.
	const id = "req-e2e"
	received := time.Now().Add(-time.Hour).UTC()
	if _, err := store.Append(ctx, id, 0,
		eventstore.Event{Service: "intake", Name: "received", Payload: &intakev1.RequestReceived{
			RequestId: id, GroupMember: "spiffe://ddr.local/group-member/acme-cn",
			Request: &intakev1.DataDisclosureRequest{
				ReceivedAt: timestamppb.New(received), Channel: intakev1.Channel_CHANNEL_LETTER,
				Authority:      &intakev1.Authority{Name: "Example Municipal Police", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "CN"},
				LegalProcess:   &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_SEARCH_WARRANT, Reference: "SW-88"},
				Targets:        []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: targetValue, Ref: "t1"}},
				CustomerId:     "cust-42",
				DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_CONTENT},
			},
		}},
		eventstore.Event{Service: "assessment", Name: "decided", Payload: &assessmentv1.AssessmentDecided{
			RequestId: id,
			Decision: &assessmentv1.Decision{DecisionId: "dec-1", Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
				LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Status: assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE},
			Requirements: &assessmentv1.NotificationRequirements{CustomerIsController: true, CustomerId: "cust-42", AuthorityCountry: "CN", ReceiveTime: timestamppb.New(received)},
		}},
	); err != nil {
		t.Fatal(err)
	}

	getPlan := func() *notificationv1.Plan {
		t.Helper()
		r, err := client.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
		if err != nil {
			t.Fatalf("GetPlan: %v", err)
		}
		return r.GetPlan()
	}
	waitFor := func(what string, ok func(p *notificationv1.Plan) bool) *notificationv1.Plan {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			r, err := client.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
			if err == nil && ok(r.GetPlan()) {
				return r.GetPlan()
			}
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s (last error %v, plan %v)", what, err, r.GetPlan())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	delivered := func(p *notificationv1.Plan, k notificationv1.StepKind) bool {
		for _, d := range p.GetDeliveries() {
			if d.GetStep() == k && !d.GetFailed() {
				return true
			}
		}
		return false
	}

	// The reactor holds the request and the worker sends the DPA packet.
	p := waitFor("the DPA consultation packet", func(p *notificationv1.Plan) bool {
		return delivered(p, notificationv1.StepKind_STEP_KIND_NOTIFY_DPA)
	})
	if p.GetStatus() != notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD {
		t.Fatalf("status = %v, want ON_HOLD", p.GetStatus())
	}
	holds, err := client.ListHolds(ctx, &notificationv1.ListHoldsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(holds.GetHolds()) != 1 || holds.GetHolds()[0].GetRequestId() != id || holds.GetHolds()[0].GetAge() == nil || holds.GetHolds()[0].GetCountry() != "CN" {
		t.Fatalf("ListHolds = %v, want this request with its age", holds.GetHolds())
	}
	packets := smtpSrv.To(dpaEmail)
	if len(packets) != 1 || !strings.Contains(packets[0].Data, id) || !strings.Contains(packets[0].Data, "SW-88") {
		t.Fatalf("DPA packets = %d, want 1 naming the request and its legal basis", len(packets))
	}
	if strings.Contains(packets[0].Data, targetValue) {
		t.Error("the DPA packet carries a target identifier")
	}
	if !packets[0].TLS {
		t.Error("the DPA packet was accepted without TLS")
	}

	// Nothing lifts the hold but the lead DPA's recorded answer.
	_, err = client.LiftHold(ctx, &notificationv1.LiftHoldRequest{RequestId: id})
	if pv, ok := grpcserver.PolicyViolationFrom(err); status.Code(err) != codes.FailedPrecondition || !ok || pv.Clause != "4.2.1" {
		t.Fatalf("LiftHold before consultation: %v, want FAILED_PRECONDITION citing 4.2.1", err)
	}
	// One person's outcome lifts nothing: the old one-person call refuses,
	// a proposal waits for a second person, and its recorder cannot be it.
	_, err = client.RecordDpaConsultation(ctx, &notificationv1.RecordDpaConsultationRequest{
		RequestId: id, Authority: "DPC-IE", Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_NO_OBJECTION, Summary: "no objection given the warrant",
	})
	if pv, ok := grpcserver.PolicyViolationFrom(err); status.Code(err) != codes.FailedPrecondition || !ok || pv.Rule != "NEEDS_TWO_PEOPLE" {
		t.Fatalf("RecordDpaConsultation by one person: %v, want FAILED_PRECONDITION NEEDS_TWO_PEOPLE", err)
	}
	prop, err := client.ProposeConsultationOutcome(ctx, &notificationv1.ProposeConsultationOutcomeRequest{
		RequestId: id, Authority: "DPC-IE", Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_NO_OBJECTION, Summary: "no objection given the warrant",
		ReplyReference: "DPC-2026-991", ReplyTime: timestamppb.Now(),
	})
	if err != nil {
		t.Fatalf("ProposeConsultationOutcome: %v", err)
	}
	if prop.GetPlan().GetHoldLiftTime() != nil || prop.GetLiftId() == "" {
		t.Fatalf("after a proposal alone: hold lifted at %v, lift %q; want still held, a lift to confirm", prop.GetPlan().GetHoldLiftTime(), prop.GetLiftId())
	}
	if _, err := client.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: prop.GetLiftId()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("the recorder confirming its own outcome: %v, want FAILED_PRECONDITION", err)
	}
	cr, err := second.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: prop.GetLiftId()})
	if err != nil {
		t.Fatalf("ConfirmLift by a second person: %v", err)
	}
	if cr.GetPlan().GetHoldLiftTime() == nil || cr.GetPlan().GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED {
		t.Fatalf("after consultation: hold lifted %v, status %v; want lifted, not cleared (no customer notice yet)", cr.GetPlan().GetHoldLiftTime(), cr.GetPlan().GetStatus())
	}
	if !proto.Equal(cr.GetPlan().GetConsultations()[0], getPlan().GetConsultations()[0]) {
		t.Error("the plan folded from the stream differs from the one the command decided on")
	}
	if len(smtpSrv.To(custEmail)) != 0 {
		t.Fatal("customer notified before the authority answered the redirect request (4.1.1)")
	}

	// The authority declines to go to the customer: the notice goes out, and
	// with it the last blocker.
	if _, err := client.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{
		RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED,
	}); err != nil {
		t.Fatalf("RecordRedirectOutcome: %v", err)
	}
	p = waitFor("clearance", func(p *notificationv1.Plan) bool {
		return p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED
	})
	if len(p.GetBlockers()) != 0 || !delivered(p, notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER) {
		t.Fatalf("cleared with blockers %v or without a delivered notice", p.GetBlockers())
	}
	notices := smtpSrv.To(custEmail)
	if len(notices) != 1 || !strings.Contains(notices[0].Data, targetValue) || !strings.Contains(notices[0].Data, "SW-88") {
		t.Fatalf("customer notices = %d, want 1 with the request's details and identifiers", len(notices))
	}
	if !notices[0].TLS {
		t.Error("the customer notice was accepted without TLS")
	}
	h, err := store.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range h.Events {
		if ev.Service == app.Service {
			names = append(names, ev.Name)
			if ev.Name == "redirect_outcome_recorded" && ev.Actor != staff.URI {
				t.Errorf("redirect outcome actor = %q, want the staff member", ev.Actor)
			}
		}
	}
	want := []string{"plan_derived", "hold_placed", "notice_delivered", "consultation_outcome_proposed", "lift_confirmed", "hold_lifted", "redirect_outcome_recorded", "notice_delivered", "cleared"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("record = %v, want %v", names, want)
	}
	if strings.Contains(logs.String(), targetValue) {
		t.Error("a target identifier reached the logs")
	}
}

func TestCommandsNeedAStaffIdentityAndValidInput(t *testing.T) {
	ctx := t.Context()
	nenv := natstest.Start(t)
	if err := eventstore.EnsureStreams(ctx, nenv.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	deps := runner.Deps{NC: nenv.Conn, JS: nenv.JS, Store: eventstore.NewStore(nenv.JS), Logger: slog.Default(), Replicas: 1}
	comp, err := service.New(ctx, deps, service.Config{LeadDPA: "DPC-IE", LeaseTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := grpcserver.New(grpcserver.Config{ServiceNames: comp.GRPCServiceNames(), DevIdentityHeader: true})
	if err != nil {
		t.Fatal(err)
	}
	comp.RegisterGRPC(srv.GRPC())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Shutdown(t.Context()) })
	dial := dialer(t, lis.Addr().String())
	member := dial("spiffe://ddr.local/group-member/acme")
	_, err = member.LiftHold(ctx, &notificationv1.LiftHoldRequest{RequestId: "r-1"})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("group member LiftHold: %v, want PERMISSION_DENIED", err)
	}
	staff := dial("spiffe://ddr.local/staff/priya")
	_, err = staff.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: "r-1"})
	if fv := grpcserver.FieldViolationsFrom(err); status.Code(err) != codes.InvalidArgument || len(fv) == 0 || fv[0].Field != "outcome" {
		t.Errorf("missing outcome: %v, want INVALID_ARGUMENT on outcome", err)
	}
	_, err = staff.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: "r-unknown"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("GetPlan of an unknown request: %v, want NOT_FOUND", err)
	}
}
