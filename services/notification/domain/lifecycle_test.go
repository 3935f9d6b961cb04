package domain_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/deadline"
)

func stopped(evs []domain.Event) domain.StepsStopped {
	for _, e := range evs {
		if s, ok := e.(domain.StepsStopped); ok {
			return s
		}
	}
	return domain.StepsStopped{}
}

func refusedNaming(t *testing.T, p *domain.Plan, at time.Time, words string) {
	t.Helper()
	_, err := p.CheckDisclosure(nil, at)
	wantPolicy(t, err, "2.1", "DISCLOSURE_BLOCKED")
	if !strings.Contains(err.Error(), words) {
		t.Fatalf("refusal %q does not name %q", err, words)
	}
}

func TestClause2_1_WithdrawalStopsEveryPendingStepAtOnce(t *testing.T) {
	h := newHarness(t, baseReq())
	h.packet("DPC-IE", t0) // done before: stays done
	at := t0.Add(time.Hour)
	h.do([]domain.Event{domain.Withdrawn{CauseEventID: "ev-withdrawn", At: at}}, nil)
	if h.p.NoticeOwed(at) || h.p.PacketOwed() {
		t.Fatal("a notice or a packet is still owed after the withdrawal")
	}
	refusedNaming(t, h.p, at, "withdrew")
	evs := h.do(h.p.Stop(domain.StopWithdrawn, "ev-withdrawn", at))
	s := stopped(evs)
	want := []domain.StepKind{domain.StepAskAuthorityToRedirect, domain.StepNotifyCustomer, domain.StepNotifyDPA, domain.StepHoldAndConsultDPA}
	if s.Reason != domain.StopWithdrawn || !slices.Equal(s.Steps, want) {
		t.Fatalf("stopped %+v, want the pending steps %v", s, want)
	}
	if !h.p.Delivered(domain.DeliveryID("req-1", domain.StepNotifyDPA, "DPC-IE")) {
		t.Fatal("the withdrawal undid a delivered packet")
	}
	if h.p.Outcome() != domain.OutcomeWithdrawn {
		t.Fatalf("outcome %s", h.p.Outcome())
	}
	// A redelivered withdrawal stops nothing twice; a later decision
	// derives nothing that could deliver.
	if evs, err := h.p.Stop(domain.StopWithdrawn, "ev-withdrawn", at); err != nil || len(evs) != 0 {
		t.Fatalf("redelivered withdrawal: %v %v", names(evs), err)
	}
	r := baseReq()
	r.DecisionID = "D2"
	if evs, err := h.p.Derive(r, registry(t), cfg, at.Add(time.Hour)); err != nil || len(evs) != 0 {
		t.Fatalf("a decision after the withdrawal derived %v (%v)", names(evs), err)
	}
	if evs := h.p.Settle(at.Add(time.Hour)); len(evs) != 0 {
		t.Fatalf("settle after the withdrawal: %v", names(evs))
	}
	if _, err := h.p.RecordRedirectOutcome(domain.RedirectDeclined, "", "privacy@corp", at); err == nil {
		t.Fatal("a redirect answer was recorded on a withdrawn request")
	}
	folded, err := domain.Fold(append([]domain.Event{}, h.log...))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(folded.Steps(), h.p.Steps()) {
		t.Fatal("folding the events does not rebuild the stopped plan")
	}
}

func TestClause2_1_WithdrawalBeforeAnyDecisionRefusesDisclosureAndLaterDecisions(t *testing.T) {
	p := &domain.Plan{}
	if err := p.Apply(domain.Withdrawn{CauseEventID: "ev-w", At: t0}); err != nil {
		t.Fatal(err)
	}
	refusedNaming(t, p, t0, "withdrew")
	evs, err := p.Stop(domain.StopWithdrawn, "ev-w", t0)
	if err != nil || len(evs) != 1 || len(stopped(evs).Steps) != 0 {
		t.Fatalf("stop before any plan: %v %v", names(evs), err)
	}
	if evs, err := p.Derive(baseReq(), registry(t), cfg, t0); err != nil || len(evs) != 0 {
		t.Fatalf("derived %v (%v) after the withdrawal", names(evs), err)
	}
}

