package service_test

import (
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/adapters"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/service"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

// A customer reachable only by webhook, with the service's own webhook
// client (no test override) over https: the notice is signed, delivered
// once and the request cleared. Guards the wiring of the default client, which once
// crashed the process on the first webhook delivery.
func TestClause4_1_2_NoticeByWebhookWithTheDefaultClient(t *testing.T) {
	ctx := t.Context()
	const secret = "whsec-test-0123456789"
	var posts, packets atomic.Int32
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := adapters.VerifyWebhook([]byte(secret), body, r.Header.Get(adapters.SignatureHeader), time.Now(), adapters.DefaultSignatureTolerance); err != nil {
			t.Errorf("webhook signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/dpa" {
			packets.Add(1)
		} else {
			posts.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	// https, verified: the receiver's certificate is trusted through the
	// CA file, as an operator's own CA would be.
	caFile := writeFile(t, "hook-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hook.Certificate().Raw}))

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	nenv := natstest.Start(t)
	if err := eventstore.EnsureStreams(ctx, nenv.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	store := eventstore.NewStore(nenv.JS, eventstore.WithLogger(logger))
	contacts := app.Contacts{
		From:         "privacy@corp.example",
		ReplyContact: "privacy@corp.example",
		Customers:    map[string]app.Endpoints{"cust-7": {Webhooks: []app.Webhook{{URL: hook.URL, Secret: secret}}}},
		// 2.2: the lead DPA is notified of the disclosure to an adequate
		// country too, here by webhook.
		LeadDPA: app.DPA{Name: "DPC-IE", Endpoints: app.Endpoints{Webhooks: []app.Webhook{{URL: hook.URL + "/dpa", Secret: secret}}}},
	}
	comp, err := service.New(ctx, runner.Deps{NC: nenv.Conn, JS: nenv.JS, Store: store, Logger: logger, Replicas: 1},
		service.Config{Contacts: &contacts, TLSCAFile: caFile, SweepInterval: time.Hour, LeaseTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := grpcserver.New(grpcserver.Config{Logger: logger, ServiceNames: comp.GRPCServiceNames(), DevIdentityHeader: true})
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
	staff, _ := auth.ParseSPIFFE("spiffe://ddr.local/staff/priya")
	conn, err := grpcclient.Dial(lis.Addr().String(), grpcclient.WithDevIdentity(staff))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := notificationv1.NewNotificationServiceClient(conn)

	const id = "req-webhook"
	received := time.Now().Add(-time.Hour).UTC()
	if _, err := store.Append(ctx, id, 0,
		eventstore.Event{Service: "intake", Name: "received", Payload: &intakev1.RequestReceived{
			RequestId: id, GroupMember: "spiffe://ddr.local/group-member/acme-eu",
			Request: &intakev1.DataDisclosureRequest{
				ReceivedAt: timestamppb.New(received), Channel: intakev1.Channel_CHANNEL_EMAIL,
				Authority:  &intakev1.Authority{Name: "Polizei", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "DE"},
				Targets:    []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-1", Ref: "t1"}},
				CustomerId: "cust-7",
			},
		}},
		eventstore.Event{Service: "assessment", Name: "decided", Payload: &assessmentv1.AssessmentDecided{
			RequestId: id,
			Decision: &assessmentv1.Decision{DecisionId: "dec-1", Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
				LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Status: assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE},
			Requirements: &assessmentv1.NotificationRequirements{CustomerIsController: true, CustomerId: "cust-7", AuthorityCountry: "DE", CountryAdequate: true, ReceiveTime: timestamppb.New(received)},
		}},
	); err != nil {
		t.Fatal(err)
	}
	waitPlan := func(what string, ok func(*notificationv1.Plan) bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			r, err := client.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
			if err == nil && ok(r.GetPlan()) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s (last error %v, plan %v)", what, err, r.GetPlan())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitPlan("the plan", func(*notificationv1.Plan) bool { return true })
	if _, err := client.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{
		RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED,
	}); err != nil {
		t.Fatalf("RecordRedirectOutcome: %v", err)
	}
	waitPlan("clearance", func(p *notificationv1.Plan) bool {
		return p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED
	})
	if n := posts.Load(); n != 1 {
		t.Errorf("webhook received %d signed notices, want 1", n)
	}
	if n := packets.Load(); n != 1 {
		t.Errorf("the lead DPA's webhook received %d signed packets, want 1 (2.2)", n)
	}
}
