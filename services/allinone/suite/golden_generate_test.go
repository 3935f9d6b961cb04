package suite_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// GenerateGoldenEnv must be set to "write" for TestGenerateGoldenCorpus to
// run. The corpus records what older binaries wrote; regenerating it with
// a newer binary would erase that evidence, so the generator only ever
// writes to a fresh directory and is never run by make test.
const GenerateGoldenEnv = "DDR_GOLDEN_GENERATE"

// TestGenerateGoldenCorpus drives the real all-in-one through every path
// that writes an event type, then exports the stream and the data-key
// bucket. Run once, by hand:
//
//	DDR_GOLDEN_GENERATE=write DDR_GOLDEN_OUT=/tmp/golden go test -run TestGenerateGoldenCorpus ./suite/
//
// and add the files to testdata/golden only if it has none (never replace).
func TestGenerateGoldenCorpus(t *testing.T) {
	if os.Getenv(GenerateGoldenEnv) != "write" {
		t.Skipf("writes a new golden corpus; set %s=write (never over the committed one)", GenerateGoldenEnv)
	}
	out := os.Getenv("DDR_GOLDEN_OUT")
	if out == "" {
		t.Fatal("set DDR_GOLDEN_OUT to a directory outside testdata/golden")
	}
	if _, err := os.Stat(out + "/messages.json"); err == nil {
		t.Fatalf("%s already holds a corpus; the generator never overwrites one", out)
	}

	kek := make([]byte, 32)
	if _, err := rand.Read(kek); err != nil {
		t.Fatal(err)
	}
	kekText := base64.StdEncoding.EncodeToString(kek) + "\n"
	dataDir := t.TempDir()
	placeKEK(t, dataDir, kekText)

	// A customer and a DPA reachable by webhook. The first notice fails
	// (NoticeFailed), the retry is delivered (NoticeDelivered).
	var calls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	hooks := app.Endpoints{Webhooks: []app.Webhook{{URL: hook.URL, Secret: "golden-webhook-secret"}}}
	contacts := app.Contacts{
		From: "privacy@corp.example", ReplyContact: "privacy@corp.example",
		Customers: map[string]app.Endpoints{"cust-golden": hooks},
		LeadDPA:   app.DPA{Name: "DPC-IE", Endpoints: hooks},
	}
	// Assessment's clock, moved forward at the end to make a case overdue.
	var mu sync.Mutex
	var skew time.Duration
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(skew) }

	cfg := suite.DefaultConfig()
	cfg.Notification.Contacts = &contacts
	cfg.Notification.SweepInterval = 50 * time.Millisecond
	cfg.Notification.RetryBase = 50 * time.Millisecond
	cfg.Notification.RetryMax = 100 * time.Millisecond
	cfg.Assessment.CustomerNoticePeriod = 0
	cfg.Assessment.Now = now
	cfg.Assessment.OverdueInterval = 50 * time.Millisecond
	// Two approvals, so that the first is a DecisionApproved of its own.
	cfg.Assessment.RequiredApprovals = 2
	staff := runnertest.DevStaff()
	staff["dave"] = []authz.Role{authz.Approver}
	p := runnertest.Start(t, runnertest.Options{DataDir: dataDir, Staff: staff}, cfg.Build)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	legal := intakev1.NewIntakeServiceClient(p.Dial(t, callerOf["legal"]))
	alice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	bob := assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver))
	dave := assessmentv1.NewAssessmentServiceClient(p.Dial(t, "spiffe://ddr.local/staff/dave"))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
	noBob := notificationv1.NewNotificationServiceClient(p.Dial(t, approver))
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))
	reLegal := reportingv1.NewReportingServiceClient(p.Dial(t, callerOf["legal"]))

	received := time.Now().Add(-3 * time.Hour)
	request := func(country, customer string, gag bool) *intakev1.DataDisclosureRequest {
		r := &intakev1.DataDisclosureRequest{
			ReceivedAt: timestamppb.New(received), Channel: intakev1.Channel_CHANNEL_EMAIL,
			ReceivedBy:   "Golden Desk (Jane Roe)",
			Authority:    &intakev1.Authority{Name: "Golden Authority", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: country},
			LegalProcess: &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER, Reference: "GOLD-1/26", IssuingBody: "Golden Court"},
			Targets: []*intakev1.Target{
				{Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Value: "golden.subject@example.org"},
				{Kind: intakev1.TargetKind_TARGET_KIND_PHONE_NUMBER, Value: "+49 30 1234567"},
			},
			ScopeDescription: "the mailbox of John Golden",
			CustomerId:       customer,
			DataCategories:   []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
			TimeRange:        &intakev1.TimeRange{From: timestamppb.New(received.AddDate(0, -2, 0)), To: timestamppb.New(received.AddDate(0, 0, -1))},
			StatedPurpose:    "golden fraud investigation",
			Emergency:        &intakev1.Emergency{HarmDescribed: "none claimed"},
			Deadline:         timestamppb.New(received.AddDate(0, 0, 30)),
			Attachments:      []*intakev1.Attachment{{Uri: "https://files.example/golden.pdf", Sha256: "0000000000000000000000000000000000000000000000000000000000000000", MediaType: "application/pdf"}},
			Notes:            "called by Officer Golden",
		}
		if gag {
			r.Gag = &intakev1.Gag{Present: true, Reference: "GAG-1/26"}
		}
		return r
	}
	submit := func(key string, r *intakev1.DataDisclosureRequest) string {
		t.Helper()
		res, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: key, Request: r})
		if err != nil {
			t.Fatalf("submit %s: %v", key, err)
		}
		return res.GetRequestId()
	}
	review := func(id string) {
		t.Helper()
		eventually(t, func() error { _, err := alice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}); return err })
		must(t, "claim", func() error {
			_, err := alice.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id})
			return err
		})
		var factors []*assessmentv1.FactorAssessment
		for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
			factors = append(factors, &assessmentv1.FactorAssessment{Factor: f, Assessment: "golden: " + f.String()})
		}
		must(t, "factors", func() error {
			_, err := alice.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: factors, RightsAssessment: "John Golden's rights weighed"})
			return err
		})
		must(t, "challenge", func() error {
			_, err := alice.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: "valid order"})
			return err
		})
	}
	decide := func(id string) string {
		t.Helper()
		var did string
		must(t, "decide", func() error {
			res, err := alice.Decide(ctx, &assessmentv1.DecideRequest{
				RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
				LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION,
				Scope:      &assessmentv1.Scope{All: true}, Grounds: "golden grounds",
			})
			did = res.GetCase().GetDecision().GetDecisionId()
			return err
		})
		return did
	}
	approve := func(id, did string) {
		t.Helper()
		must(t, "approve", func() error {
			_, err := bob.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: did})
			return err
		})
		must(t, "second approval", func() error {
			_, err := dave.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: did})
			return err
		})
	}
	plan := func(id string, ok func(*notificationv1.Plan) error) {
		t.Helper()
		eventually(t, func() error {
			res, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
			if err != nil {
				return err
			}
			return ok(res.GetPlan())
		})
	}
	cleared := func(p *notificationv1.Plan) error {
		if p.GetStatus() != notificationv1.PlanStatus_PLAN_STATUS_CLEARED {
			return fmt.Errorf("plan %v, blockers %v", p.GetStatus(), p.GetBlockers())
		}
		return nil
	}
	derived := func(*notificationv1.Plan) error { return nil }

	// A: amended; counsel consulted; a decision rejected, a second approved;
	// the customer (controller) declines the redirect and is notified by
	// webhook (failed once, then delivered); cleared; disclosed; a
	// reporting restriction; sealed.
	a := submit("golden-a", request("DE", "cust-golden", false))
	must(t, "amend", func() error {
		_, err := in.Amend(ctx, &intakev1.AmendRequest{RequestId: a, Information: "the authority adds Jane Golden's alias",
			Attachments: []*intakev1.Attachment{{Uri: "https://files.example/golden-2.pdf", Sha256: "1111111111111111111111111111111111111111111111111111111111111111", MediaType: "application/pdf"}}})
		return err
	})
	review(a)
	must(t, "counsel", func() error {
		_, err := alice.RecordCounselConsultation(ctx, &assessmentv1.RecordCounselConsultationRequest{RequestId: a, Consultation: &assessmentv1.CounselConsultation{
			Kind: assessmentv1.CounselKind_COUNSEL_KIND_OUTSIDE_COUNSEL, Counsel: "Golden LLP", ConsultTime: timestamppb.Now(), Summary: "counsel on John Golden's case",
		}})
		return err
	})
	first := decide(a)
	must(t, "reject", func() error {
		_, err := bob.RejectDecision(ctx, &assessmentv1.RejectDecisionRequest{RequestId: a, DecisionId: first, Reason: "scope too wide for John Golden"})
		return err
	})
	approve(a, decide(a))
	plan(a, derived)
	must(t, "redirect declined", func() error {
		_, err := no.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: a, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED, Support: "asked the authority"})
		return err
	})
	plan(a, cleared)
	must(t, "disposition", func() error {
		_, err := re.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: a, Kind: &reportingv1.RecordDispositionRequest_Disclosure{
			Disclosure: &reportingv1.Disclosure{Categories: []reportingv1.DataCategory{reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER}, Accounts: 1,
				DiscloseTime: timestamppb.Now(), Means: reportingv1.DeliveryMeans_DELIVERY_MEANS_SECURE_PORTAL},
		}})
		return err
	})
	must(t, "restriction", func() error {
		_, err := reLegal.SetReportingRestriction(ctx, &reportingv1.SetReportingRestrictionRequest{RequestId: a,
			Restriction: reportingv1.ReportingRestriction_REPORTING_RESTRICTION_EXCLUDED_BY_COURT_ORDER, LegalReference: "GOLD-R/26"})
		return err
	})

	// B: a country without adequate protection: hold placed, the lead DPA
	// answers with guidance, a person lifts the hold; cleared.
	b := submit("golden-b", request("US", "", false))
	review(b)
	approve(b, decide(b))
	plan(b, func(p *notificationv1.Plan) error {
		if p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED {
			return fmt.Errorf("cleared without a hold")
		}
		return nil
	})
	eventually(t, func() error {
		_, err := no.RecordDpaConsultation(ctx, &notificationv1.RecordDpaConsultationRequest{RequestId: b, Authority: "DPC-IE",
			Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_GUIDANCE, Summary: "the DPC's guidance on John Golden"})
		return err
	})
	must(t, "lift", func() error {
		_, err := noBob.LiftHold(ctx, &notificationv1.LiftHoldRequest{RequestId: b})
		return err
	})
	plan(b, cleared)

	// C: a gag in a country without adequate protection: the 4.2.2 efforts
	// (the authority allows the hold), the hold, then lifted by a recorded
	// exemption.
	c := submit("golden-c", request("US", "", true))
	review(c)
	approve(c, decide(c))
	plan(c, derived)
	must(t, "waiver effort", func() error {
		_, err := no.RecordWaiverEffort(ctx, &notificationv1.RecordWaiverEffortRequest{RequestId: c,
			Kind: notificationv1.WaiverEffortKind_WAIVER_EFFORT_KIND_ASK_TO_HOLD, Outcome: notificationv1.WaiverOutcome_WAIVER_OUTCOME_GRANTED,
			Person: "Officer Golden", EffortTime: timestamppb.Now(), Notes: "Officer Golden agreed by phone"})
		return err
	})
	eventually(t, func() error {
		_, err := noBob.RecordExemption(ctx, &notificationv1.RecordExemptionRequest{RequestId: c,
			Step: notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA, Reason: "IMMINENT_RISK", Basis: "risk to Jane Golden's life"})
		return err
	})

	// D: the customer's authority agrees to go to the customer: redirected.
	d := submit("golden-d", request("DE", "cust-golden", false))
	review(d)
	approve(d, decide(d))
	plan(d, derived)
	must(t, "redirect agreed", func() error {
		_, err := no.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: d, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_AGREED, Support: "gave them John Golden's customer contact"})
		return err
	})
	must(t, "disposition redirected", func() error {
		_, err := re.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: d, Kind: &reportingv1.RecordDispositionRequest_Outcome{Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REDIRECTED}})
		if err != nil {
			t.Logf("disposition of the redirected request: %v", err)
		}
		return nil
	})

	// E: withdrawn, then its targets erased.
	e := submit("golden-e", request("DE", "", false))
	must(t, "withdraw", func() error {
		_, err := in.Withdraw(ctx, &intakev1.WithdrawRequest{RequestId: e, Reason: "withdrawn: John Golden was cleared"})
		return err
	})
	eventually(t, func() error {
		_, err := legal.EraseTargets(ctx, &intakev1.EraseTargetsRequest{RequestId: e, Reason: "retention over"})
		return err
	})

	// F: never reviewed; assessment's clock passes its review deadline.
	f := submit("golden-f", request("DE", "", false))
	eventually(t, func() error { _, err := alice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: f}); return err })
	mu.Lock()
	skew = 60 * 24 * time.Hour
	mu.Unlock()
	eventually(t, func() error {
		res, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: f})
		if err != nil {
			return err
		}
		for _, e := range res.GetRecord().GetEntries() {
			if e.GetEventType() == "ddr.assessment.v1.CaseOverdue" {
				return nil
			}
		}
		return fmt.Errorf("overdue not recorded yet")
	})

	// Every reaction done, nothing dead-lettered; then the record is what
	// it is.
	eventually(t, caughtUp(p, t))
	corpus := exportStore(t, p)
	corpus.KEK = kekText
	if n := dlqCount(t, p); n != 0 {
		t.Fatalf("%d dead letters while making the corpus", n)
	}
	have := typesIn(corpus)
	for _, typ := range eventTypes(t) {
		if have[typ] == 0 {
			t.Errorf("the corpus lacks %s", typ)
		}
	}
	if t.Failed() {
		return // an incomplete corpus is not written
	}
	writeGolden(t, out, corpus)
	t.Logf("wrote %d messages of %d types for %d requests, %d data keys to %s", len(corpus.Messages), len(have), len(requestIDs(t, corpus)), len(corpus.DataKeys), out)
}
