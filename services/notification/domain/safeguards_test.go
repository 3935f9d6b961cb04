package domain_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// proposer proposed the disclosure decision: barred from confirming.
var proposer = policy.Person{ID: "proposer@corp", Roles: []policy.Role{policy.RoleLegal, policy.RoleApprover, policy.RoleReviewer}}

func proposedReq() domain.Requirements {
	r := baseReq()
	r.DecisionProposer = proposer.ID
	return r
}

func TestClause4_1_2_ExemptionNeedsAGagOrAnImminentRiskBasis(t *testing.T) {
	// The probe of issue 15: no gag, no risk claimed, a compelling-obligation
	// decision. Neither ground may be recorded.
	h := newHarness(t, proposedReq())
	h.declineRedirect(t0)
	for _, step := range []domain.StepKind{domain.StepNotifyCustomer, domain.StepNotifyDPA, domain.StepHoldAndConsultDPA} {
		_, err := h.p.ProposeExemption(domain.ExemptionProposal{Step: step, Reason: domain.SkipProhibited, Basis: "b", Evidence: "e"}, reviewer.ID, t0)
		wantPolicy(t, err, step.Clause().Number(), domain.RuleExemptionNoProhibition)
		_, err = h.p.ProposeExemption(domain.ExemptionProposal{Step: step, Reason: domain.SkipImminentRisk, Basis: "b", Evidence: "e", WhyNoticeDefeats: "w"}, reviewer.ID, t0)
		wantPolicy(t, err, step.Clause().Number(), domain.RuleExemptionNoRiskFinding)
	}
	// A decision on the imminent-risk basis is not itself a finding.
	r := proposedReq()
	r.ImminentRisk = domain.ImminentRisk{Present: true, Basis: "said so"}
	h = newHarness(t, r)
	_, err := h.p.ProposeExemption(domain.ExemptionProposal{Step: domain.StepHoldAndConsultDPA, Reason: domain.SkipImminentRisk, Basis: "b", Evidence: "e", WhyNoticeDefeats: "w"}, reviewer.ID, t0)
	wantPolicy(t, err, "4.2.1", domain.RuleExemptionNoRiskFinding)
	// A finding without why prior notice would defeat it is not enough.
	r.ImminentRisk.Justification = "reviewer: credible threat to a child"
	h = newHarness(t, r)
	_, err = h.p.ProposeExemption(domain.ExemptionProposal{Step: domain.StepHoldAndConsultDPA, Reason: domain.SkipImminentRisk, Basis: "b", Evidence: "e"}, reviewer.ID, t0)
	wantPolicy(t, err, "4.2.1", domain.RuleExemptionNoRiskFinding)
	// A court order in a kidnapping case (compelling obligation) with the
	// authority's risk claim qualifies, whatever the decision's basis.
	r = proposedReq()
	r.ImminentRisk = domain.ImminentRisk{Claimed: true}
	h = newHarness(t, r)
	h.do(h.p.ProposeExemption(domain.ExemptionProposal{Step: domain.StepHoldAndConsultDPA, Reason: domain.SkipImminentRisk, Basis: "kidnapping", Evidence: "court order 5", WhyNoticeDefeats: "hours count"}, reviewer.ID, t0))
	// A statute cited by legal is a recorded prohibition without a gag order.
	h = newHarness(t, proposedReq())
	h.do(h.p.ProposeExemption(domain.ExemptionProposal{Step: domain.StepNotifyDPA, Reason: domain.SkipProhibited, Basis: "statutory bar", Evidence: "s. 12", Statute: "Act 12 s. 3"}, legal.ID, t0))
}

