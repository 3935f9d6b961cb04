package domain_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

type want struct {
	status domain.StepStatus
	reason domain.SkipReason
}

var (
	req = want{domain.StatusRequired, ""}
)

func skip(r domain.SkipReason) want { return want{domain.StatusSkipped, r} }

func TestClause2_2_PlanNotifiesCustomerAndDPAsUnlessProhibitedOrImminentRisk(t *testing.T) {
	reg := registry(t)
	gag := domain.Prohibition{Present: true, Reference: "order 7/2026"}
	gagUntil := domain.Prohibition{Present: true, Reference: "order 8/2026", ExpiresAt: t0.AddDate(0, 2, 0)}
	risk := domain.ImminentRisk{Present: true, Basis: "threat to life, assessed by privacy team"}
	tests := []struct {
		name                          string
		controller                    bool
		country                       string
		gag                           domain.Prohibition
		risk                          domain.ImminentRisk
		ask, notice, dpa, hold, waive want
	}{
		{"controller, adequate: the DPA is still notified (2.2)", true, "DE", domain.Prohibition{}, domain.ImminentRisk{}, req, req, req, skip(domain.SkipCountryAdequate), skip(domain.SkipNotProhibited)},
		{"controller, not adequate", true, "CN", domain.Prohibition{}, domain.ImminentRisk{}, req, req, req, req, skip(domain.SkipNotProhibited)},
		{"not controller, not adequate", false, "CN", domain.Prohibition{}, domain.ImminentRisk{}, skip(domain.SkipCustomerNotController), skip(domain.SkipCustomerNotController), req, req, skip(domain.SkipNotProhibited)},
		{"not controller, adequate", false, "CH", domain.Prohibition{}, domain.ImminentRisk{}, skip(domain.SkipCustomerNotController), skip(domain.SkipCustomerNotController), req, skip(domain.SkipCountryAdequate), skip(domain.SkipNotProhibited)},
		{"controller, gag without end, not adequate: nothing skipped until an exemption is confirmed", true, "CN", gag, domain.ImminentRisk{}, req, req, req, req, req},
		{"controller, gag with end, adequate", true, "DE", gagUntil, domain.ImminentRisk{}, req, req, req, skip(domain.SkipCountryAdequate), req},
		{"not controller, gag, adequate: the DPA notice is suppressed", false, "DE", gag, domain.ImminentRisk{}, skip(domain.SkipCustomerNotController), skip(domain.SkipCustomerNotController), req, skip(domain.SkipCountryAdequate), req},
		{"not controller, gag, not adequate", false, "US", gag, domain.ImminentRisk{}, skip(domain.SkipCustomerNotController), skip(domain.SkipCustomerNotController), req, req, req},
		{"controller, imminent risk, not adequate: only the redirect request is skipped", true, "CN", domain.Prohibition{}, risk, skip(domain.SkipImminentRisk), req, req, req, skip(domain.SkipNotProhibited)},
		{"controller, gag and imminent risk, not adequate", true, "CN", gag, risk, skip(domain.SkipImminentRisk), req, req, req, req},
		{"controller, unknown country", true, "", domain.Prohibition{}, domain.ImminentRisk{}, req, req, req, req, skip(domain.SkipNotProhibited)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baseReq()
			r.Customer.Controller = tt.controller
			r.AuthorityCountry, r.Prohibition, r.ImminentRisk = tt.country, tt.gag, tt.risk
			if err := r.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			p := domain.DerivePlan(r, reg, cfg)
			steps := p.Steps()
			kinds := []domain.StepKind{domain.StepAskAuthorityToRedirect, domain.StepNotifyCustomer, domain.StepNotifyDPA, domain.StepHoldAndConsultDPA, domain.StepWaiverEfforts}
			clauses := []policy.Clause{"4.1.1", "4.1.2", "2.2", "4.2.1", "4.2.2"}
			for i, w := range []want{tt.ask, tt.notice, tt.dpa, tt.hold, tt.waive} {
				s := steps[i]
				if s.Kind != kinds[i] || s.Clause != clauses[i] || s.ID == "" {
					t.Fatalf("step %d is %+v, want kind %s clause %s", i, s, kinds[i], clauses[i])
				}
				if s.Status != w.status || s.SkipReason != w.reason {
					t.Errorf("%s: %s/%s, want %s/%s", s.Kind, s.Status, s.SkipReason, w.status, w.reason)
				}
				if (s.Status == domain.StatusSkipped || s.Status == domain.StatusScheduled) && s.Basis == "" {
					t.Errorf("%s %s without a recorded basis", s.Kind, s.Status)
				}
			}
		})
	}
}

