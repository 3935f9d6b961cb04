package suite_test

// Issue 16, notification: the authority's withdrawal stops every pending
// step, over gRPC against the real all-in-one (embedded JetStream, mTLS,
// the authorization policy). The suite's notices go by webhook; the same
// flow against a real SMTP server is notification's service test
// (services/notification/service/lifecycle_test.go), and so are the
// flows that need assessment's CaseReopened, appended there directly
// until assessment produces it.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/notification/app"
)

func TestClause2_1_WithdrawalBeforeTheNoticeStopsEveryStepAndDisclosureIsRefused(t *testing.T) {
	var notices, packets, outcomes atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Kind string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.URL.Path == "/customer":
			notices.Add(1)
		case r.URL.Path == "/dpa" && body.Kind == app.KindDPAOutcome:
			outcomes.Add(1) // issue 21: the DPA is told how the request ended
		case r.URL.Path == "/dpa":
			packets.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	contacts := app.Contacts{From: "privacy@corp.example", ReplyContact: "privacy@corp.example",
		LeadDPA:   app.DPA{Name: "DPC-IE", Endpoints: app.Endpoints{Webhooks: []app.Webhook{{URL: hook.URL + "/dpa", Secret: "dpa-webhook-secret"}}}},
		Customers: map[string]app.Endpoints{"cust-42": {Webhooks: []app.Webhook{{URL: hook.URL + "/customer", Secret: "customer-webhook-secret"}}}},
	}
	p, ctx := startEnv(t, envOptions{contacts: &contacts, configure: func(cfg *suite.Config) { cfg.Notification.SweepInterval = 50 * time.Millisecond }})
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))

	req := request(time.Now().Add(-2 * time.Hour))
	req.CustomerId = "cust-42"
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "lifecycle-withdrawn", Request: req})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetRequestId()
	decideDisclosure(t, ctx, assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer)), assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver)), id)
	plan := func(what string, ok func(*notificationv1.Plan) bool) *notificationv1.Plan {
		t.Helper()
		var last *notificationv1.Plan
		eventually(t, func() error {
			res, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
			if err != nil {
				return err
			}
			if last = res.GetPlan(); !ok(last) {
				return errWaiting(what, last)
			}
			return nil
		})
		return last
	}
	// The DPA is notified; the customer notice waits for the authority's
	// answer to the redirect request.
	plan("the DPA packet", func(p *notificationv1.Plan) bool { return len(p.GetDeliveries()) > 0 })

	// The group member reports the withdrawal.
	if _, err := in.Withdraw(ctx, &intakev1.WithdrawRequest{RequestId: id, Reason: "the investigation was closed"}); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	got := plan("the steps stopped", func(p *notificationv1.Plan) bool {
		return p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_WITHDRAWN
	})
	for _, s := range got.GetSteps() {
		if k := s.GetKind(); (k == notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER || k == notificationv1.StepKind_STEP_KIND_ASK_AUTHORITY_TO_REDIRECT) &&
			s.GetStatus() != notificationv1.StepStatus_STEP_STATUS_STOPPED {
			t.Fatalf("%v is %v after the withdrawal, want stopped", k, s.GetStatus())
		}
	}
	// The answer that would open the notice is refused, and so is the
	// disclosure, naming the withdrawal.
	_, err = no.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED})
	refused(t, "a redirect answer after the withdrawal", err, "2.1", "STEPS_STOPPED")
	_, err = no.CheckDisclosure(ctx, &notificationv1.CheckDisclosureRequest{RequestId: id})
	refused(t, "a disclosure after the withdrawal", err, "2.1", "DISCLOSURE_BLOCKED")
	if !strings.Contains(err.Error(), "withdrew") {
		t.Fatalf("the refusal does not name the withdrawal: %v", err)
	}
	// A forced delivery round sends nothing either.
	if _, err := no.RetryDelivery(ctx, &notificationv1.RetryDeliveryRequest{RequestId: id}); err != nil {
		t.Fatal(err)
	}
	plan("a sweep after the retry, the DPA told of the withdrawal", func(p *notificationv1.Plan) bool {
		for _, d := range p.GetDeliveries() {
			if d.GetStep() == notificationv1.StepKind_STEP_KIND_NOTIFY_DPA_OUTCOME && d.GetRequestEnd() == "withdrawn" {
				return p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_WITHDRAWN
			}
		}
		return false
	})
	if n := notices.Load(); n != 0 {
		t.Fatalf("%d customer notices went out after the withdrawal", n)
	}
	if packets.Load() != 1 || outcomes.Load() != 1 {
		t.Fatalf("%d DPA packets and %d outcome notices, want the packet sent before the withdrawal and the notice of it", packets.Load(), outcomes.Load())
	}
}

type waitingErr struct {
	what string
	p    *notificationv1.Plan
}

func (e waitingErr) Error() string {
	return "waiting for " + e.what + " (status " + e.p.GetStatus().String() + ")"
}

func errWaiting(what string, p *notificationv1.Plan) error { return waitingErr{what, p} }