func TestClause4_2_1_ExemptionTakesASecondPersonWithTheLegalRoleNeverTheProposer(t *testing.T) {
	r := proposedReq()
	r.Prohibition = domain.Prohibition{Present: true, Reference: "gag 1"}
	h := newHarness(t, r)
	h.do(h.p.ProposeExemption(domain.ExemptionProposal{Step: domain.StepHoldAndConsultDPA, Reason: domain.SkipProhibited, Basis: "gag", Evidence: "gag 1"}, legal.ID, t0))
	id := h.lastLift()
	if !h.p.Hold().Open() || h.status(domain.StepHoldAndConsultDPA) != domain.StatusRequired {
		t.Fatal("a proposed exemption lifted the hold")
	}
	for _, c := range []struct {
		who  policy.Person
		rule string
	}{
		{legal, policy.RuleLiftSelfConfirm},
		{proposer, policy.RuleLiftBarredConfirmer},
		{approver, policy.RuleLiftConfirmerRole},
		{reviewer, policy.RuleLiftConfirmerRole},
	} {
		_, err := h.p.ConfirmLift(id, c.who, t0)
		wantPolicy(t, err, "4.2.1", c.rule)
	}
	evs := h.do(h.p.ConfirmLift(id, legal2, t0.Add(time.Minute)))
	if !has(evs, "HoldLifted") || h.p.Hold().LiftBasis != domain.LiftOnExemption {
		t.Fatalf("events %v", names(evs))
	}
	// Twice: the same confirmation again is a retry; another person's is refused.
	if again := h.do(h.p.ConfirmLift(id, legal2, t0.Add(2*time.Minute))); len(again) != 0 {
		t.Fatalf("retry produced %v", names(again))
	}
	_, err := h.p.ConfirmLift(id, policy.Person{ID: "legal3", Roles: []policy.Role{policy.RoleLegal}}, t0)
	wantPolicy(t, err, "4.2.1", policy.RuleLiftAlreadyConfirmed)
	_, err = h.p.ConfirmLift("no-such", legal2, t0)
	if !errors.Is(err, ddrerr.ErrNotFound) {
		t.Fatalf("unknown lift: %v", err)
	}
}