func TestClause2_2_DecisionsThatDiscloseNothingOweNoSteps(t *testing.T) {
	for _, d := range []policy.DecisionKind{policy.DecisionReject, policy.DecisionChallenge, policy.DecisionRequestMoreInformation} {
		r := baseReq()
		r.Decision = d
		h := newHarness(t, r)
		for _, s := range h.p.Steps() {
			if s.Status != domain.StatusSkipped || s.SkipReason != domain.SkipNoDisclosureDecided {
				t.Errorf("%s: %s is %s/%s", d, s.Kind, s.Status, s.SkipReason)
			}
		}
		if h.p.Outcome() != domain.OutcomeNoDisclosure || h.p.Cleared() || has(h.log, "HoldPlaced") {
			t.Errorf("%s: outcome %s cleared %v events %v", d, h.p.Outcome(), h.p.Cleared(), names(h.log))
		}
	}
}

// Changed by issue 15: a request with no customer notice and an adequate
// country used to clear at once; 2.2 still owes the competent DPAs notice.
func TestClause2_2_AdequateCountryStillNotifiesTheCompetentDPA(t *testing.T) {
	r := baseReq()
	r.Customer = domain.Customer{}
	r.AuthorityCountry = "CH"
	h := newHarness(t, r)
	if h.p.Cleared() || !blockedBy(h.p, t0, domain.StepNotifyDPA) || has(h.log, "HoldPlaced") {
		t.Fatalf("events %v: an adequate country must still wait for the DPA notice, without a hold", names(h.log))
	}
	err := domain.DisclosureRefusal(h.p, t0)
	wantPolicy(t, err, "2.2", "DISCLOSURE_BLOCKED")
	evs := h.packets(t0.Add(time.Hour))
	if !has(evs, "RequestCleared") {
		t.Fatalf("events %v, want RequestCleared once the packet went out (no consultation outcome needed)", names(evs))
	}
}

func TestClause4_1_1_AskAuthorityToRedirectFirstWhenCustomerIsController(t *testing.T) {
	h := newHarness(t, baseReq())
	if got := h.p.Steps()[0]; got.Kind != domain.StepAskAuthorityToRedirect || got.Status != domain.StatusRequired {
		t.Fatalf("first step %+v", got)
	}
	if !blockedBy(h.p, t0, domain.StepAskAuthorityToRedirect) {
		t.Fatal("an unanswered redirect request must block disclosure")
	}
}

func TestClause4_1_1_AgreedRedirectEndsRequestAsRedirected(t *testing.T) {
	h := newHarness(t, baseReq())
	h.do(h.p.RecordRedirectOutcome(domain.RedirectAgreed, "customer given the authority's contact and our contractual assistance", "privacy@corp", t0.Add(time.Hour)))
	if h.p.Outcome() != domain.OutcomeRedirected {
		t.Fatalf("outcome %s", h.p.Outcome())
	}
	rr, _ := h.p.Redirect()
	if rr.Support == "" {
		t.Fatal("support given to the customer not recorded")
	}
	if s := h.p.Step(domain.StepNotifyCustomer); s.SkipReason != domain.SkipRedirected {
		t.Fatalf("notice %+v", s)
	}
	if h.p.Cleared() || len(domain.Blockers(h.p, t0.Add(2*time.Hour))) == 0 {
		t.Fatal("a redirected request must never be cleared for disclosure")
	}
}

func TestClause4_1_1_AgreedRedirectNeedsSupportRecorded(t *testing.T) {
	h := newHarness(t, baseReq())
	_, err := h.p.RecordRedirectOutcome(domain.RedirectAgreed, "", "privacy@corp", t0)
	wantInvalid(t, err, "support")
}

func TestClause4_1_1_RedirectNotPossibleOpensCustomerNotice(t *testing.T) {
	for _, o := range []domain.RedirectOutcome{domain.RedirectDeclined, domain.RedirectNotPossible, domain.RedirectIdentityUnknown} {
		t.Run(string(o), func(t *testing.T) {
			r := baseReq()
			r.AuthorityCountry = "DE"
			h := newHarness(t, r)
			h.do(h.p.RecordRedirectOutcome(o, "", "privacy@corp", t0.Add(time.Hour)))
			if h.status(domain.StepAskAuthorityToRedirect) != domain.StatusDone || h.status(domain.StepNotifyCustomer) != domain.StatusRequired {
				t.Fatalf("steps %+v", h.p.Steps())
			}
			if h.p.Outcome() != domain.OutcomeOpen {
				t.Fatalf("outcome %s", h.p.Outcome())
			}
		})
	}
}

func TestClause4_1_1_RedirectAnswerRecordedOnce(t *testing.T) {
	h := newHarness(t, baseReq())
	h.declineRedirect(t0)
	if evs, err := h.p.RecordRedirectOutcome(domain.RedirectDeclined, "", "privacy@corp", t0); err != nil || len(evs) != 0 {
		t.Fatalf("repeat: %v %v, want no events", names(evs), err)
	}
	_, err := h.p.RecordRedirectOutcome(domain.RedirectAgreed, "support", "privacy@corp", t0)
	wantPolicy(t, err, "4.1.1", "REDIRECT_ALREADY_RECORDED")
}