func TestClause2_1_WithdrawalAfterTheDisclosureUndoesNothing(t *testing.T) {
	h := emergencyCleared(t)
	disclosed := t0.Add(2 * time.Hour)
	h.do([]domain.Event{domain.DisclosureRecorded{CauseEventID: "ev-disp", At: disclosed}}, nil)
	h.do([]domain.Event{domain.Withdrawn{CauseEventID: "ev-w", At: disclosed.Add(time.Hour)}}, nil)
	if !h.p.NoticeOwed(disclosed.Add(time.Hour)) {
		t.Fatal("the withdrawal after the disclosure stopped the notice the disclosure made owed")
	}
	if h.p.Outcome() == domain.OutcomeWithdrawn {
		t.Fatal("a withdrawal after the disclosure closed the request as withdrawn")
	}
	s := stopped(h.do(h.p.Stop(domain.StopWithdrawn, "ev-w", disclosed.Add(time.Hour))))
	if slices.Contains(s.Steps, domain.StepNotifyCustomer) {
		t.Fatalf("stopped %v", s.Steps)
	}
	// Any further disclosure is refused.
	refusedNaming(t, h.p, disclosed.Add(2*time.Hour), "withdrew")
}

func TestClause3_3_ReDecisionSupersedesThePlanAndKeepsWhatWasDone(t *testing.T) {
	r := baseReq()
	r.DecisionID = "D1"
	h := newHarness(t, r)
	h.packets(t0)
	h.declineRedirect(t0.Add(time.Hour))
	reopen := domain.Reopened{CauseEventID: "ev-reopen", SupersededDecisionID: "D1", At: t0.Add(2 * time.Hour)}
	h.do([]domain.Event{reopen}, nil)
	if !h.p.AwaitingDecision() || h.p.NoticeOwed(reopen.At) || h.p.PacketOwed() {
		t.Fatal("a notice or packet is still owed while the case is back in review")
	}
	refusedNaming(t, h.p, reopen.At, "back to review")
	s := stopped(h.do(h.p.Stop(domain.StopReopened, "ev-reopen", reopen.At)))
	if s.Reason != domain.StopReopened || !slices.Equal(s.Steps, []domain.StepKind{domain.StepNotifyCustomer, domain.StepHoldAndConsultDPA}) {
		t.Fatalf("stopped %+v", s)
	}
	// The superseded decision, redelivered, derives nothing.
	if evs, err := h.p.Derive(r, registry(t), cfg, reopen.At); err != nil || len(evs) != 0 {
		t.Fatalf("the superseded decision derived %v (%v)", names(evs), err)
	}
	r2 := baseReq()
	r2.DecisionID = "D2"
	h.do(h.p.Derive(r2, registry(t), cfg, t0.Add(3*time.Hour)))
	if h.p.AwaitingDecision() || h.p.Requirements().DecisionID != "D2" {
		t.Fatal("the new decision did not derive the new plan")
	}
	// Done stays done: the packets and the redirect answer count, the
	// hold stays until its lift.
	for k, want := range map[domain.StepKind]domain.StepStatus{
		domain.StepNotifyDPA:              domain.StatusDone,
		domain.StepAskAuthorityToRedirect: domain.StatusDone,
		domain.StepNotifyCustomer:         domain.StatusRequired,
		domain.StepHoldAndConsultDPA:      domain.StatusRequired,
	} {
		if got := h.status(k); got != want {
			t.Fatalf("%s is %s, want %s", k, got, want)
		}
	}
	if !h.p.Hold().Open() || !h.p.NoticeOwed(t0.Add(3*time.Hour)) {
		t.Fatal("the new plan does not owe the notice, or the hold lifted")
	}
	// A late reopening of the old decision and a redelivered stop cannot
	// stop the new plan.
	h.do([]domain.Event{reopen}, nil)
	if h.p.AwaitingDecision() {
		t.Fatal("a stale reopening of D1 stopped D2's plan")
	}
	if evs, _ := h.p.Stop(domain.StopReopened, "ev-reopen", t0.Add(4*time.Hour)); len(evs) != 0 {
		t.Fatalf("redelivered reopening: %v", names(evs))
	}
}

