package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	commonv1 "github.com/ddrsuite/ddr/gen/ddr/common/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// The stand-in's plan: on hold for a non-adequate country, with one DPA.
func (s *services) GetPlan(ctx context.Context, _ *notificationv1.GetPlanRequest) (*notificationv1.GetPlanResponse, error) {
	s.saw(ctx)
	return &notificationv1.GetPlanResponse{Plan: &notificationv1.Plan{
		RequestId: caseID, Status: notificationv1.PlanStatus_PLAN_STATUS_ON_HOLD, Authorities: []string{"DPC-IE"},
		Lifts: []*commonv1.Lift{{Id: "consultation/DPC-IE/1", Clause: "4.2.1", What: "DPC-IE: no objection", RecordedBy: "spiffe://ddr.local/staff/bob"}},
	}}, nil
}

func (s *services) ListHolds(ctx context.Context, _ *notificationv1.ListHoldsRequest) (*notificationv1.ListHoldsResponse, error) {
	s.saw(ctx)
	return &notificationv1.ListHoldsResponse{Holds: []*notificationv1.Hold{{RequestId: caseID, Country: "US", Clause: "4.2.1"}}}, nil
}

func (s *services) ProposeConsultationOutcome(ctx context.Context, r *notificationv1.ProposeConsultationOutcomeRequest) (*notificationv1.ProposeConsultationOutcomeResponse, error) {
	return &notificationv1.ProposeConsultationOutcomeResponse{}, s.got(ctx, r)
}

func (s *services) ProposeExemption(ctx context.Context, r *notificationv1.ProposeExemptionRequest) (*notificationv1.ProposeExemptionResponse, error) {
	return &notificationv1.ProposeExemptionResponse{}, s.got(ctx, r)
}

func (s *services) LiftHold(ctx context.Context, r *notificationv1.LiftHoldRequest) (*notificationv1.LiftHoldResponse, error) {
	return &notificationv1.LiftHoldResponse{}, s.got(ctx, r)
}

func (s *services) RecordRedirectOutcome(ctx context.Context, r *notificationv1.RecordRedirectOutcomeRequest) (*notificationv1.RecordRedirectOutcomeResponse, error) {
	return &notificationv1.RecordRedirectOutcomeResponse{}, s.got(ctx, r)
}

func (s *services) ProposeManualDispatch(ctx context.Context, r *notificationv1.ProposeManualDispatchRequest) (*notificationv1.ProposeManualDispatchResponse, error) {
	return &notificationv1.ProposeManualDispatchResponse{}, s.got(ctx, r)
}

func (s *services) ConfirmLift(ctx context.Context, r *notificationv1.ConfirmLiftRequest) (*notificationv1.ConfirmLiftResponse, error) {
	return &notificationv1.ConfirmLiftResponse{}, s.got(ctx, r)
}

// action is one form of a page: what is posted, the RPC it must call with
// which request, and where success leads.
type action struct {
	name   string
	path   string
	form   url.Values
	method string
	want   proto.Message
	done   string
	page   string // the page the form is on, and a refusal is shown on
}