func TestClause4_1_2_NoticeWaitsForRedirectAnswer(t *testing.T) {
	h := newHarness(t, baseReq())
	_, err := h.p.RecordDelivery(notice(t0))
	wantPolicy(t, err, "4.1.1", "REDIRECT_PENDING")
}

func TestClause4_1_2_NoticeBlocksDisclosureUntilDelivered(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	h := newHarness(t, r)
	h.packets(t0)
	h.declineRedirect(t0.Add(time.Hour))
	if !blockedBy(h.p, t0.Add(time.Hour), domain.StepNotifyCustomer) || h.p.Cleared() {
		t.Fatal("disclosure must be blocked until the customer is notified")
	}
	evs := h.deliverNotice(t0.Add(2 * time.Hour))
	if !has(evs, "RequestCleared") || !h.p.Cleared() {
		t.Fatalf("events %v, want the request cleared once the notice is delivered", names(evs))
	}
}

func TestClause4_1_2_FailedDeliveryStillBlocksAndRetryDeliversOnce(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	h := newHarness(t, r)
	h.declineRedirect(t0)
	failed := notice(t0.Add(time.Minute))
	failed.Reason = "smtp: connection refused"
	h.do(h.p.RecordDeliveryFailure(failed))
	if h.status(domain.StepNotifyCustomer) != domain.StatusFailed || !blockedBy(h.p, t0.Add(time.Minute), domain.StepNotifyCustomer) {
		t.Fatalf("after a failure: %+v", h.p.Step(domain.StepNotifyCustomer))
	}
	h.deliverNotice(t0.Add(5 * time.Minute))
	again := h.deliverNotice(t0.Add(6 * time.Minute)) // a retry after a lost ack
	if len(again) != 0 {
		t.Fatalf("retry produced %v", names(again))
	}
	delivered := 0
	for _, d := range h.p.Deliveries() {
		if !d.Failed {
			delivered++
		}
	}
	if delivered != 1 || h.status(domain.StepNotifyCustomer) != domain.StatusDone {
		t.Fatalf("delivered %d times, status %s", delivered, h.status(domain.StepNotifyCustomer))
	}
}

// Changed by issue 15: a decision on the imminent-risk basis used to skip
// the notices by itself; now an exemption resting on a recorded finding,
// proposed by one person and confirmed by legal, does.
func TestClause4_1_2_ImminentRiskSkipsNoticeOnRecordedBasis(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.ImminentRisk = domain.ImminentRisk{Present: true, Basis: "kidnapping in progress", Claimed: true}
	h := newHarness(t, r)
	if h.status(domain.StepNotifyCustomer) != domain.StatusRequired {
		t.Fatalf("the decision's basis alone skipped the notice: %+v", h.p.Step(domain.StepNotifyCustomer))
	}
	h.packets(t0)
	h.exempt(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipImminentRisk, Basis: "kidnapping in progress",
		WhyNoticeDefeats: "the customer's staff may alert the suspect"}, t0)
	s := h.p.Step(domain.StepNotifyCustomer)
	if s.SkipReason != domain.SkipImminentRisk || s.Basis != "kidnapping in progress" {
		t.Fatalf("notice %+v", s)
	}
	if !h.p.Cleared() {
		t.Fatalf("blockers %v", domain.Blockers(h.p, t0))
	}
	if !slices.ContainsFunc(h.p.Flags(), func(f domain.Flag) bool { return f.Code == domain.FlagNoticeAfterEmergency }) {
		t.Fatal("a notice after the emergency must be flagged as owed")
	}
	// Only prior notice is exempt: a later notice may be sent.
	h.do(h.p.RecordDelivery(notice(t0.Add(48 * time.Hour))))
}

func TestClause4_1_2_ImminentRiskNeedsBasis(t *testing.T) {
	r := baseReq()
	r.ImminentRisk = domain.ImminentRisk{Present: true}
	wantInvalid(t, r.Validate(), "imminent_risk.basis")
}

func TestClause4_1_2_ExemptionRecordedLaterNeedsBasis(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.ImminentRisk = domain.ImminentRisk{Claimed: true}
	h := newHarness(t, r)
	h.packets(t0)
	h.declineRedirect(t0)
	_, err := h.p.ProposeExemption(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipImminentRisk, WhyNoticeDefeats: "x"}, reviewer.ID, t0)
	wantInvalid(t, err, "basis")
	wantInvalid(t, err, "evidence_reference")
	evs := h.exempt(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipImminentRisk, Basis: "risk to life reported by police",
		WhyNoticeDefeats: "notice would reach the suspect"}, t0.Add(time.Hour))
	if !has(evs, "RequestCleared") {
		t.Fatalf("events %v", names(evs))
	}
	if ex := h.p.Exemptions(); len(ex) != 1 || ex[0].Basis == "" || ex[0].By == "" {
		t.Fatalf("exemptions %+v", ex)
	}
}

