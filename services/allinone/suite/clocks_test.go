package suite_test

// Issue 18's legal clocks over gRPC against the real all-in-one: an EPOC
// whose issuing authority notified the enforcing authority (Art. 8 of
// Regulation 2023/1543) is taken through review and clearance; its
// disclosure is refused before the end of the 10 days until the enforcing
// authority's confirmation is recorded, then allowed.

import (
	"strings"
	"testing"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
)

func TestArt8_Regulation2023_1543_DisclosureBeforeTheTenDaysIsRefusedUntilTheEnforcingAuthorityConfirms(t *testing.T) {
	e := arStart(t)
	clocks := assessmentv1.NewClocksServiceClient(e.p.Dial(t, reviewer))

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