func TestClause4_2_1_ConfirmedLeadObjectionIsRecordedAsDpaObjected(t *testing.T) {
	r := baseReq()
	r.DecisionID = "D1"
	h := newHarness(t, r)
	h.packets(t0)
	evs := h.consult("DPC-IE", domain.ConsultationObjection, t0.Add(time.Hour))
	var got []domain.DpaObjected
	for _, e := range evs {
		if o, ok := e.(domain.DpaObjected); ok {
			got = append(got, o)
		}
	}
	if len(got) != 1 || got[0].DecisionID != "D1" || got[0].DPA != "DPC-IE" {
		t.Fatalf("events %v", names(evs))
	}
	// Another authority's objection is recorded but is not the lead's.
	h2 := newHarness(t, r)
	h2.packets(t0)
	if evs := h2.consult("CNIL", domain.ConsultationObjection, t0.Add(time.Hour)); has(evs, "DpaObjected") {
		t.Fatal("a non-lead objection reopened the case")
	}
}

// emergencyCleared is a disclose decision under an imminent risk whose
// prior notice two people exempted, cleared.
func emergencyCleared(t *testing.T) *harness {
	t.Helper()
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.ImminentRisk = domain.ImminentRisk{Present: true, Basis: "kidnapping in progress", Claimed: true}
	h := newHarness(t, r)
	h.packets(t0)
	h.exempt(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipImminentRisk, Basis: "kidnapping in progress",
		WhyNoticeDefeats: "the customer's staff may alert the suspect"}, t0)
	if !h.p.Cleared() {
		t.Fatalf("not cleared: %v", domain.Blockers(h.p, t0))
	}
	return h
}

func TestClause4_1_2_NoticeAfterEmergencyDisclosureIsAStepWithADueDateOverdueOnce(t *testing.T) {
	h := emergencyCleared(t)
	if h.p.NoticeOwed(t0) {
		t.Fatal("the notice is owed before the disclosure")
	}
	disclosed := t0.Add(2 * time.Hour)
	h.do([]domain.Event{domain.DisclosureRecorded{CauseEventID: "ev-disp", At: disclosed}}, nil)
	s := h.p.Step(domain.StepNotifyCustomer)
	due := disclosed.Add(domain.DefaultNoticeWindow)
	if s.Status != domain.StatusRequired || !s.ScheduledFor.Equal(due) || !h.p.NoticeOwed(disclosed) {
		t.Fatalf("after the disclosure the notice is %+v, want required and due %s", s, due)
	}
	if evs := h.p.OverdueNotices(due.Add(-time.Minute)); len(evs) != 0 {
		t.Fatalf("overdue before due: %v", names(evs))
	}
	evs := h.do(h.p.OverdueNotices(due), nil)
	if len(evs) != 1 || evs[0].(domain.NoticeOverdue).DeadlineID != domain.DeadlineNoticeAfterEmergency {
		t.Fatalf("overdue events %v", names(evs))
	}
	if again := h.p.OverdueNotices(due.Add(time.Hour)); len(again) != 0 {
		t.Fatalf("overdue fired twice for one due time: %v", names(again))
	}
	h.deliverNotice(due.Add(2 * time.Hour))
	v := h.p.NoticeDeadlines()
	if len(v) != 1 || v[0].Status != deadline.Met {
		t.Fatalf("deadlines %+v", v)
	}
	folded, err := domain.Fold(h.log)
	if err != nil {
		t.Fatal(err)
	}
	if len(folded.NoticeDeadlines()) != 1 {
		t.Fatal("the deadline is not rebuilt by the fold")
	}
}

func TestClause4_1_2_NoticeAfterTheGagEndsHasADueDate(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	end := t0.Add(30 * 24 * time.Hour)
	r.Prohibition = domain.Prohibition{Present: true, Reference: "gag-1", ExpiresAt: end}
	h := newHarness(t, r)
	h.exempt(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipProhibited}, t0)
	v := h.p.NoticeDeadlines()
	if len(v) != 1 || v[0].ID != domain.DeadlineNoticeAfterGag || !v[0].Due.At.Equal(end.Add(domain.DefaultNoticeWindow)) {
		t.Fatalf("deadlines %+v", v)
	}
	if evs := h.p.OverdueNotices(end.Add(domain.DefaultNoticeWindow)); len(evs) != 1 {
		t.Fatalf("overdue %v", names(evs))
	}
}