func TestClause4_1_2_ProhibitionExemptionBringsInWaiverEfforts(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.Prohibition = domain.Prohibition{Present: true, Reference: "order 9/2026"}
	h := newHarness(t, r)
	h.declineRedirect(t0)
	h.exempt(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipProhibited, Basis: "gag order", Evidence: "order 9/2026"}, t0)
	if h.status(domain.StepWaiverEfforts) != domain.StatusRequired || h.p.Cleared() {
		t.Fatalf("waiver %+v, cleared %v", h.p.Step(domain.StepWaiverEfforts), h.p.Cleared())
	}
}

func TestClause4_1_2_NoNoticeWhileGagHolds(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.Prohibition = domain.Prohibition{Present: true, Reference: "order 9/2026"}
	h := newHarness(t, r)
	h.declineRedirect(t0)
	_, err := h.p.RecordDelivery(notice(t0.Add(time.Hour)))
	wantPolicy(t, err, "4.1.2", "NOTICE_PROHIBITED")
}

// Changed by issue 15: the gag used to schedule the notice by itself; now
// the scheduling follows a confirmed prohibition exemption.
func TestClause4_1_2_GagWithExpirySchedulesNoticeForExpiryDay(t *testing.T) {
	expiry := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.Prohibition = domain.Prohibition{Present: true, Reference: "order 10/2026", ExpiresAt: expiry}
	h := newHarness(t, r)
	h.declineRedirect(t0)
	for _, k := range []domain.StepKind{domain.StepNotifyCustomer, domain.StepNotifyDPA} {
		h.exempt(domain.ExemptionProposal{Step: k, Reason: domain.SkipProhibited, Evidence: "order 10/2026"}, t0)
	}
	s := h.p.Step(domain.StepNotifyCustomer)
	if s.Status != domain.StatusScheduled || !s.ScheduledFor.Equal(expiry) {
		t.Fatalf("notice %+v, want scheduled for %s", s, expiry)
	}
	if len(h.p.DueSteps(expiry.Add(-time.Second))) != 0 {
		t.Fatal("notice due before the gag lifts")
	}
	if due := h.p.DueSteps(expiry); len(due) != 2 || due[0].Kind != domain.StepNotifyCustomer {
		t.Fatalf("due at expiry: %+v", due)
	}

	// While the gag stands: efforts recorded, no notice, disclosure may clear.
	_, err := h.p.RecordDelivery(notice(expiry.Add(-time.Hour)))
	wantPolicy(t, err, "4.1.2", "NOTICE_PROHIBITED")
	h.do(h.p.RecordWaiverEffort(domain.WaiverEffort{Kind: domain.EffortInformObligations, Outcome: domain.WaiverInformed, Person: "counsel@corp", At: t0}))
	h.do(h.p.RecordWaiverEffort(domain.WaiverEffort{Kind: domain.EffortAllowCustomerPersonnel, Outcome: domain.WaiverDeclined, Person: "counsel@corp", At: t0}))
	if !h.p.Cleared() {
		t.Fatalf("blockers %v", domain.Blockers(h.p, t0))
	}

	// The day it lifts, the notice goes out.
	h.do(h.p.RecordDelivery(notice(expiry)))
	if h.status(domain.StepNotifyCustomer) != domain.StatusDone {
		t.Fatalf("notice %+v", h.p.Step(domain.StepNotifyCustomer))
	}
}

func TestClause4_1_2_ExpiredGagBlocksUndisclosedRequestUntilNotice(t *testing.T) {
	expiry := t0.AddDate(0, 0, 10)
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.Prohibition = domain.Prohibition{Present: true, Reference: "order 11/2026", ExpiresAt: expiry}
	h := newHarness(t, r)
	h.declineRedirect(t0)
	if !blockedBy(h.p, expiry.Add(-time.Hour), domain.StepNotifyCustomer) {
		t.Fatal("a gag alone lifted the notice: an exemption must be confirmed by a second person")
	}
	h.exempt(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipProhibited, Evidence: "order 11/2026"}, t0)
	if blockedBy(h.p, expiry.Add(-time.Hour), domain.StepNotifyCustomer) {
		t.Fatal("a scheduled notice must not block while the gag stands")
	}
	if !blockedBy(h.p, expiry, domain.StepNotifyCustomer) {
		t.Fatal("once the gag has lifted the notice must precede disclosure")
	}
}

func TestClause4_1_2_NoticeToNonControllerRefused(t *testing.T) {
	r := baseReq()
	r.Customer = domain.Customer{ID: "cust-42"}
	h := newHarness(t, r)
	_, err := h.p.RecordDelivery(notice(t0))
	wantPolicy(t, err, "4.1.2", "NO_CUSTOMER_NOTICE")
}

