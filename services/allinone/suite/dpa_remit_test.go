package suite_test

// Issue 21, clause 5.1, across the services: the DPA packet notification
// delivers names the DPA in an unsealed field, which puts the request in
// that DPA's remit in reporting; the DPA then reads the record copy
// without staff opening it, and another DPA gets NOT_FOUND.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

func TestClause5_1_TheDPANotifiedByNotificationReadsTheCopyAnotherDPADoesNot(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(hook.Close)
	signingKey := filepath.Join(t.TempDir(), "secrets", keys.SigningKeyFileName)
	if _, err := keys.NewSigningKeyFile(signingKey, "ddr-test-transparency"); err != nil {
		t.Fatal(err)
	}
	cfg := suite.DefaultConfig()
	cfg.Reporting.SigningKeyFile = signingKey
	cfg.Notification.Contacts = &app.Contacts{From: "privacy@corp.example", ReplyContact: "privacy@corp.example",
		LeadDPA: app.DPA{Name: "DPC-IE", Endpoints: app.Endpoints{Webhooks: []app.Webhook{{URL: hook.URL + "/dpa", Secret: "dpa-webhook-secret"}}}}}
	cfg.Notification.SweepInterval = 50 * time.Millisecond
	p := runnertest.Start(t, runnertest.Options{}, cfg.Build)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
	dpc := reportingv1.NewReportingServiceClient(p.Dial(t, "spiffe://ddr.local/dpa/dpc-ie"))
	cnil := reportingv1.NewReportingServiceClient(p.Dial(t, "spiffe://ddr.local/dpa/cnil"))

	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "dpa-remit-notified", Request: request(time.Now().Add(-2 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetRequestId()
	// Before any packet, the request is outside every DPA's remit.
	if _, err := dpc.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: id}); status.Code(err) != codes.NotFound {
		t.Fatalf("a DPA not yet notified: %v, want NOT_FOUND", err)
	}
	decideDisclosure(t, ctx, assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer)), assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver)), id)
	eventually(t, func() error {
		res, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
		if err != nil {
			return err
		}
		for _, d := range res.GetPlan().GetDeliveries() {
			if d.GetStep() == notificationv1.StepKind_STEP_KIND_NOTIFY_DPA && !d.GetFailed() && d.GetDpa() == "DPC-IE" {
				return nil
			}
		}
		return errWaiting("the DPA packet", res.GetPlan())
	})
	// Reporting folds the delivery a moment later.
	eventually(t, func() error {
		_, err := dpc.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: id})
		return err
	})
	if _, err := cnil.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: id}); status.Code(err) != codes.NotFound {
		t.Fatalf("another DPA: %v, want NOT_FOUND", err)
	}
}