func TestClause4_2_1_OnePersonCannotLiftAnythingTheOldWay(t *testing.T) {
	h := newHarness(t, proposedReq())
	_, err := h.p.RecordExemption(domain.StepHoldAndConsultDPA, domain.SkipImminentRisk, "b", approver.ID, t0)
	wantPolicy(t, err, "4.2.1", domain.RuleNeedsTwoPeople)
	_, err = h.p.RecordConsultation(domain.Consultation{Authority: "DPC-IE", Outcome: domain.ConsultationNoObjection, By: "x", At: t0})
	wantPolicy(t, err, "4.2.1", domain.RuleNeedsTwoPeople)
	// A legacy one-person exemption in the record lifts nothing.
	p, err := domain.Fold(append(slices.Clone(h.log),
		domain.ExemptionRecorded{Exemption: domain.Exemption{Step: domain.StepHoldAndConsultDPA, Reason: domain.SkipImminentRisk, Basis: "b", By: "x", At: t0}},
		domain.HoldLifted{At: t0, Basis: domain.LiftOnExemption, By: "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Step(domain.StepHoldAndConsultDPA).Status != domain.StatusRequired || len(domain.Blockers(p, t0)) == 0 {
		t.Fatalf("a legacy one-person exemption counts: %+v", p.Step(domain.StepHoldAndConsultDPA))
	}
}

func TestClause4_2_1_ConsultationOutcomeNeedsADeliveredPacketAndASecondPerson(t *testing.T) {
	h := newHarness(t, proposedReq())
	answer := domain.Consultation{Authority: "DPC-IE", Outcome: domain.ConsultationNoObjection, ReplyReference: "DPC/2026/17", ReplyDate: t0.Add(48 * time.Hour)}
	_, err := h.p.ProposeConsultationOutcome(answer, reviewer.ID, t0.Add(48*time.Hour))
	wantPolicy(t, err, "4.2.1", domain.RuleConsultationNoPacket)

	// A failed delivery is not a packet that went out.
	d := domain.Delivery{Step: domain.StepNotifyDPA, Recipient: "DPC-IE", Channel: domain.ChannelEmail, DeliveryID: "dlv-x", At: t0, Reason: "refused"}
	h.do(h.p.RecordDeliveryFailure(d))
	_, err = h.p.ProposeConsultationOutcome(answer, reviewer.ID, t0.Add(48*time.Hour))
	wantPolicy(t, err, "4.2.1", domain.RuleConsultationNoPacket)

	// A manual dispatch counts only once a second person confirms it.
	m := domain.ManualDispatch{Authority: "DPC-IE", Means: domain.DispatchPortal, Reference: "portal-991", SentAt: t0.Add(time.Hour)}
	_, err = h.p.ProposeManualDispatch(domain.ManualDispatch{Authority: "DPC-IE", Means: domain.DispatchPost, SentAt: t0}, reviewer.ID, t0.Add(time.Hour))
	wantInvalid(t, err, "reference")
	h.do(h.p.ProposeManualDispatch(m, reviewer.ID, t0.Add(time.Hour)))
	_, err = h.p.ProposeConsultationOutcome(answer, reviewer.ID, t0.Add(48*time.Hour))
	wantPolicy(t, err, "4.2.1", domain.RuleConsultationNoPacket)
	_, err = h.p.ConfirmLift(h.lastLift(), reviewer, t0.Add(time.Hour))
	wantPolicy(t, err, "2.2", policy.RuleLiftSelfConfirm)
	h.do(h.p.ConfirmLift(h.lastLift(), approver, t0.Add(2*time.Hour)))

	// The outcome carries the reply's reference and date, not before the packet.
	_, err = h.p.ProposeConsultationOutcome(domain.Consultation{Authority: "DPC-IE", Outcome: domain.ConsultationNoObjection}, reviewer.ID, t0.Add(48*time.Hour))
	wantInvalid(t, err, "reply_reference")
	wantInvalid(t, err, "reply_date")
	early := answer
	early.ReplyDate = t0.Add(-24 * time.Hour)
	_, err = h.p.ProposeConsultationOutcome(early, reviewer.ID, t0.Add(48*time.Hour))
	wantPolicy(t, err, "4.2.1", domain.RuleReplyBeforePacket)

	evs := h.do(h.p.ProposeConsultationOutcome(answer, reviewer.ID, t0.Add(48*time.Hour)))
	if has(evs, "HoldLifted") || !h.p.Hold().Open() {
		t.Fatal("one person's record of an outcome lifted the hold")
	}
	if again := h.do(h.p.ProposeConsultationOutcome(answer, reviewer.ID, t0.Add(49*time.Hour))); len(again) != 0 {
		t.Fatalf("a redelivered proposal produced %v", names(again))
	}
	id := h.lastLift()
	_, err = h.p.ConfirmLift(id, proposer, t0.Add(49*time.Hour))
	wantPolicy(t, err, "4.2.1", policy.RuleLiftBarredConfirmer)
	evs = h.do(h.p.ConfirmLift(id, approver, t0.Add(49*time.Hour)))
	if !has(evs, "HoldLifted") || h.status(domain.StepHoldAndConsultDPA) != domain.StatusDone {
		t.Fatalf("events %v", names(evs))
	}
}

func TestClause4_2_1_NoReplyAfterThePeriodIsAnOutcomeTwoPeopleRecordWithLegal(t *testing.T) {
	h := newHarness(t, proposedReq())
	h.packets(t0)
	noReply := domain.Consultation{Authority: "DPC-IE", Outcome: domain.ConsultationNoResponse}
	_, err := h.p.ProposeConsultationOutcome(noReply, reviewer.ID, t0.Add(domain.DefaultConsultationPeriod-time.Hour))
	wantPolicy(t, err, "4.2.1", domain.RuleNoReplyTooEarly)
	after := t0.Add(domain.DefaultConsultationPeriod)
	h.do(h.p.ProposeConsultationOutcome(noReply, reviewer.ID, after))
	_, err = h.p.ConfirmLift(h.lastLift(), approver, after)
	wantPolicy(t, err, "4.2.1", policy.RuleLiftConfirmerRole)
	h.do(h.p.ConfirmLift(h.lastLift(), legal, after))
	// No dead end: a person lifts the hold on the confirmed "no reply".
	evs := h.do(h.p.LiftHold(approver.ID, after))
	if !has(evs, "HoldLifted") {
		t.Fatalf("events %v", names(evs))
	}
}

func TestClause2_2_CompetentAuthoritiesAreFoundPerRequestFromData(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.Customer.Establishment = "FR"
	r.Customers = []domain.Customer{{Controller: true, ID: "c2", Establishment: "DE"}, {Controller: true, ID: "c3", Establishment: "US"}, {ID: "c4", Establishment: "IT"}}
	h := newHarness(t, r)
	if got, want := h.p.Authorities(), []string{"DPC-IE", "CNIL", "BfDI-DE"}; !slices.Equal(got, want) {
		t.Fatalf("authorities %v, want %v (lead, configured, each controller's establishment; the processor-only customer adds none)", got, want)
	}
	// Each controller customer is asked and told on its own (issue 16).
	for _, ref := range []string{"c1", "c2", "c3"} {
		h.do(h.p.RecordRedirectOutcomeFor(ref, domain.RedirectDeclined, "", "privacy@corp", t0))
		h.do(h.p.RecordDelivery(customerNotice(ref, t0)))
	}
	h.packet("DPC-IE", t0)
	h.packet("CNIL", t0)
	if h.p.Cleared() || !blockedBy(h.p, t0, domain.StepNotifyDPA) {
		t.Fatal("cleared before every competent authority was notified")
	}
	if got := h.p.PacketRecipients(); !slices.Equal(got, []string{"BfDI-DE"}) {
		t.Fatalf("packet still owed to %v", got)
	}
	_, err := h.p.RecordDelivery(domain.Delivery{Step: domain.StepNotifyDPA, Recipient: "someone", Channel: domain.ChannelEmail, DeliveryID: "d", At: t0})
	wantInvalid(t, err, "recipient")
	if evs := h.packet("BfDI-DE", t0); !has(evs, "RequestCleared") {
		t.Fatalf("events %v", names(evs))
	}
}

// gbRegistry: the United Kingdom adequate until 2026-04-01 (a decision
// struck down, as Safe Harbour and Privacy Shield were).
func gbRegistry(t *testing.T) *policy.AdequacyRegistry {
	t.Helper()
	reg, err := policy.ParseAdequacy([]byte(`{"note":"test","entries":[
		{"country":"GB","name":"United Kingdom","basis":"adequacy_decision","scope":"general","from":"2021-06-28","until":"2026-04-01","source":"test"},
		{"country":"BR","name":"Brazil","basis":"adequacy_decision","scope":"general","from":"2026-04-01","source":"test"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestClause4_2_1_AdequacyLostBeforeClearancePlacesAHold(t *testing.T) {
	reg := gbRegistry(t)
	r := baseReq()
	r.Customer = domain.Customer{}
	r.AuthorityCountry = "GB"
	h := &harness{t: t, p: &domain.Plan{}}
	h.do(h.p.Derive(r, reg, cfg, t0))
	h.p.UseRegistry(reg)
	if h.status(domain.StepHoldAndConsultDPA) != domain.StatusSkipped {
		t.Fatal("GB was adequate on the date received")
	}
	evs := h.packets(date("2026-04-02"))
	if h.p.Cleared() || !has(evs, "AdequacyLost") || !has(evs, "HoldPlaced") {
		t.Fatalf("events %v: adequacy lost since the decision must place a hold before clearing", names(evs))
	}
}

func TestClause4_2_1_AdequacyLostBeforeDisclosurePlacesAHold(t *testing.T) {
	reg := gbRegistry(t)
	r := baseReq()
	r.Customer = domain.Customer{}
	r.AuthorityCountry = "GB"
	h := &harness{t: t, p: &domain.Plan{}}
	h.do(h.p.Derive(r, reg, cfg, t0))
	h.p.UseRegistry(reg)
	h.packets(t0)
	if !h.p.Cleared() {
		t.Fatalf("blockers %v", domain.Blockers(h.p, t0))
	}
	if evs, err := h.p.CheckDisclosure(reg, date("2026-03-31")); err != nil || len(evs) != 0 {
		t.Fatalf("disclosure while still adequate: %v %v", names(evs), err)
	}
	evs, err := h.p.CheckDisclosure(reg, date("2026-04-01"))
	wantPolicy(t, err, "4.2.1", domain.RuleAdequacyLost)
	h.do(evs, nil)
	if h.p.Cleared() || !h.p.Hold().Open() || !has(evs, "AdequacyLost") {
		t.Fatalf("events %v: the plan must be re-made with a hold", names(evs))
	}
	// Re-deriving on the old received date does not undo it (rule 11).
	h.do(h.p.Derive(r, reg, domain.Config{LeadDPA: "DPC-IE", OtherDPAs: []string{"CNIL", "X"}}, t0.Add(time.Hour)))
	if h.status(domain.StepHoldAndConsultDPA) != domain.StatusRequired {
		t.Fatalf("re-derive dropped the hold: %+v", h.p.Step(domain.StepHoldAndConsultDPA))
	}
}

func TestClause4_2_1_GainedAdequacyChangesNothingByItself(t *testing.T) {
	reg := gbRegistry(t)
	r := baseReq()
	r.Customer = domain.Customer{}
	r.AuthorityCountry = "BR"
	h := &harness{t: t, p: &domain.Plan{}}
	h.do(h.p.Derive(r, reg, cfg, t0))
	h.p.UseRegistry(reg)
	h.packets(date("2026-05-01"))
	if _, err := h.p.Clear(date("2026-05-01")); err == nil || h.p.Cleared() || !h.p.Hold().Open() {
		t.Fatal("adequacy gained after the decision lifted the hold")
	}
	if evs, err := h.p.CheckDisclosure(reg, date("2026-05-01")); len(evs) != 0 || err == nil {
		t.Fatalf("gained adequacy: %v %v", names(evs), err)
	}
}

func TestClause2_2_RefusalNamesEveryBlockingClauseMostSpecificFirst(t *testing.T) {
	r := baseReq()
	r.Prohibition = domain.Prohibition{Present: true, Reference: "gag"}
	h := newHarness(t, r)
	h.declineRedirect(t0)
	err := domain.DisclosureRefusal(h.p, t0)
	var pv *ddrerr.PolicyViolation
	if !errors.As(err, &pv) {
		t.Fatalf("got %v", err)
	}
	if want := []string{"4.1.2", "4.2.1", "4.2.2", "2.2"}; !slices.Equal(pv.Clauses, want) || pv.Clause != "4.1.2" {
		t.Fatalf("clauses %v (first %s), want %v", pv.Clauses, pv.Clause, want)
	}
	_, err = h.p.Clear(t0)
	if !errors.As(err, &pv) || len(pv.Clauses) != 4 {
		t.Fatalf("Clear: %v", err)
	}
}

func TestClause2_2_WeakeningAPlanTakesTheSameTwoPersonCheck(t *testing.T) {
	// A correction says the customer is not the controller after all: the
	// notice once owed stays owed until two people confirm dropping it.
	h := newHarness(t, proposedReq())
	r := proposedReq()
	r.Customer = domain.Customer{ID: "cust-42"}
	r.DecisionID = "corrected"
	h.do(h.p.Derive(r, registry(t), cfg, t0.Add(time.Hour)))
	if h.status(domain.StepNotifyCustomer) != domain.StatusRequired || !slices.Contains(h.p.Weakenings(), domain.StepNotifyCustomer) {
		t.Fatalf("corrected facts dropped the notice at once: %+v", h.p.Step(domain.StepNotifyCustomer))
	}
	_, err := h.p.ProposeWeakening(domain.StepHoldAndConsultDPA, "b", "e", reviewer.ID, t0)
	wantPolicy(t, err, "4.2.1", domain.RuleNothingToWeaken)
	h.do(h.p.ProposeWeakening(domain.StepNotifyCustomer, "contract shows the company is controller", "contract 7", reviewer.ID, t0.Add(2*time.Hour)))
	_, err = h.p.ConfirmLift(h.lastLift(), reviewer, t0)
	wantPolicy(t, err, "4.1.2", policy.RuleLiftSelfConfirm)
	_, err = h.p.ConfirmLift(h.lastLift(), approver, t0)
	wantPolicy(t, err, "4.1.2", policy.RuleLiftConfirmerRole)
	h.do(h.p.ConfirmLift(h.lastLift(), legal, t0.Add(3*time.Hour)))
	if s := h.p.Step(domain.StepNotifyCustomer); s.Status != domain.StatusSkipped || s.SkipReason != domain.SkipCustomerNotController {
		t.Fatalf("notice %+v", s)
	}
}

func TestClause4_1_2_FactsThatChangeAfterTheProposalAreCheckedAtConfirmation(t *testing.T) {
	r := proposedReq()
	r.ImminentRisk = domain.ImminentRisk{Claimed: true}
	h := newHarness(t, r)
	h.do(h.p.ProposeExemption(domain.ExemptionProposal{Step: domain.StepHoldAndConsultDPA, Reason: domain.SkipImminentRisk, Basis: "b", Evidence: "e", WhyNoticeDefeats: "w"}, reviewer.ID, t0))
	id := h.lastLift()
	// An amendment withdraws the risk claim before legal confirms.
	r.ImminentRisk = domain.ImminentRisk{}
	r.DecisionID = "amended"
	h.do(h.p.Derive(r, registry(t), cfg, t0.Add(time.Hour)))
	_, err := h.p.ConfirmLift(id, legal, t0.Add(2*time.Hour))
	wantPolicy(t, err, "4.2.1", domain.RuleExemptionNoRiskFinding)
	if !h.p.Hold().Open() {
		t.Fatal("hold lifted on facts that no longer stand")
	}
}

func TestClause4_2_1_ALaterDecisionProposedByTheConfirmerVoidsTheConfirmation(t *testing.T) {
	r := proposedReq()
	r.Prohibition = domain.Prohibition{Present: true, Reference: "gag 2"}
	h := newHarness(t, r)
	h.do(h.p.ProposeExemption(domain.ExemptionProposal{Step: domain.StepHoldAndConsultDPA, Reason: domain.SkipProhibited, Basis: "gag", Evidence: "gag 2"}, reviewer.ID, t0))
	h.do(h.p.ConfirmLift(h.lastLift(), legal, t0))
	if h.status(domain.StepHoldAndConsultDPA) != domain.StatusSkipped {
		t.Fatalf("hold %+v", h.p.Step(domain.StepHoldAndConsultDPA))
	}
	r.DecisionProposer, r.DecisionID = legal.ID, "second"
	h.do(h.p.Derive(r, registry(t), cfg, t0.Add(time.Hour)))
	if h.status(domain.StepHoldAndConsultDPA) != domain.StatusRequired || !h.p.Hold().Open() {
		t.Fatalf("the new decision's proposer had confirmed the exemption, yet it still stands: %+v", h.p.Step(domain.StepHoldAndConsultDPA))
	}
}