func TestClause4_2_1_HoldWhenCountryNotAdequate(t *testing.T) {
	h := newHarness(t, baseReq())
	if !has(h.log, "HoldPlaced") || !h.p.Hold().Open() {
		t.Fatalf("events %v, want HoldPlaced", names(h.log))
	}
	if !blockedBy(h.p, t0, domain.StepHoldAndConsultDPA) {
		t.Fatal("an open hold must block disclosure")
	}
}

func TestClause4_2_1_AdequacyJudgedAsOfDateReceived(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "BR"
	r.ReceivedAt = date("2026-01-20")
	h := newHarness(t, r) // derived after 2026-01-26, still judged on receipt
	if h.status(domain.StepHoldAndConsultDPA) != domain.StatusRequired {
		t.Fatalf("received before Brazil's decision: hold %+v", h.p.Step(domain.StepHoldAndConsultDPA))
	}
	r.ReceivedAt = date("2026-01-26")
	if p := domain.DerivePlan(r, registry(t), cfg); p.Step(domain.StepHoldAndConsultDPA).SkipReason != domain.SkipCountryAdequate {
		t.Fatalf("received on the decision day: hold %+v", p.Step(domain.StepHoldAndConsultDPA))
	}
}

func TestClause4_2_1_HoldLiftsOnlyOnConsultationOutcome(t *testing.T) {
	r := baseReq()
	r.Customer = domain.Customer{}
	h := newHarness(t, r)
	_, err := h.p.LiftHold("privacy@corp", t0.Add(time.Hour))
	wantPolicy(t, err, "4.2.1", "HOLD_NEEDS_CONSULTATION")

	// Another DPA's answer does not lift it; the lead's guidance allows a
	// person to lift it.
	h.packets(t0)
	h.consult("CNIL", domain.ConsultationNoObjection, t0.Add(time.Hour))
	if !h.p.Hold().Open() {
		t.Fatal("a non-lead answer lifted the hold")
	}
	h.packets(t0)
	h.consult("DPC-IE", domain.ConsultationGuidance, t0.Add(2*time.Hour))
	if !h.p.Hold().Open() {
		t.Fatal("guidance lifted the hold without a person deciding")
	}
	evs := h.do(h.p.LiftHold("privacy@corp", t0.Add(3*time.Hour)))
	if !has(evs, "HoldLifted") || !has(evs, "RequestCleared") || h.status(domain.StepHoldAndConsultDPA) != domain.StatusDone {
		t.Fatalf("events %v", names(evs))
	}
}

func TestClause4_2_1_LeadNoObjectionLiftsHold(t *testing.T) {
	r := baseReq()
	r.Customer = domain.Customer{}
	h := newHarness(t, r)
	h.packets(t0)
	evs := h.consult("DPC-IE", domain.ConsultationNoObjection, t0.Add(time.Hour))
	if !has(evs, "HoldLifted") || h.p.Hold().LiftBasis != domain.LiftOnConsultation {
		t.Fatalf("events %v", names(evs))
	}
}

func TestClause4_2_1_LeadObjectionKeepsHold(t *testing.T) {
	h := newHarness(t, baseReq())
	h.packets(t0)
	h.consult("DPC-IE", domain.ConsultationObjection, t0.Add(time.Hour))
	_, err := h.p.LiftHold("privacy@corp", t0.Add(2*time.Hour))
	wantPolicy(t, err, "4.2.1", "DPA_OBJECTED")
	if !h.p.Hold().Open() {
		t.Fatal("hold lifted over an objection")
	}
}

func TestClause4_2_1_ConsultationFromUnconfiguredAuthorityRefused(t *testing.T) {
	h := newHarness(t, baseReq())
	_, err := h.p.ProposeConsultationOutcome(domain.Consultation{Authority: "someone", Outcome: domain.ConsultationNoObjection, ReplyReference: "r", ReplyDate: t0}, "x", t0)
	wantInvalid(t, err, "authority")
}

func TestClause4_2_1_ExemptionLiftsHold(t *testing.T) {
	r := baseReq()
	r.Customer = domain.Customer{}
	r.ImminentRisk = domain.ImminentRisk{Claimed: true}
	h := newHarness(t, r)
	for _, k := range []domain.StepKind{domain.StepNotifyDPA, domain.StepHoldAndConsultDPA} {
		evs := h.exempt(domain.ExemptionProposal{Step: k, Reason: domain.SkipImminentRisk, Basis: "hostage situation, police statement",
			WhyNoticeDefeats: "hours count"}, t0.Add(time.Hour))
		if k == domain.StepHoldAndConsultDPA && (!has(evs, "HoldLifted") || h.p.Hold().LiftBasis != domain.LiftOnExemption || !h.p.Cleared()) {
			t.Fatalf("events %v", names(evs))
		}
	}
}

