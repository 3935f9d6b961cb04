package domain_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// tellEnd is the accepted outcome notice of end to authority.
func tellEnd(authority string, end policy.Outcome, at time.Time) domain.Delivery {
	return domain.Delivery{Step: domain.StepNotifyDPAOutcome, Recipient: authority, Channel: domain.ChannelEmail, End: end,
		DeliveryID: domain.DeliveryID("req-1", domain.StepNotifyDPAOutcome, authority+"/"+string(end)), Receipt: "250 queued", At: at}
}

func wantOutcomeRecipients(t *testing.T, p *domain.Plan, end policy.Outcome, to ...string) {
	t.Helper()
	gotEnd, got := p.OutcomeRecipients()
	if gotEnd != end || !slices.Equal(got, to) {
		t.Fatalf("outcome notice of %q owed to %v, want %q to %v", gotEnd, got, end, to)
	}
}

func TestClause5_1_ConsultedDPAsAreToldTheDisclosureOnceEach(t *testing.T) {
	h := emergencyCleared(t)
	if s := h.p.Step(domain.StepNotifyDPAOutcome); s.Status != "" {
		t.Fatalf("an open request already owes the outcome notice: %+v", s)
	}
	wantOutcomeRecipients(t, h.p, "")
	disclosed := t0.Add(2 * time.Hour)
	h.do([]domain.Event{domain.DisclosureRecorded{CauseEventID: "ev-disp", At: disclosed}}, nil)
	wantOutcomeRecipients(t, h.p, policy.OutcomeDisclosed, "DPC-IE", "CNIL")
	s := h.p.Step(domain.StepNotifyDPAOutcome)
	if s.Status != domain.StatusRequired || s.Clause != "5.1" {
		t.Fatalf("outcome step %+v", s)
	}
	if blockedBy(h.p, disclosed, domain.StepNotifyDPAOutcome) {
		t.Fatal("the outcome notice blocks: the request is over")
	}
	h.do(h.p.RecordDelivery(tellEnd("DPC-IE", policy.OutcomeDisclosed, disclosed)))
	// The same notice recorded again (a redelivery, a second replica) adds
	// nothing.
	if evs, err := h.p.RecordDelivery(tellEnd("DPC-IE", policy.OutcomeDisclosed, disclosed.Add(time.Minute))); err != nil || len(evs) != 0 {
		t.Fatalf("a repeated outcome notice recorded %v (%v)", names(evs), err)
	}
	wantOutcomeRecipients(t, h.p, policy.OutcomeDisclosed, "CNIL")
	h.do(h.p.RecordDelivery(tellEnd("CNIL", policy.OutcomeDisclosed, disclosed.Add(time.Hour))))
	if s := h.p.Step(domain.StepNotifyDPAOutcome); s.Status != domain.StatusDone || !s.DoneAt.Equal(disclosed.Add(time.Hour)) {
		t.Fatalf("outcome step %+v", s)
	}
	// A withdrawal after the disclosure undoes nothing: the end stays
	// "disclosed", nothing more is owed, and the stop leaves the step be.
	h.do([]domain.Event{domain.Withdrawn{CauseEventID: "ev-w", At: disclosed.Add(2 * time.Hour)}}, nil)
	wantOutcomeRecipients(t, h.p, policy.OutcomeDisclosed)
	if s := stopped(h.do(h.p.Stop(domain.StopWithdrawn, "ev-w", disclosed.Add(2*time.Hour)))); slices.Contains(s.Steps, domain.StepNotifyDPAOutcome) {
		t.Fatalf("stopped %v", s.Steps)
	}
	if h.status(domain.StepNotifyDPAOutcome) != domain.StatusDone {
		t.Fatalf("outcome step %+v", h.p.Step(domain.StepNotifyDPAOutcome))
	}
}