// checkAction posts the form as alice: the page has the form; the RPC
// gets her token and the fields; success redirects to the page with its
// confirmation; a refusal shows its clause and explanation.
func checkAction(t *testing.T, a action, clause string) {
	t.Helper()
	f := newFixture(t, "http://127.0.0.1:7700")
	ss := f.signIn(time.Hour)
	page := f.do("GET", a.page, ss, nil)
	if page.Code != http.StatusOK {
		t.Fatalf("%s: GET %s: %d\n%s", a.name, a.page, page.Code, page.Body)
	}
	if !strings.Contains(page.Body.String(), `action="`+a.path+`"`) {
		t.Errorf("%s: %s has no form posting to %s", a.name, a.page, a.path)
	}
	form := url.Values{"csrf": {ss.csrf}}
	for k, v := range a.form {
		form[k] = v
	}
	w := f.do("POST", a.path, ss, form)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != a.page+"?done="+a.done {
		t.Fatalf("%s: %d %q, want a redirect to %s?done=%s\n%s", a.name, w.Code, w.Header().Get("Location"), a.page, a.done, w.Body)
	}
	if got := f.svc.lastCall(t, a.method); !proto.Equal(a.want, got) {
		t.Errorf("%s: %s request\n got: %v\nwant: %v", a.name, a.method, prototext.Format(got), prototext.Format(a.want))
	}
	if back := f.do("GET", w.Header().Get("Location"), ss, nil); !strings.Contains(back.Body.String(), `id="done-`+a.done+`"`) {
		t.Errorf("%s: the page after does not confirm the action", a.name)
	}

	f.svc.refuseWith(a.method, clause)
	w = f.do("POST", a.path, ss, form)
	if w.Code != http.StatusConflict {
		t.Fatalf("%s refused: %d, want 409\n%s", a.name, w.Code, w.Body)
	}
	for _, want := range []string{"clause " + clause, "refused by clause " + clause + " in this test", `role="alert"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s refused: the page lacks %q", a.name, want)
		}
	}
}

var planPath = "/plans/" + caseID

func TestClause4_2_1_DPAOutcomeIsProposedFromThePlanPage(t *testing.T) {
	checkAction(t, action{
		name: "dpa outcome", path: planPath + "/dpa-outcome", page: planPath, done: "dpa", method: "ProposeConsultationOutcome",
		form: url.Values{"authority": {" DPC-IE "}, "outcome": {"1"}, "summary": {"no objection"}, "reply_reference": {"DPC-2026-118"}, "reply_date": {"2026-12-01"}},
		want: &notificationv1.ProposeConsultationOutcomeRequest{
			RequestId: caseID, Authority: "DPC-IE", Outcome: notificationv1.ConsultationOutcome_CONSULTATION_OUTCOME_NO_OBJECTION,
			Summary: "no objection", ReplyReference: "DPC-2026-118", ReplyTime: timestamppb.New(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)),
		},
	}, "4.2.1")
}

func TestClause4_1_2_ExemptionIsProposedFromThePlanPage(t *testing.T) {
	checkAction(t, action{
		name: "exemption", path: planPath + "/exemption", page: planPath, done: "exemption", method: "ProposeExemption",
		form: url.Values{"step": {"2"}, "reason": {"PROHIBITED"}, "basis": {"gag order s. 3"}, "evidence": {"AG 12/26"}, "statute": {"StPO 95"}, "why": {""}, "customer": {"c1"}},
		want: &notificationv1.ProposeExemptionRequest{
			RequestId: caseID, Step: notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER, Reason: "PROHIBITED", Basis: "gag order s. 3",
			EvidenceReference: "AG 12/26", Statute: "StPO 95", CustomerRef: "c1",
		},
	}, "4.1.2")
}

func TestClause4_2_1_HoldIsLiftedFromThePlanPage(t *testing.T) {
	checkAction(t, action{
		name: "lift hold", path: planPath + "/lift-hold", page: planPath, done: "lift-hold", method: "LiftHold",
		want: &notificationv1.LiftHoldRequest{RequestId: caseID},
	}, "4.2.1")
}

func TestClause4_1_1_RedirectOutcomeIsRecordedFromThePlanPage(t *testing.T) {
	checkAction(t, action{
		name: "redirect", path: planPath + "/redirect", page: planPath, done: "redirect", method: "RecordRedirectOutcome",
		form: url.Values{"outcome": {"1"}, "support": {"sent the customer the demand"}, "customer": {""}},
		want: &notificationv1.RecordRedirectOutcomeRequest{RequestId: caseID, Outcome: notificationv1.RedirectOutcome_REDIRECT_OUTCOME_AGREED, Support: "sent the customer the demand"},
	}, "4.1.1")
}

func TestClause5_1_OutcomeNoticeDispatchIsProposedFromThePlanPage(t *testing.T) {
	checkAction(t, action{
		name: "dispatch", path: planPath + "/dispatch", page: planPath, done: "dispatch", method: "ProposeManualDispatch",
		form: url.Values{"what": {"outcome"}, "authority": {"CNIL"}, "means": {"2"}, "reference": {"RR-1234-FR"}, "sent": {"2026-11-30"}},
		want: &notificationv1.ProposeManualDispatchRequest{
			RequestId: caseID, Authority: "CNIL", Means: notificationv1.DispatchMeans_DISPATCH_MEANS_POST, Reference: "RR-1234-FR",
			SentTime: timestamppb.New(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)), Step: notificationv1.StepKind_STEP_KIND_NOTIFY_DPA_OUTCOME,
		},
	}, "5.1")
}

func TestClause2_2_PacketDispatchWithoutADateIsSentNow(t *testing.T) {
	checkAction(t, action{
		name: "dispatch", path: planPath + "/dispatch", page: planPath, done: "dispatch", method: "ProposeManualDispatch",
		form: url.Values{"what": {"packet"}, "authority": {"CNIL"}, "means": {"1"}, "reference": {"CNIL-77"}},
		want: &notificationv1.ProposeManualDispatchRequest{
			RequestId: caseID, Authority: "CNIL", Means: notificationv1.DispatchMeans_DISPATCH_MEANS_PORTAL, Reference: "CNIL-77",
			SentTime: timestamppb.New(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)),
		},
	}, "2.2")
}

func TestLiftIsConfirmedFromThePlanPage(t *testing.T) {
	checkAction(t, action{
		name: "confirm", path: planPath + "/confirm", page: planPath, done: "confirm", method: "ConfirmLift",
		form: url.Values{"lift": {"consultation/DPC-IE/1"}},
		want: &notificationv1.ConfirmLiftRequest{RequestId: caseID, LiftId: "consultation/DPC-IE/1"},
	}, "4.2.1")
}

func (s *services) ClaimCase(ctx context.Context, r *assessmentv1.ClaimCaseRequest) (*assessmentv1.ClaimCaseResponse, error) {
	return &assessmentv1.ClaimCaseResponse{}, s.got(ctx, r)
}

func (s *services) RequestInformation(ctx context.Context, r *assessmentv1.RequestInformationRequest) (*assessmentv1.RequestInformationResponse, error) {
	return &assessmentv1.RequestInformationResponse{}, s.got(ctx, r)
}

func (s *services) RecordWithdrawal(ctx context.Context, r *intakev1.RecordWithdrawalRequest) (*intakev1.RecordWithdrawalResponse, error) {
	return &intakev1.RecordWithdrawalResponse{}, s.got(ctx, r)
}

func (s *services) AcknowledgeWithdrawal(ctx context.Context, r *assessmentv1.AcknowledgeWithdrawalRequest) (*assessmentv1.AcknowledgeWithdrawalResponse, error) {
	return &assessmentv1.AcknowledgeWithdrawalResponse{}, s.got(ctx, r)
}

func (s *services) ProposeChallengeOutcome(ctx context.Context, r *assessmentv1.ProposeChallengeOutcomeRequest) (*assessmentv1.ProposeChallengeOutcomeResponse, error) {
	return &assessmentv1.ProposeChallengeOutcomeResponse{}, s.got(ctx, r)
}

func (s *services) ConfirmChallengeOutcome(ctx context.Context, r *assessmentv1.ConfirmChallengeOutcomeRequest) (*assessmentv1.ConfirmChallengeOutcomeResponse, error) {
	return &assessmentv1.ConfirmChallengeOutcomeResponse{}, s.got(ctx, r)
}

func (s *services) ProposeFactCorrection(ctx context.Context, r *assessmentv1.ProposeFactCorrectionRequest) (*assessmentv1.ProposeFactCorrectionResponse, error) {
	return &assessmentv1.ProposeFactCorrectionResponse{}, s.got(ctx, r)
}

func (s *services) ConfirmFactCorrection(ctx context.Context, r *assessmentv1.ConfirmFactCorrectionRequest) (*assessmentv1.ConfirmFactCorrectionResponse, error) {
	return &assessmentv1.ConfirmFactCorrectionResponse{}, s.got(ctx, r)
}

func (s *services) JustifyImminentRisk(ctx context.Context, r *assessmentv1.JustifyImminentRiskRequest) (*assessmentv1.JustifyImminentRiskResponse, error) {
	return &assessmentv1.JustifyImminentRiskResponse{}, s.got(ctx, r)
}

var casePath = "/cases/" + caseID

func TestCaseIsAssignedToSomeoneElseFromTheCasePage(t *testing.T) {
	checkAction(t, action{
		name: "assign", path: casePath + "/assign", page: casePath, done: "assign", method: "ClaimCase",
		form: url.Values{"assignee": {" spiffe://ddr.local/staff/bob "}},
		want: &assessmentv1.ClaimCaseRequest{RequestId: caseID, Assignee: "spiffe://ddr.local/staff/bob"},
	}, "3.3")
}

func TestMoreInformationIsRequestedFromTheCasePage(t *testing.T) {
	checkAction(t, action{
		name: "ask", path: casePath + "/ask", page: casePath, done: "ask", method: "RequestInformation",
		form: url.Values{"question": {"Which period does the order cover?"}},
		want: &assessmentv1.RequestInformationRequest{RequestId: caseID, Question: "Which period does the order cover?"},
	}, "3.3")
}

func TestWithdrawalIsRecordedFromTheCasePage(t *testing.T) {
	checkAction(t, action{
		name: "withdrawal", path: casePath + "/withdrawal", page: casePath, done: "withdrawal", method: "RecordWithdrawal",
		form: url.Values{"reason": {"prosecutor phoned: order revoked"}},
		want: &intakev1.RecordWithdrawalRequest{RequestId: caseID, Reason: "prosecutor phoned: order revoked"},
	}, "3.1")
}

func TestWithdrawalIsAcknowledgedFromTheCasePage(t *testing.T) {
	checkAction(t, action{
		name: "ack withdrawal", path: casePath + "/ack-withdrawal", page: casePath, done: "ack-withdrawal", method: "AcknowledgeWithdrawal",
		want: &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: caseID},
	}, "2.1")
}

func TestClause3_3_ChallengeOutcomeIsProposedFromTheCasePage(t *testing.T) {
	checkAction(t, action{
		name: "challenge outcome", path: casePath + "/challenge-outcome", page: casePath, done: "challenge-outcome", method: "ProposeChallengeOutcome",
		form: url.Values{"outcome": {"1"}, "basis": {"court narrowed the order"}, "reference": {"AG Berlin 4/26"}},
		want: &assessmentv1.ProposeChallengeOutcomeRequest{RequestId: caseID, Outcome: assessmentv1.ChallengeOutcome_CHALLENGE_OUTCOME_UPHELD, Basis: "court narrowed the order", EvidenceReference: "AG Berlin 4/26"},
	}, "3.3")
}

func TestClause3_3_ChallengeOutcomeIsConfirmedFromTheCasePage(t *testing.T) {
	checkAction(t, action{
		name: "confirm outcome", path: casePath + "/confirm-outcome", page: casePath, done: "confirm-outcome", method: "ConfirmChallengeOutcome",
		want: &assessmentv1.ConfirmChallengeOutcomeRequest{RequestId: caseID},
	}, "3.3")
}

func TestFactCorrectionIsProposedFromTheCasePage(t *testing.T) {
	country, emergency := "FR", false
	checkAction(t, action{
		name: "correction", path: casePath + "/correct", page: casePath, done: "correction", method: "ProposeFactCorrection",
		form: url.Values{
			"country": {"fr"}, "emergency": {"no"}, "imminent_risk": {""}, "prohibition": {"present"}, "prohibition_reference": {"AG 12/26"},
			"prohibition_expires": {"2027-01-31"}, "customers": {"cust-1:controller:de\ncust-2:not-controller\n"}, "reason": {"the order names two customers"}, "evidence": {"order p. 1"},
		},
		want: &assessmentv1.ProposeFactCorrectionRequest{
			RequestId: caseID, Reason: "the order names two customers", EvidenceReference: "order p. 1",
			Correction: &assessmentv1.FactCorrection{
				AuthorityCountry: &country, EmergencyClaimed: &emergency,
				Prohibition: &assessmentv1.Prohibition{Present: true, Reference: "AG 12/26", ExpiresAt: timestamppb.New(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC))},
				Customers: &assessmentv1.CustomerList{Customers: []*intakev1.Customer{
					{CustomerId: "cust-1", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "DE"},
					{CustomerId: "cust-2", Role: intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER},
				}},
			},
		},
	}, "4.2.1")
}

func TestFactCorrectionThatSaysNothingIsNotSent(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:7700")
	ss := f.signIn(time.Hour)
	w := f.do("POST", casePath+"/correct", ss, url.Values{"csrf": {ss.csrf}, "reason": {"nothing"}})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "say what to correct") {
		t.Errorf("empty correction: %d, want the case page (409) saying what to correct\n%s", w.Code, w.Body)
	}
	f.svc.mu.Lock()
	defer f.svc.mu.Unlock()
	if _, called := f.svc.last["ProposeFactCorrection"]; called {
		t.Error("an empty correction reached the service")
	}
}

func TestFactCorrectionIsConfirmedFromTheCasePage(t *testing.T) {
	checkAction(t, action{
		name: "confirm correction", path: casePath + "/confirm-correction", page: casePath, done: "confirm-correction", method: "ConfirmFactCorrection",
		form: url.Values{"correction": {"corr-1"}},
		want: &assessmentv1.ConfirmFactCorrectionRequest{RequestId: caseID, CorrectionId: "corr-1"},
	}, "4.2.1")
}

func TestClause2_1_ImminentRiskIsJustifiedFromTheCasePage(t *testing.T) {
	checkAction(t, action{
		name: "justify", path: casePath + "/justify", page: casePath, done: "justify", method: "JustifyImminentRisk",
		form: url.Values{"justification": {"credible threat to life in the call log"}},
		want: &assessmentv1.JustifyImminentRiskRequest{RequestId: caseID, Justification: "credible threat to life in the call log"},
	}, "2.1")
}

func (s *services) GetRecord(ctx context.Context, _ *reportingv1.GetRecordRequest) (*reportingv1.GetRecordResponse, error) {
	s.saw(ctx)
	return &reportingv1.GetRecordResponse{Record: &reportingv1.Record{RequestId: caseID}}, nil
}

func (s *services) RecordDisposition(ctx context.Context, r *reportingv1.RecordDispositionRequest) (*reportingv1.RecordDispositionResponse, error) {
	return &reportingv1.RecordDispositionResponse{}, s.got(ctx, r)
}

var recordPath = "/records/" + caseID

func TestClause2_1_DisclosureIsRecordedFromTheRecordPage(t *testing.T) {
	checkAction(t, action{
		name: "disclosure", path: recordPath + "/disclosure", page: recordPath, done: "disclosure", method: "RecordDisposition",
		form: url.Values{"category": {"1", "2"}, "accounts": {"3"}, "means": {"1"}, "disclosed": {"2026-11-30"}},
		want: &reportingv1.RecordDispositionRequest{RequestId: caseID, Kind: &reportingv1.RecordDispositionRequest_Disclosure{Disclosure: &reportingv1.Disclosure{
			Categories: []reportingv1.DataCategory{1, 2}, Accounts: 3, Means: reportingv1.DeliveryMeans_DELIVERY_MEANS_SECURE_PORTAL,
			DiscloseTime: timestamppb.New(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)),
		}}},
	}, "2.2")
}

func TestTerminalOutcomeIsRecordedFromTheRecordPage(t *testing.T) {
	checkAction(t, action{
		name: "outcome", path: recordPath + "/outcome", page: recordPath, done: "outcome", method: "RecordDisposition",
		form: url.Values{"outcome": {"1"}},
		want: &reportingv1.RecordDispositionRequest{RequestId: caseID, Kind: &reportingv1.RecordDispositionRequest_Outcome{Outcome: reportingv1.TerminalOutcome_TERMINAL_OUTCOME_REJECTED}},
	}, "2.1")
}

var (
	controlRE = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRE      = regexp.MustCompile(` id="([^"]+)"`)
)

// Every control of the pages with forms has a label: one naming its id,
// or one around it (axe-core checks the same in the browser test, on the
// pages that test reaches).
func TestEveryFormControlHasALabel(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:7700")
	ss := f.signIn(time.Hour)
	for _, page := range []string{casePath, planPath, recordPath, "/intake"} {
		w := f.do("GET", page, ss, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", page, w.Code)
		}
		body := w.Body.String()
		n := 0
		for _, at := range controlRE.FindAllStringIndex(body, -1) {
			tag := body[at[0]:at[1]]
			if strings.Contains(tag, `type="hidden"`) {
				continue
			}
			n++
			if m := idRE.FindStringSubmatch(tag); m != nil && strings.Contains(body, `for="`+m[1]+`"`) {
				continue
			}
			before := body[:at[0]]
			if strings.LastIndex(before, "<label") > strings.LastIndex(before, "</label>") {
				continue
			}
			t.Errorf("%s: %s has no label", page, tag)
		}
		if n == 0 {
			t.Errorf("%s: no form control found", page)
		}
	}
}