func TestClause4_2_1_HoldsListedWithAge(t *testing.T) {
	h := newHarness(t, baseReq())
	oh, ok := h.p.OpenHold(t0.Add(50 * time.Hour))
	if !ok || oh.Age != 50*time.Hour || oh.RequestID != "req-1" || oh.Country != "CN" || oh.WaitingFor == "" {
		t.Fatalf("open hold %+v %v", oh, ok)
	}
	h.packets(t0)
	h.consult("DPC-IE", domain.ConsultationNoObjection, t0.Add(time.Hour))
	if _, ok := h.p.OpenHold(t0.Add(50 * time.Hour)); ok {
		t.Fatal("a lifted hold is still listed")
	}
}

func TestClause4_2_1_PacketDeliveryRecordedWithoutLiftingHold(t *testing.T) {
	h := newHarness(t, baseReq())
	d := domain.Delivery{Step: domain.StepHoldAndConsultDPA, Recipient: "DPC-IE", Channel: domain.ChannelEmail,
		DeliveryID: domain.DeliveryID("req-1", domain.StepHoldAndConsultDPA, "DPC-IE"), At: t0}
	h.do(h.p.RecordDelivery(d))
	if !h.p.Hold().Open() || len(h.p.Deliveries()) != 1 {
		t.Fatalf("hold %+v deliveries %+v", h.p.Hold(), h.p.Deliveries())
	}
}

// Changed by issue 15: the gag used to skip the hold by itself (no hold
// placed); now the hold stands until a confirmed exemption lifts it.
func TestClause4_2_2_GagOnNonAdequateCountryRequiresWaiverEfforts(t *testing.T) {
	r := baseReq()
	r.Prohibition = domain.Prohibition{Present: true, Reference: "order 12/2026"}
	h := newHarness(t, r)
	if !has(h.log, "HoldPlaced") {
		t.Fatal("a gag alone skipped the hold")
	}
	h.declineRedirect(t0)
	for _, k := range []domain.StepKind{domain.StepNotifyCustomer, domain.StepNotifyDPA, domain.StepHoldAndConsultDPA} {
		h.exempt(domain.ExemptionProposal{Step: k, Reason: domain.SkipProhibited, Evidence: "order 12/2026"}, t0)
	}
	effort := func(k domain.WaiverEffortKind, o domain.WaiverOutcome) {
		h.do(h.p.RecordWaiverEffort(domain.WaiverEffort{Kind: k, Outcome: o, Person: "counsel@corp", At: t0.Add(time.Hour), Notes: "call with the authority"}))
	}
	effort(domain.EffortInformObligations, domain.WaiverInformed)
	effort(domain.EffortAskToHold, domain.WaiverPending)
	effort(domain.EffortAllowCustomerPersonnel, domain.WaiverDeclined)
	if !blockedBy(h.p, t0.Add(time.Hour), domain.StepWaiverEfforts) {
		t.Fatal("a pending effort completed the record")
	}
	evs := h.do(h.p.RecordWaiverEffort(domain.WaiverEffort{Kind: domain.EffortAskToHold, Outcome: domain.WaiverDeclined, Person: "counsel@corp", At: t0.Add(2 * time.Hour)}))
	if !has(evs, "RequestCleared") || h.status(domain.StepWaiverEfforts) != domain.StatusDone {
		t.Fatalf("events %v, steps %+v", names(evs), h.p.Steps())
	}
	if len(h.p.WaiverEfforts()) != 4 {
		t.Fatalf("written record has %d efforts", len(h.p.WaiverEfforts()))
	}
}

func TestClause4_2_2_EffortNeedsPersonAndDate(t *testing.T) {
	r := baseReq()
	r.Prohibition = domain.Prohibition{Present: true, Reference: "order 13/2026"}
	h := newHarness(t, r)
	_, err := h.p.RecordWaiverEffort(domain.WaiverEffort{Kind: domain.EffortInformObligations, Outcome: domain.WaiverInformed})
	wantInvalid(t, err, "person")
	wantInvalid(t, err, "at")
}

func TestClause4_2_2_NoEffortsWithoutProhibition(t *testing.T) {
	h := newHarness(t, baseReq())
	_, err := h.p.RecordWaiverEffort(domain.WaiverEffort{Kind: domain.EffortInformObligations, Outcome: domain.WaiverInformed, Person: "x", At: t0})
	wantPolicy(t, err, "4.2.2", "NO_PROHIBITION")
}