func TestClause5_1_WithdrawalIsAnEndToldOnlyToTheDPAsThePacketReached(t *testing.T) {
	h := newHarness(t, baseReq())
	h.packet("DPC-IE", t0) // CNIL was never reached
	w := domain.Withdrawn{CauseEventID: "ev-w", At: t0.Add(time.Hour)}
	h.do([]domain.Event{w}, nil)
	wantOutcomeRecipients(t, h.p, policy.OutcomeWithdrawn, "DPC-IE")
	s := stopped(h.do(h.p.Stop(domain.StopWithdrawn, "ev-w", w.At)))
	if slices.Contains(s.Steps, domain.StepNotifyDPAOutcome) || h.status(domain.StepNotifyDPAOutcome) != domain.StatusRequired {
		t.Fatalf("the withdrawal stopped the notice of itself: stopped %v, step %+v", s.Steps, h.p.Step(domain.StepNotifyDPAOutcome))
	}
	// Nothing else leaves after the withdrawal.
	if h.p.PacketOwed() {
		t.Fatal("a packet is owed after the withdrawal")
	}
	_, err := h.p.RecordDelivery(tellEnd("CNIL", policy.OutcomeWithdrawn, w.At))
	wantInvalid(t, err, "recipient")
	_, err = h.p.RecordDelivery(tellEnd("DPC-IE", "abandoned", w.At))
	wantInvalid(t, err, "request_end")
	h.do(h.p.RecordDelivery(tellEnd("DPC-IE", policy.OutcomeWithdrawn, w.At)))
	if h.status(domain.StepNotifyDPAOutcome) != domain.StatusDone {
		t.Fatalf("outcome step %+v", h.p.Step(domain.StepNotifyDPAOutcome))
	}
	// Reporting's terminal outcome for the same end asks for nothing more.
	h.do([]domain.Event{domain.TerminalRecorded{CauseEventID: "ev-t", End: policy.OutcomeWithdrawn, At: w.At.Add(time.Hour)}}, nil)
	wantOutcomeRecipients(t, h.p, policy.OutcomeWithdrawn)
}

func TestClause5_1_TheObjectingDPAIsToldOfTheRejectionAndOfEachLaterEnd(t *testing.T) {
	r := baseReq()
	r.DecisionID = "D1"
	h := newHarness(t, r)
	h.packets(t0)
	h.consult("DPC-IE", domain.ConsultationObjection, t0.Add(time.Hour))
	reopen := domain.Reopened{CauseEventID: "ev-reopen", SupersededDecisionID: "D1", At: t0.Add(2 * time.Hour)}
	h.do([]domain.Event{reopen}, nil)
	wantOutcomeRecipients(t, h.p, "")
	rej := baseReq()
	rej.DecisionID, rej.Decision = "D2", policy.DecisionReject
	h.do(h.p.Derive(rej, registry(t), cfg, t0.Add(3*time.Hour)))
	wantOutcomeRecipients(t, h.p, policy.OutcomeRejected, "DPC-IE", "CNIL")
	h.do(h.p.RecordDelivery(tellEnd("DPC-IE", policy.OutcomeRejected, t0.Add(3*time.Hour))))
	h.do(h.p.RecordDelivery(tellEnd("CNIL", policy.OutcomeRejected, t0.Add(3*time.Hour))))
	wantOutcomeRecipients(t, h.p, policy.OutcomeRejected)
	// An amendment reopens the rejection: the end is taken back; the next
	// end is told again.
	h.do([]domain.Event{domain.Reopened{CauseEventID: "ev-amend", SupersededDecisionID: "D2", At: t0.Add(4 * time.Hour)}}, nil)
	if _, _, ended := h.p.End(); ended {
		t.Fatal("a reopened request still counts as ended")
	}
	if h.p.Step(domain.StepNotifyDPAOutcome).Status != "" {
		t.Fatalf("outcome step %+v while reopened", h.p.Step(domain.StepNotifyDPAOutcome))
	}
	h.do([]domain.Event{domain.TerminalRecorded{CauseEventID: "ev-nodata", End: policy.OutcomeChallenged, At: t0.Add(5 * time.Hour)}}, nil)
	wantOutcomeRecipients(t, h.p, policy.OutcomeChallenged, "DPC-IE", "CNIL")
}

func TestClause5_1_RedirectIsAnEnd_ANeverConsultedRequestOwesNothing(t *testing.T) {
	h := newHarness(t, baseReq())
	h.packet("CNIL", t0)
	h.do(h.p.RecordRedirectOutcome(domain.RedirectAgreed, "contract support", "privacy@corp", t0.Add(time.Hour)))
	end, at, ok := h.p.End()
	if !ok || end != policy.OutcomeRedirected || !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("end %q at %v (%v)", end, at, ok)
	}
	wantOutcomeRecipients(t, h.p, policy.OutcomeRedirected, "CNIL")

	// A rejection no packet preceded: no DPA was consulted, none is told.
	rej := baseReq()
	rej.Decision = policy.DecisionReject
	h2 := newHarness(t, rej)
	if _, _, ok := h2.p.End(); !ok {
		t.Fatal("a reject decision is no end")
	}
	if s := h2.p.Step(domain.StepNotifyDPAOutcome); s.Status != "" {
		t.Fatalf("outcome step %+v with no DPA consulted", s)
	}
	// Reporting's terminal outcome may come before any plan: it folds.
	p := &domain.Plan{}
	if err := p.Apply(domain.TerminalRecorded{CauseEventID: "ev-t", End: policy.OutcomeNoDataFound, At: t0}); err != nil {
		t.Fatalf("a terminal outcome before the plan: %v", err)
	}
}

