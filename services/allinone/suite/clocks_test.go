package suite_test

// Issue 18's legal clocks over gRPC against the real all-in-one: an EPOC
// whose issuing authority notified the enforcing authority (Art. 8 of
// Regulation 2023/1543) is taken through review and clearance; its
// disclosure is refused before the end of the 10 days until the enforcing
// authority's confirmation is recorded, then allowed.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// arStartProc is arStart (safeguards_assessment_reporting_test.go) that
// also returns the process, to dial the ClocksService; kept apart so the
// two files merge without touching each other.
func arStartProc(t *testing.T) (*arEnv, *runnertest.Proc) {
	dpa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(dpa.Close)
	contacts := filepath.Join(t.TempDir(), "contacts.json")
	js := fmt.Sprintf(`{"from": "privacy@ddr.example", "reply_contact": "privacy@ddr.example",
  "lead_dpa": {"name": "DPC-IE", "webhooks": [{"url": %q, "secret": "test-secret"}]}}`, dpa.URL+"/in")
	if err := os.WriteFile(contacts, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := suite.DefaultConfig()
	cfg.Notification.ContactsFile = contacts
	p := runnertest.Start(t, runnertest.Options{Staff: arStaff()}, cfg.Build)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	as := func(who string) assessmentv1.AssessmentServiceClient {
		return assessmentv1.NewAssessmentServiceClient(p.Dial(t, who))
	}
	rs := func(who string) reportingv1.ReportingServiceClient {
		return reportingv1.NewReportingServiceClient(p.Dial(t, who))
	}
	return &arEnv{
		t: t, ctx: ctx,
		member: intakev1.NewIntakeServiceClient(p.Dial(t, member)),
		alice:  as(reviewer), bob: as(approver), carol: as(arCarol), dana: as(arDana), erin: as(arErin),
		plan:   notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer)),
		record: rs(reviewer), legal: rs(arCarol), legal2: rs(arDana), rev: rs(arErin),
	}, p
}

func TestArt8_Regulation2023_1543_DisclosureBeforeTheTenDaysIsRefusedUntilTheEnforcingAuthorityConfirms(t *testing.T) {
	e, p := arStartProc(t)
	clocks := assessmentv1.NewClocksServiceClient(p.Dial(t, reviewer))

	r := arDemand(1, intakev1.DataCategory_DATA_CATEGORY_CONTENT)
	r.LegalProcess = &intakev1.LegalProcess{
		Type:                       intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_EUROPEAN_PRODUCTION_ORDER,
		Reference:                  "EPOC 2026/77",
		EnforcingAuthorityNotified: true,
	}
	id := e.open("epoc-enforcing-notified", r, false)
	e.cleared(id, disclose(id, compelling, allScope))

	ds, err := clocks.ListDeadlines(e.ctx, &assessmentv1.ListDeadlinesRequest{RequestId: id})
	if err != nil {
		t.Fatalf("ListDeadlines: %v", err)
	}
	var wait *assessmentv1.Deadline
	for _, d := range ds.GetDeadlines() {
		if d.GetDeadline().GetId() == "epoc/enforcing-authority-wait" {
			wait = d.GetDeadline()
		}
	}
	if wait == nil {
		t.Fatalf("no enforcing authority's waiting period among %v", ds.GetDeadlines())
	}

	err = e.dispose(id, disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_CONTENT))
	e.refused("a disclosure before the end of the 10 days", err, "2.1", "TRANSMISSION_BEFORE_PERMITTED")
	pv, _ := grpcstatus.PolicyViolationFrom(err)
	permitted := wait.GetDueTime().AsTime().UTC().Format("2006-01-02T15:04:05Z07:00")
	if !strings.Contains(pv.Reason+err.Error(), "Art. 8 of Regulation 2023/1543") || !strings.Contains(err.Error(), permitted) {
		t.Fatalf("the refusal names the article and when transmission is permitted (%s): %v", permitted, err)
	}

	if _, err := clocks.RecordEnforcingAuthorityConfirmation(e.ctx, &assessmentv1.RecordEnforcingAuthorityConfirmationRequest{RequestId: id}); err != nil {
		t.Fatalf("RecordEnforcingAuthorityConfirmation: %v", err)
	}
	e.ok("the disclosure once the enforcing authority confirmed", func() error {
		return e.dispose(id, disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_CONTENT))
	})
	// The disclosure meets the transmission deadline.
	eventually(t, func() error {
		ds, err := clocks.ListDeadlines(e.ctx, &assessmentv1.ListDeadlinesRequest{RequestId: id})
		if err != nil {
			return err
		}
		for _, d := range ds.GetDeadlines() {
			if d.GetDeadline().GetId() == "epoc/transmit" && d.GetStatus() == assessmentv1.DeadlineStatus_DEADLINE_STATUS_MET {
				return nil
			}
		}
		return errNotYet("transmission deadline met")
	})
}

type errNotYet string

func (e errNotYet) Error() string { return "not yet: " + string(e) }