func TestClause4_2_2_GagWithoutEndDateFlaggedForChallenge(t *testing.T) {
	r := baseReq()
	r.Prohibition = domain.Prohibition{Present: true, Reference: "order 14/2026"}
	p := domain.DerivePlan(r, registry(t), cfg)
	if !slices.ContainsFunc(p.Flags(), func(f domain.Flag) bool { return f.Code == domain.FlagGagWithoutEndDate && f.Clause == "4.2.2" }) {
		t.Fatalf("flags %+v", p.Flags())
	}
	r.Prohibition.ExpiresAt = t0.AddDate(1, 0, 0)
	p = domain.DerivePlan(r, registry(t), cfg)
	if slices.ContainsFunc(p.Flags(), func(f domain.Flag) bool { return f.Code == domain.FlagGagWithoutEndDate }) {
		t.Fatal("a gag with an end date flagged for challenge")
	}
}

func TestClause4_2_2_GrantedWaiverMakesNoticeAndHoldOwed(t *testing.T) {
	r := baseReq()
	r.Prohibition = domain.Prohibition{Present: true, Reference: "order 15/2026"}
	h := newHarness(t, r)
	h.declineRedirect(t0)
	for _, k := range []domain.StepKind{domain.StepNotifyCustomer, domain.StepHoldAndConsultDPA} {
		h.exempt(domain.ExemptionProposal{Step: k, Reason: domain.SkipProhibited, Evidence: "order 15/2026"}, t0)
	}
	h.do(h.p.RecordWaiverEffort(domain.WaiverEffort{Kind: domain.EffortAllowCustomerPersonnel, Outcome: domain.WaiverGranted, Person: "counsel@corp", At: t0}))
	if h.status(domain.StepNotifyCustomer) != domain.StatusRequired {
		t.Fatalf("notice after the authority allowed it: %+v", h.p.Step(domain.StepNotifyCustomer))
	}
	evs := h.do(h.p.RecordWaiverEffort(domain.WaiverEffort{Kind: domain.EffortAskToHold, Outcome: domain.WaiverGranted, Person: "counsel@corp", At: t0.Add(time.Hour)}))
	if !has(evs, "HoldPlaced") || h.status(domain.StepHoldAndConsultDPA) != domain.StatusRequired {
		t.Fatalf("events %v, hold %+v", names(evs), h.p.Step(domain.StepHoldAndConsultDPA))
	}
}

func TestClause4_2_2_ImminentRiskNeedsOnlyInformingTheAuthority(t *testing.T) {
	r := baseReq()
	r.Prohibition = domain.Prohibition{Present: true, Reference: "order 16/2026"}
	r.ImminentRisk = domain.ImminentRisk{Present: true, Basis: "bomb threat", Claimed: true}
	h := newHarness(t, r)
	for _, k := range []domain.StepKind{domain.StepNotifyCustomer, domain.StepNotifyDPA, domain.StepHoldAndConsultDPA} {
		h.exempt(domain.ExemptionProposal{Step: k, Reason: domain.SkipImminentRisk, WhyNoticeDefeats: "minutes count"}, t0)
	}
	evs := h.do(h.p.RecordWaiverEffort(domain.WaiverEffort{Kind: domain.EffortInformObligations, Outcome: domain.WaiverInformed, Person: "counsel@corp", At: t0}))
	if !has(evs, "RequestCleared") {
		t.Fatalf("events %v, blockers %v", names(evs), domain.Blockers(h.p, t0))
	}
}

func TestClause1_2_CustomerNoticePeriodKeepsGateShut(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.CustomerNoticePeriod = 72 * time.Hour
	h := newHarness(t, r)
	h.packets(t0)
	h.declineRedirect(t0)
	evs := h.deliverNotice(t0)
	if has(evs, "RequestCleared") {
		t.Fatal("cleared before the overlay's notice period ran")
	}
	_, err := h.p.Clear(t0.Add(71 * time.Hour))
	wantPolicy(t, err, "1.2", "DISCLOSURE_BLOCKED")
	h.do(h.p.Clear(t0.Add(72 * time.Hour)))
	if !h.p.Cleared() {
		t.Fatal("not cleared after the period")
	}
}

// The end-to-end path, at the domain level: hold, consultation,
// redirect declined, notice delivered, cleared.
func TestClause2_2_NonAdequateCustomerRequestRunsToClearance(t *testing.T) {
	h := newHarness(t, baseReq())
	steps := []func(){
		func() {
			h.packets(t0)
			h.consult("DPC-IE", domain.ConsultationNoObjection, t0.Add(24*time.Hour))
		},
		func() { h.declineRedirect(t0.Add(25 * time.Hour)) },
		func() { h.deliverNotice(t0.Add(26 * time.Hour)) },
	}
	for i, step := range steps {
		if h.p.Cleared() {
			t.Fatalf("cleared before step %d", i)
		}
		step()
	}
	if !h.p.Cleared() || len(domain.Blockers(h.p, t0.Add(27*time.Hour))) != 0 {
		t.Fatalf("blockers %v", domain.Blockers(h.p, t0.Add(27*time.Hour)))
	}
	want := []string{"PlanDerived", "HoldPlaced", "NoticeDelivered", "NoticeDelivered", "ConsultationOutcomeProposed", "LiftConfirmed", "HoldLifted", "RedirectOutcomeRecorded", "NoticeDelivered", "RequestCleared"}
	if got := names(h.log); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	folded, err := domain.Fold(h.log)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(folded, h.p) {
		t.Fatal("folding the events does not rebuild the plan")
	}
}

