package suite_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// GenerateGoldenEnv must be set to "write" for TestGenerateGoldenCorpus to
// run. The corpus records what older binaries wrote; regenerating it with
// a newer binary would erase that evidence, so the generator only ever
// writes to a fresh directory and is never run by make test.
const GenerateGoldenEnv = "DDR_GOLDEN_GENERATE"

// notWritten lists the event types today's API cannot make, with why:
// the corpus is what the binary writes through its RPCs, nothing appended
// by hand. The first corpus (testdata/golden) holds both.
var notWritten = map[string]string{
	// Issue 15: a DPA's answer and an exemption take two people; today
	// they are a proposed lift and its confirmation (LiftConfirmed), and
	// the one-person RPCs that wrote these events refuse. Still read.
	"ddr.notification.v1.DpaConsulted":      "written only by the one-person RecordDpaConsultation, refused since issue 15",
	"ddr.notification.v1.ExemptionRecorded": "written only by the one-person RecordExemption, refused since issue 15",
}

// TestGenerateGoldenCorpus drives the real all-in-one through every path
// that writes an event type, then exports the stream and the data-key
// bucket. Run once, by hand:
//
//	DDR_GOLDEN_GENERATE=write DDR_GOLDEN_OUT=/tmp/golden go test -run TestGenerateGoldenCorpus ./suite/
//
// and add the files, with a README saying the day and the commit, as the
// next free testdata/golden-<n> (golden-2, golden-3, ...): a new corpus
// beside the earlier ones, never in place of one. The check
// (golden_test.go) loads every testdata/golden* directory.
func TestGenerateGoldenCorpus(t *testing.T) {
	if os.Getenv(GenerateGoldenEnv) != "write" {
		t.Skipf("writes a new golden corpus; set %s=write (never over the committed one)", GenerateGoldenEnv)
	}
	out := os.Getenv("DDR_GOLDEN_OUT")
	if out == "" {
		t.Fatal("set DDR_GOLDEN_OUT to a fresh directory outside testdata")
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
	// The record log signs a DPA's checkpoints (DpaRecordRead) with the
	// transparency key.
	signingKey := filepath.Join(t.TempDir(), "secrets", keys.SigningKeyFileName)
	if _, err := keys.NewSigningKeyFile(signingKey, "ddr-golden-transparency"); err != nil {
		t.Fatal(err)
	}
	cfg.Reporting.SigningKeyFile = signingKey
	cfg.Assessment.CustomerNoticePeriod = 0
	// Notification runs on the same clock (M's owed notice goes overdue
	// when it moves), with a notice window of a day.
	cfg.Notification.Now = now
	cfg.Notification.NoticeWindow = 24 * time.Hour
	cfg.Assessment.Now = now
	cfg.Assessment.OverdueInterval = 50 * time.Millisecond
	// Two approvals, so that the first is a DecisionApproved of its own.
	cfg.Assessment.RequiredApprovals = 2
	staff := runnertest.DevStaff()
	staff["dave"] = []authz.Role{authz.Approver}
	staff["erin"] = []authz.Role{authz.Legal}
	// The embedded registry, narrowed to the countries used, with Japan's
	// adequacy ending today (J's AdequacyLost); the others are not
	// adequate.
	registry := fmt.Sprintf(`{"note": "golden corpus registry", "entries": [
		{"country": "DE", "name": "Germany", "basis": "eea", "scope": "general", "from": "1958-01-01", "source": "EU member state"},
		{"country": "FR", "name": "France", "basis": "eea", "scope": "general", "from": "1958-01-01", "source": "EU member state"},
		{"country": "IE", "name": "Ireland", "basis": "eea", "scope": "general", "from": "1973-01-01", "source": "EU member state"},
		{"country": "JP", "name": "Japan", "basis": "adequacy_decision", "scope": "general", "from": "2019-01-23", "until": %q, "source": "a decision struck down (golden corpus)"}
	]}`, time.Now().UTC().Format(time.DateOnly))
	adequacy := filepath.Join(t.TempDir(), "adequacy.json")
	if err := os.WriteFile(adequacy, []byte(registry), 0o600); err != nil {
		t.Fatal(err)
	}
	p := runnertest.Start(t, runnertest.Options{DataDir: dataDir, Staff: staff, AdequacyFile: adequacy}, cfg.Build)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	legal := intakev1.NewIntakeServiceClient(p.Dial(t, callerOf["legal"]))
	inAlice := intakev1.NewIntakeServiceClient(p.Dial(t, reviewer))
	asCarol := assessmentv1.NewAssessmentServiceClient(p.Dial(t, callerOf["legal"]))
	asErin := assessmentv1.NewAssessmentServiceClient(p.Dial(t, "spiffe://ddr.local/staff/erin"))
	alice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	bob := assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver))
	dave := assessmentv1.NewAssessmentServiceClient(p.Dial(t, "spiffe://ddr.local/staff/dave"))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
	noBob := notificationv1.NewNotificationServiceClient(p.Dial(t, approver))
	noCarol := notificationv1.NewNotificationServiceClient(p.Dial(t, callerOf["legal"]))
	noErin := notificationv1.NewNotificationServiceClient(p.Dial(t, "spiffe://ddr.local/staff/erin"))
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))
	reLegal := reportingv1.NewReportingServiceClient(p.Dial(t, callerOf["legal"]))
	reErin := reportingv1.NewReportingServiceClient(p.Dial(t, "spiffe://ddr.local/staff/erin"))

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
				// The targets named: the request's scope in words would make
				// "all" a bulk transfer (6.1).
				Scope: &assessmentv1.Scope{TargetRefs: []string{"t1", "t2"}}, Grounds: "golden grounds",
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
		_, err := re.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: a, Kind: disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)})
		return err
	})
	// A restriction that keeps a request out of the report takes two
	// legal people (5.1): carol proposes, erin confirms.
	must(t, "restriction", func() error {
		_, err := reLegal.ProposeReportingRestriction(ctx, &reportingv1.ProposeReportingRestrictionRequest{RequestId: a,
			Restriction: reportingv1.ReportingRestriction_REPORTING_RESTRICTION_EXCLUDED_BY_COURT_ORDER, LegalReference: "GOLD-R/26"})
		return err
	})
	must(t, "restriction confirmed", func() error {
		_, err := reErin.ConfirmReportingRestriction(ctx, &reportingv1.ConfirmReportingRestrictionRequest{RequestId: a})
		return err
	})

	// A's record opened to a DPA outside what it was consulted on, with a
	// reason (DpaAccessGranted), and read by it (DpaRecordRead).
	must(t, "open to the DPA", func() error {
		_, err := reLegal.OpenRecordToDpa(ctx, &reportingv1.OpenRecordToDpaRequest{RequestId: a, Dpa: "dpc-ie", Reason: "inquiry DPC-GOLD-3 about John Golden"})
		return err
	})
	dpaReader := reportingv1.NewReportingServiceClient(p.Dial(t, "spiffe://ddr.local/dpa/dpc-ie"))
	eventually(t, func() error {
		_, err := dpaReader.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: a})
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
	// The outcome of a consultation takes a second person (4.2.1): bob
	// proposes it once the packet went out, carol confirms.
	var guidance string
	eventually(t, func() error {
		res, err := noBob.ProposeConsultationOutcome(ctx, &notificationv1.ProposeConsultationOutcomeRequest{RequestId: b, Authority: "DPC-IE",
			Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_GUIDANCE, Summary: "the DPC's guidance on John Golden",
			ReplyReference: "DPC-GOLD-1", ReplyTime: timestamppb.Now()})
		guidance = res.GetLiftId()
		return err
	})
	must(t, "guidance confirmed", func() error {
		_, err := noCarol.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: b, LiftId: guidance})
		return err
	})
	must(t, "lift", func() error {
		_, err := noBob.LiftHold(ctx, &notificationv1.LiftHoldRequest{RequestId: b})
		return err
	})
	plan(b, cleared)
	// A restriction that only makes the report say more is one person's.
	must(t, "no restriction", func() error {
		_, err := reLegal.SetReportingRestriction(ctx, &reportingv1.SetReportingRestrictionRequest{RequestId: b,
			Restriction: reportingv1.ReportingRestriction_REPORTING_RESTRICTION_NONE, LegalReference: "GOLD-N/26"})
		return err
	})

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
	// An exemption takes two legal people (4.1.2): carol proposes, erin
	// confirms.
	var exemption string
	eventually(t, func() error {
		res, err := noCarol.ProposeExemption(ctx, &notificationv1.ProposeExemptionRequest{RequestId: c,
			Step: notificationv1.StepKind_STEP_KIND_HOLD_AND_CONSULT_DPA, Reason: "PROHIBITED", Basis: "the gag forbids telling anyone of Jane Golden's case",
			EvidenceReference: "GOLD-EX/26"})
		exemption = res.GetLiftId()
		return err
	})
	must(t, "exemption confirmed", func() error {
		_, err := noErin.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: c, LiftId: exemption})
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

	// E's withdrawal acknowledged by the Privacy Team (issue 16): the
	// request closes as withdrawn.
	acknowledgeWithdrawal(t, p, e)

	// Issue 16 on the requests above: B's case linked to C's as the same
	// demand; a weakening of D's customer notice proposed (the proposal
	// is the record; nobody confirms it).
	must(t, "link", func() error {
		_, err := alice.LinkCase(ctx, &assessmentv1.LinkCaseRequest{RequestId: c, LinkedRequestId: b, Reason: "the same demand as John Golden's first"})
		return err
	})

	// I (issue 16, rule 11): a decided request whose facts are corrected
	// (no customer after all, two people) goes back to review and is
	// decided again; the customer notice once owed is held, and carol
	// proposes to drop it (the proposal is the record; nobody confirms).
	i := submit("golden-i", request("DE", "cust-golden", false))
	review(i)
	approve(i, decide(i))
	plan(i, derived)
	var noCustomer string
	must(t, "correct the customers", func() error {
		res, err := alice.ProposeFactCorrection(ctx, &assessmentv1.ProposeFactCorrectionRequest{RequestId: i, Reason: "John Golden is no customer's user",
			Correction: &assessmentv1.FactCorrection{Customers: &assessmentv1.CustomerList{}}})
		noCustomer = res.GetCorrectionId()
		return err
	})
	must(t, "customers corrected", func() error {
		_, err := bob.ConfirmFactCorrection(ctx, &assessmentv1.ConfirmFactCorrectionRequest{RequestId: i, CorrectionId: noCustomer})
		return err
	})
	caseWhere(t, ctx, alice, i, "back in review", func(c *assessmentv1.Case) bool { return c.GetLifecycleState() == "in_review" })
	approve(i, decide(i))
	eventually(t, func() error {
		_, err := noCarol.ProposeWeakening(ctx, &notificationv1.ProposeWeakeningRequest{RequestId: i,
			Step: notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER, Basis: "John Golden is no customer's user", EvidenceReference: "GOLD-W/26"})
		return err
	})

	// G (issue 16): several customers in the list form; an imminent risk
	// justified by the reviewer; a country without adequate protection, so
	// the lead DPA's packet goes out by a two-person manual dispatch; the
	// DPA objects (two people), which sends the case back to review, where
	// the demand is rejected.
	gReq := request("CN", "", false)
	gReq.Customers = []*intakev1.Customer{
		{CustomerId: "cust-golden", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER},
		{CustomerId: "cust-golden-2", Role: intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER},
	}
	g := submit("golden-g", gReq)
	review(g)
	must(t, "justify", func() error {
		_, err := alice.JustifyImminentRisk(ctx, &assessmentv1.JustifyImminentRiskRequest{RequestId: g, Justification: "a credible threat to Jane Golden"})
		return err
	})
	approve(g, decide(g))
	plan(g, derived)
	var dispatch string
	eventually(t, func() error {
		res, err := noBob.ProposeManualDispatch(ctx, &notificationv1.ProposeManualDispatchRequest{RequestId: g, Authority: "DPC-IE",
			Means: notificationv1.DispatchMeans_DISPATCH_MEANS_PORTAL, Reference: "PORTAL-GOLD", SentTime: timestamppb.Now()})
		dispatch = res.GetLiftId()
		return err
	})
	must(t, "dispatch confirmed", func() error {
		_, err := noCarol.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: g, LiftId: dispatch})
		return err
	})
	var objection string
	eventually(t, func() error {
		res, err := noBob.ProposeConsultationOutcome(ctx, &notificationv1.ProposeConsultationOutcomeRequest{RequestId: g, Authority: "DPC-IE",
			Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_OBJECTION, Summary: "the DPC objects to sending Jane Golden's data",
			ReplyReference: "DPC-GOLD-2", ReplyTime: timestamppb.Now()})
		objection = res.GetLiftId()
		return err
	})
	must(t, "objection confirmed", func() error {
		_, err := noCarol.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: g, LiftId: objection})
		return err
	})
	eventually(t, func() error {
		_, err := alice.Decide(ctx, &assessmentv1.DecideRequest{RequestId: g, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT,
			Grounds: "the lead DPA objected (4.2.1)"})
		return err
	})

	// H (issue 16): a reviewer reveals the targets with a reason; a
	// warranted challenge whose outcome two legal people record; a fact
	// correction; then the
	// member is asked for more information.
	h := submit("golden-h", request("DE", "", false))
	eventually(t, func() error { _, err := alice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: h}); return err })
	must(t, "claim h", func() error {
		_, err := alice.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: h})
		return err
	})
	must(t, "reveal", func() error {
		_, err := inAlice.RevealTargets(ctx, &intakev1.RevealTargetsRequest{RequestId: h, Reason: "to check John Golden's accounts"})
		return err
	})
	must(t, "warranted challenge", func() error {
		_, err := alice.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: h, Considered: true, Warranted: true, Reasoning: "the order may not cover John Golden"})
		return err
	})
	must(t, "challenge outcome", func() error {
		_, err := asCarol.ProposeChallengeOutcome(ctx, &assessmentv1.ProposeChallengeOutcomeRequest{RequestId: h,
			Outcome: assessmentv1.ChallengeOutcome_CHALLENGE_OUTCOME_DISMISSED, Basis: "the court dismissed it", EvidenceReference: "GOLD-C/26"})
		return err
	})
	must(t, "challenge outcome confirmed", func() error {
		_, err := asErin.ConfirmChallengeOutcome(ctx, &assessmentv1.ConfirmChallengeOutcomeRequest{RequestId: h})
		return err
	})
	// A correction that weakens nothing takes effect at once (I's needs a
	// second person).
	must(t, "correct", func() error {
		country := "FR"
		_, err := alice.ProposeFactCorrection(ctx, &assessmentv1.ProposeFactCorrectionRequest{RequestId: h, Reason: "the authority is French, says Officer Golden",
			Correction: &assessmentv1.FactCorrection{AuthorityCountry: &country}})
		return err
	})
	eventually(t, func() error {
		_, err := alice.RequestInformation(ctx, &assessmentv1.RequestInformationRequest{RequestId: h, Question: "Which of John Golden's accounts?"})
		return err
	})

	// J: from a country whose adequacy ends today (the registry above),
	// received three days ago: adequate at receipt, not at clearance, so
	// the plan is re-made with a hold (AdequacyLost).
	jReq := request("JP", "", false)
	jReq.ReceivedAt = timestamppb.New(time.Now().Add(-72 * time.Hour))
	j := submit("golden-j", jReq)
	review(j)
	approve(j, decide(j))
	plan(j, func(p *notificationv1.Plan) error {
		if p.GetStatus() != notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD || p.GetInputs().GetAdequacy().GetAdequate() {
			return fmt.Errorf("plan %v, adequacy %v: not yet held for the lost adequacy", p.GetStatus(), p.GetInputs().GetAdequacy())
		}
		return nil
	})

	// One of H's deadlines marked met by hand (issue 18); A's were met by
	// its decision and disclosure.
	clocks := assessmentv1.NewClocksServiceClient(p.Dial(t, reviewer))
	eventually(t, func() error {
		ds, err := clocks.ListDeadlines(ctx, &assessmentv1.ListDeadlinesRequest{RequestId: h})
		if err != nil {
			return err
		}
		last := fmt.Errorf("no open deadline of H among %v", ds.GetDeadlines())
		for _, d := range ds.GetDeadlines() {
			if d.GetStatus() == assessmentv1.DeadlineStatus_DEADLINE_STATUS_MET {
				continue
			}
			_, last = clocks.MarkDeadlineMet(ctx, &assessmentv1.MarkDeadlineMetRequest{RequestId: h, DeadlineId: d.GetDeadline().GetId()})
			if last == nil {
				return nil
			}
		}
		return last
	})

	// Issue 18, the requester's verification. L: an emergency in the
	// Garda's name from its own domain, confirmed by a call back through
	// the directory (RequesterVerified), disclosed; later the Garda says
	// it never sent it: a personal-data breach with its clocks.
	verify := assessmentv1.NewVerificationServiceClient(p.Dial(t, approver))
	callBack := func(id string, o assessmentv1.VerificationOutcome) {
		t.Helper()
		must(t, "call back "+o.String(), func() error {
			cs, err := verify.GetVerificationContacts(ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id})
			if err != nil {
				return err
			}
			if len(cs.GetContacts()) == 0 {
				return fmt.Errorf("no directory contact for %s", cs.GetAuthorityId())
			}
			_, err = verify.RecordVerification(ctx, &assessmentv1.RecordVerificationRequest{RequestId: id, ChannelId: cs.GetContacts()[0].GetChannelId(),
				Outcome: o, Note: "called the switchboard about Jane Golden"})
			return err
		})
	}
	emergency := func(key, sender string) (string, string) {
		t.Helper()
		id := submit(key, gardaEmergency(sender))
		review(id)
		var did string
		must(t, "decide on imminent risk", func() error {
			res, err := alice.Decide(ctx, &assessmentv1.DecideRequest{RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
				LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM, Scope: &assessmentv1.Scope{All: true}, Grounds: "a life at risk"})
			did = res.GetCase().GetDecision().GetDecisionId()
			return err
		})
		return id, did
	}
	l, ld := emergency("golden-l", "duty.officer@garda.ie")
	callBack(l, assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED)
	approve(l, ld)
	plan(l, cleared)
	eventually(t, func() error {
		_, err := re.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: l, Kind: disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)})
		return err
	})
	eventually(t, func() error {
		cs, err := verify.GetVerificationContacts(ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: l})
		if err != nil {
			return err
		}
		if !cs.GetVerification().GetDataDisclosed() {
			return fmt.Errorf("the disclosure of L is not folded yet")
		}
		return nil
	})
	callBack(l, assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_FORGED)

	// K: an emergency from a look-alike of the Garda's domain, found
	// forged before anything left: a security incident, the authority
	// flagged, and only a reject.
	k, _ := emergency("golden-k", "d.murphy@garda-ie.com")
	callBack(k, assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_FORGED)
	must(t, "reject the forgery", func() error {
		_, err := alice.Decide(ctx, &assessmentv1.DecideRequest{RequestId: k, Kind: assessmentv1.DecisionKind_DECISION_KIND_REJECT, Grounds: "the Garda confirmed it is forged"})
		return err
	})

	// M: an emergency from the BKA (verified by a call back) about a
	// controller customer no address reaches: prior notice exempted for
	// the imminent risk (two legal people), cleared and disclosed; the
	// notice is then owed within the notice window, and goes overdue when
	// the clock moves below (NoticeOverdue).
	mReq := request("DE", "cust-unreachable", false)
	fromTheBKA(mReq)
	mReq.Emergency = &intakev1.Emergency{Claimed: true, ImminentRiskOfSeriousHarm: true, HarmDescribed: "a threat to Jane Golden's life"}
	m := submit("golden-m", mReq)
	review(m)
	var md string
	must(t, "decide m", func() error {
		res, err := alice.Decide(ctx, &assessmentv1.DecideRequest{RequestId: m, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM, Scope: &assessmentv1.Scope{TargetRefs: []string{"t1", "t2"}}, Grounds: "a life at risk"})
		md = res.GetCase().GetDecision().GetDecisionId()
		return err
	})
	callBack(m, assessmentv1.VerificationOutcome_VERIFICATION_OUTCOME_CONFIRMED)
	approve(m, md)
	plan(m, derived)
	var notice string
	eventually(t, func() error {
		res, err := noCarol.ProposeExemption(ctx, &notificationv1.ProposeExemptionRequest{RequestId: m,
			Step: notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER, Reason: "IMMINENT_RISK", Basis: "telling the customer would warn Jane Golden's attacker",
			EvidenceReference: "BKA-GOLD/26", WhyNoticeDefeats: "the customer is the attacker's employer"})
		notice = res.GetLiftId()
		return err
	})
	must(t, "notice exemption confirmed", func() error {
		_, err := noErin.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: m, LiftId: notice})
		return err
	})
	eventually(t, func() error {
		res, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: m})
		if err != nil {
			return err
		}
		if res.GetPlan().GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED {
			return nil
		}
		// The customer's redirect, declined, if still asked.
		_, _ = no.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: m, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_DECLINED, Support: "asked the BKA"})
		return fmt.Errorf("plan %v, blockers %v", res.GetPlan().GetStatus(), res.GetPlan().GetBlockers())
	})
	eventually(t, func() error {
		_, err := re.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: m, Kind: disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)})
		return err
	})
	plan(m, func(p *notificationv1.Plan) error {
		for _, st := range p.GetSteps() {
			if st.GetKind() == notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER && st.GetDueTime() != nil {
				return nil
			}
		}
		return fmt.Errorf("the notice after the emergency is not owed yet: %v", p.GetSteps())
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
	eventually(t, func() error {
		res, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: m})
		if err != nil {
			return err
		}
		for _, e := range res.GetRecord().GetEntries() {
			if e.GetEventType() == "ddr.notification.v1.NoticeOverdue" {
				return nil
			}
		}
		return fmt.Errorf("M's overdue notice not recorded yet")
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
		if have[typ] == 0 && notWritten[typ] == "" {
			t.Errorf("the corpus lacks %s", typ)
		}
	}
	if t.Failed() {
		return // an incomplete corpus is not written
	}
	writeGolden(t, out, corpus)
	t.Logf("wrote %d messages of %d types for %d requests, %d data keys to %s", len(corpus.Messages), len(have), len(requestIDs(t, corpus)), len(corpus.DataKeys), out)
}