func TestClause5_1_TheOutcomeNoticeSaysNoMoreThanThePacket(t *testing.T) {
	subject, body, err := domain.RenderDPAOutcome(domain.DPAOutcome{DPA: "DPC-IE", RequestID: "req-1", End: policy.OutcomeDisclosed, EndedAt: t0, Contact: "privacy@corp"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"req-1", "DPC-IE", "disclosed", "2026-03-02T09:00:00Z", "privacy@corp"} {
		if !strings.Contains(subject+body, want) {
			t.Errorf("notice lacks %q:\n%s\n%s", want, subject, body)
		}
	}
	// The type has no field for people, accounts or the customer; the one
	// free value is the end, checked against the list.
	if _, _, err := domain.RenderDPAOutcome(domain.DPAOutcome{DPA: "DPC-IE", RequestID: "req-1", End: "cust-42 alice@example.com"}); err == nil {
		t.Fatal("rendered an end not on the list")
	}
}

// A DPA reached only by hand is told by hand too: a manual dispatch of the
// outcome notice, proposed after the end and confirmed by a second person,
// is the notice; it counts for the end it told, and never as the packet.
func TestClause5_1_TheOutcomeNoticeSentByHandCountsOnceConfirmed(t *testing.T) {
	h := newHarness(t, baseReq())
	h.do(h.p.ProposeManualDispatch(domain.ManualDispatch{Authority: "DPC-IE", Means: domain.DispatchPost, Reference: "RR-1", SentAt: t0}, reviewer.ID, t0))
	h.do(h.p.ConfirmLift(h.lastLift(), approver, t0))
	outcome := domain.ManualDispatch{Authority: "DPC-IE", Means: domain.DispatchPortal, Reference: "P-9", SentAt: t0.Add(2 * time.Hour), Step: domain.StepNotifyDPAOutcome}
	_, err := h.p.ProposeManualDispatch(outcome, reviewer.ID, t0.Add(2*time.Hour))
	wantPolicy(t, err, "5.1", "NOT_ENDED")

	h.do([]domain.Event{domain.Withdrawn{CauseEventID: "ev-w", At: t0.Add(time.Hour)}}, nil)
	wantOutcomeRecipients(t, h.p, policy.OutcomeWithdrawn, "DPC-IE")
	cnil := outcome
	cnil.Authority = "CNIL"
	_, err = h.p.ProposeManualDispatch(cnil, reviewer.ID, t0.Add(2*time.Hour))
	wantInvalid(t, err, "authority")
	h.do(h.p.ProposeManualDispatch(outcome, reviewer.ID, t0.Add(2*time.Hour)))
	if h.status(domain.StepNotifyDPAOutcome) != domain.StatusRequired {
		t.Fatalf("an outcome dispatch one person recorded counts: %+v", h.p.Step(domain.StepNotifyDPAOutcome))
	}
	h.do(h.p.ConfirmLift(h.lastLift(), approver, t0.Add(2*time.Hour)))
	if s := h.p.Step(domain.StepNotifyDPAOutcome); s.Status != domain.StatusDone || !s.DoneAt.Equal(outcome.SentAt) {
		t.Fatalf("outcome step %+v", s)
	}
	d := h.p.Dispatches()
	if got := d[len(d)-1]; got.End != policy.OutcomeWithdrawn || got.Step != domain.StepNotifyDPAOutcome {
		t.Fatalf("the dispatch recorded %+v", got)
	}
	// The same dispatch proposed again adds nothing.
	if evs, err := h.p.ProposeManualDispatch(outcome, reviewer.ID, t0.Add(3*time.Hour)); err != nil || len(evs) != 0 {
		t.Fatalf("a repeated outcome dispatch: %v (%v)", names(evs), err)
	}
}