func TestGateClearedOnlyWhenEveryRequiredStepDone(t *testing.T) {
	// Every state reached along the paths above: whenever the plan is
	// cleared, no step is required or failed and no hold stands.
	check := func(p *domain.Plan) {
		t.Helper()
		if !p.Cleared() {
			return
		}
		for _, s := range p.Steps() {
			if s.Status == domain.StatusRequired || s.Status == domain.StatusFailed {
				t.Fatalf("cleared with %s %s", s.Kind, s.Status)
			}
		}
		if p.Hold().Open() {
			t.Fatal("cleared with an open hold")
		}
	}
	for _, country := range []string{"CN", "DE"} {
		for _, controller := range []bool{true, false} {
			r := baseReq()
			r.AuthorityCountry, r.Customer.Controller = country, controller
			h := newHarness(t, r)
			check(h.p)
			h.packets(t0)
			check(h.p)
			if controller {
				h.declineRedirect(t0)
				check(h.p)
				h.deliverNotice(t0)
				check(h.p)
			}
			if h.p.Hold().Open() {
				h.consult("DPC-IE", domain.ConsultationNoObjection, t0)
			}
			if !h.p.Cleared() {
				t.Fatalf("%s controller=%v: blockers %v", country, controller, domain.Blockers(h.p, t0))
			}
			check(h.p)
		}
	}
}

func TestBlockersExplainWithClause(t *testing.T) {
	h := newHarness(t, baseReq())
	bs := domain.Blockers(h.p, t0.Add(3*time.Hour))
	if len(bs) < 3 {
		t.Fatalf("blockers %+v", bs)
	}
	for _, b := range bs {
		if b.Clause == "" || b.Explanation == "" {
			t.Fatalf("blocker without clause or explanation: %+v", b)
		}
	}
}

func TestRedecisionKeepsRecordedFacts(t *testing.T) {
	r := baseReq()
	r.Decision = policy.DecisionRedirectToCustomer
	h := newHarness(t, r)
	h.declineRedirect(t0)
	h.packets(t0)
	h.consult("DPC-IE", domain.ConsultationNoObjection, t0)
	h.deliverNotice(t0.Add(time.Hour))
	if h.p.Cleared() {
		t.Fatal("a redirect decision cleared disclosure")
	}
	r.Decision = policy.DecisionDisclose
	evs := h.do(h.p.Derive(r, registry(t), cfg, t0.Add(2*time.Hour)))
	if !has(evs, "RequestCleared") {
		t.Fatalf("disclose decision after all steps were done: events %v, blockers %v", names(evs), domain.Blockers(h.p, t0.Add(2*time.Hour)))
	}
	if again, err := h.p.Derive(r, registry(t), cfg, t0.Add(3*time.Hour)); err != nil || len(again) != 0 {
		t.Fatalf("re-deriving the same decision: %v %v", names(again), err)
	}
}

func TestApplyRefusesEventsBeforePlan(t *testing.T) {
	var p domain.Plan
	if err := p.Apply(domain.HoldPlaced{At: t0}); err == nil {
		t.Fatal("applied HoldPlaced to a plan that does not exist")
	}
}

func TestValidateRequirements(t *testing.T) {
	tests := map[string]struct {
		mut   func(*domain.Requirements)
		field string
	}{
		"no request id":         {func(r *domain.Requirements) { r.RequestID = "" }, "request_id"},
		"unknown decision":      {func(r *domain.Requirements) { r.Decision = "approve" }, "decision"},
		"controller without id": {func(r *domain.Requirements) { r.Customer.ID = "" }, "customer.id"},
		"redirect no controller": {func(r *domain.Requirements) {
			r.Decision = policy.DecisionRedirectToCustomer
			r.Customer = domain.Customer{}
		}, "decision"},
		"gag without reference": {func(r *domain.Requirements) { r.Prohibition.Present = true }, "prohibition.reference"},
		"gag expired at receipt": {func(r *domain.Requirements) {
			r.Prohibition = domain.Prohibition{Present: true, Reference: "x", ExpiresAt: t0}
		}, "prohibition.expires_at"},
		"no received date": {func(r *domain.Requirements) { r.ReceivedAt = time.Time{} }, "received_at"},
		"negative period":  {func(r *domain.Requirements) { r.CustomerNoticePeriod = -time.Hour }, "customer_notice_period"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := baseReq()
			tt.mut(&r)
			wantInvalid(t, r.Validate(), tt.field)
		})
	}
	if err := baseReq().Validate(); err != nil {
		t.Fatalf("valid requirements refused: %v", err)
	}
}
