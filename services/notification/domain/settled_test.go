package domain_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// companyControlled is a disclose decision about data the company itself
// controls, from an adequate country: it owes the DPA packet (2.2) and a
// clearance, no customer notice.
func companyControlled(t *testing.T) *harness {
	t.Helper()
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.Customer = domain.Customer{ID: "cust-42"}
	return newHarness(t, r)
}

func wantMayOweWork(t *testing.T, p *domain.Plan, want bool, when string) {
	t.Helper()
	if got := p.MayOweWork(); got != want {
		t.Fatalf("%s: MayOweWork = %v, want %v (steps %+v)", when, got, want, p.Steps())
	}
}

func TestClause2_2_APlanOwesWorkUntilThePacketReachedEveryAuthorityAndItIsCleared(t *testing.T) {
	h := companyControlled(t)
	wantMayOweWork(t, h.p, true, "derived, no packet out")
	authorities := h.p.Authorities()
	for _, a := range authorities[:len(authorities)-1] {
		h.packet(a, t0)
		wantMayOweWork(t, h.p, true, "packet out to "+a)
	}
	// The last packet removes the last blocker: its record clears the
	// request, and nothing is left.
	if evs := h.packet(authorities[len(authorities)-1], t0); !has(evs, "RequestCleared") {
		t.Fatalf("the last packet recorded %v, no clearance", names(evs))
	}
	wantMayOweWork(t, h.p, false, "packets out and cleared")
}

func TestClause4_2_1_AnOpenPlanNotClearedOwesWorkWhateverItWaitsFor(t *testing.T) {
	h := companyControlled(t)
	h.do(h.p.Derive(func() domain.Requirements {
		r := h.p.Requirements()
		r.AuthorityCountry, r.DecisionID = "CN", "dec-2"
		return r
	}(), registry(t), cfg, t0))
	h.packets(t0)
	// On hold for the lead DPA's answer (4.2.1): nothing to send, yet
	// the request is open and not cleared, and the worker's gate is asked
	// again at every sweep.
	if _, out := h.p.OutcomeRecipients(); len(h.p.NoticeRecipients(t0)) > 0 || len(h.p.PacketRecipients()) > 0 || len(out) > 0 || !h.p.Hold().Open() || h.p.Cleared() {
		t.Fatalf("steps %+v", h.p.Steps())
	}
	wantMayOweWork(t, h.p, true, "held, waiting for the lead DPA")
}

func TestClause2_2_ADecisionThatDisclosesNothingOwesNoWork(t *testing.T) {
	r := baseReq()
	r.Decision = policy.DecisionReject
	h := newHarness(t, r)
	wantMayOweWork(t, h.p, false, "a rejection no DPA was consulted on")
}

func TestClause5_1_AnEndedRequestOwesWorkUntilEachConsultedDPAIsToldHowItEnded(t *testing.T) {
	h := companyControlled(t)
	h.packets(t0)
	h.do(h.p.Clear(t0))
	wantMayOweWork(t, h.p, false, "cleared")
	at := t0.Add(time.Hour)
	h.do([]domain.Event{domain.DisclosureRecorded{CauseEventID: "ev-disp", At: at}}, nil)
	wantMayOweWork(t, h.p, true, "disclosed, no DPA told")
	authorities := h.p.Authorities()
	for i, a := range authorities {
		h.do(h.p.RecordDelivery(tellEnd(a, policy.OutcomeDisclosed, at)))
		wantMayOweWork(t, h.p, i < len(authorities)-1, "told "+a)
	}
}

func TestClause2_1_ARequestWithdrawnBeforeAnyPacketOwesNoWork(t *testing.T) {
	h := newHarness(t, baseReq())
	wantMayOweWork(t, h.p, true, "derived")
	h.do([]domain.Event{domain.Withdrawn{CauseEventID: "ev-w", At: t0}}, nil)
	h.do(h.p.Stop(domain.StopWithdrawn, "ev-w", t0))
	wantMayOweWork(t, h.p, false, "withdrawn, nothing went out")
}

func TestClause4_1_2_ADeliveredNoticeKeepsThePlanOwingForTheCustomersOtherContacts(t *testing.T) {
	h := emergencyCleared(t)
	disclosed := t0.Add(2 * time.Hour)
	h.do([]domain.Event{domain.DisclosureRecorded{CauseEventID: "ev-disp", At: disclosed}}, nil)
	wantMayOweWork(t, h.p, true, "the notice owed after the emergency disclosure")
	h.deliverNotice(disclosed)
	for _, a := range h.p.Authorities() {
		h.do(h.p.RecordDelivery(tellEnd(a, policy.OutcomeDisclosed, disclosed)))
	}
	// Every DPA told, the deadline met: only the notice, done, remains;
	// the worker owes it to each contact address of the customer.
	if !h.p.NoticeOwed(disclosed.AddDate(1, 0, 0)) {
		t.Fatal("the done notice is no longer listed for the customer's contacts")
	}
	wantMayOweWork(t, h.p, true, "the notice delivered to one contact")
}

func TestClause4_1_2_ANoticeAGagDelaysKeepsThePlanOwingUntilTheGagsDay(t *testing.T) {
	r := baseReq()
	r.AuthorityCountry = "DE"
	end := t0.Add(30 * 24 * time.Hour)
	r.Prohibition = domain.Prohibition{Present: true, Reference: "gag-1", ExpiresAt: end}
	h := newHarness(t, r)
	h.declineRedirect(t0)
	h.exempt(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipProhibited}, t0)
	if h.p.NoticeOwed(t0) || !h.p.NoticeOwed(end) {
		t.Fatal("the notice is not owed from the gag's day only")
	}
	if ever := h.p.NoticeRecipientsEver(); len(ever) != 1 || ever[0].Customer.ID != "cust-42" {
		t.Fatalf("the notice owed on the gag's day is not among those owed ever: %v", ever)
	}
	// Nothing else left: withdrawn after a disclosure, which undoes
	// nothing (the notice tells of a disclosure that happened).
	h.do([]domain.Event{domain.DisclosureRecorded{CauseEventID: "ev-disp", At: t0}}, nil)
	h.do([]domain.Event{domain.Withdrawn{CauseEventID: "ev-w", At: t0}}, nil)
	wantMayOweWork(t, h.p, true, "the notice owed on the gag's day, weeks ahead")
}

// TestProperty_APlanThatMayOweNoWorkOwesNothingAtAnyLaterTime drives random
// histories (the property test's commands, events folded as the app
// does) and, whenever MayOweWork is false, asks every question the
// delivery worker asks at times up to years ahead: no notice (4.1.2), no
// packet (2.2), no outcome notice (5.1), no clearance, no notice overdue.
func TestProperty_APlanThatMayOweNoWorkOwesNothingAtAnyLaterTime(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 2026))
	settled := 0
	for run := range 1500 {
		x := &propRun{r: r, p: &domain.Plan{}, reg: propRegistry(), now: t0}
		q := randReq(r)
		if r.IntN(3) == 0 {
			// 1.2: a stricter law's notice period, which lifts a blocker
			// with the time alone.
			q.CustomerNoticePeriod = time.Duration(1+r.IntN(72)) * time.Hour
		}
		x.do(x.p.Derive(q, x.reg, cfg, t0))
		x.p.UseRegistry(x.reg)
		x.history = []domain.Requirements{q}
		for i := range 120 {
			x.step()
			switch r.IntN(6) {
			case 0: // the request ends as reporting records it
				x.do([]domain.Event{domain.DisclosureRecorded{CauseEventID: "ev-disp", At: x.now}}, nil)
			case 1:
				x.do([]domain.Event{domain.TerminalRecorded{CauseEventID: "ev-term", End: policy.OutcomeRejected, At: x.now}}, nil)
			case 2: // the worker's own work, as Sweep would do it
				x.do(x.p.Clear(x.now))
				for _, a := range x.p.PacketRecipients() {
					x.do(x.p.RecordDelivery(domain.Delivery{Step: domain.StepNotifyDPA, Recipient: a, Channel: domain.ChannelEmail,
						DeliveryID: domain.DeliveryID("req-p", domain.StepNotifyDPA, a), At: x.now}))
				}
				if end, to := x.p.OutcomeRecipients(); len(to) > 0 {
					x.do(x.p.RecordDelivery(tellEnd(to[0], end, x.now)))
				}
				x.do(x.p.OverdueNotices(x.now), nil)
			}
			ever := x.p.NoticeRecipientsEver()
			besides := x.p.MayOweWorkBesidesNotices()
			for _, later := range []time.Duration{0, time.Hour, 24 * time.Hour, 30 * 24 * time.Hour, 400 * 24 * time.Hour} {
				at := x.now.Add(later)
				for _, due := range x.p.NoticeRecipients(at) {
					if !slices.Contains(ever, due) {
						t.Fatalf("run %d step %d: the notice to %s owed at +%s is not among those owed ever %v", run, i, due.Ref, later, ever)
					}
				}
				_, out := x.p.OutcomeRecipients()
				clearable := !x.p.Cleared() && x.p.Outcome() == domain.OutcomeOpen && len(domain.Blockers(x.p, at)) == 0
				if !besides && (len(x.p.PacketRecipients()) > 0 || len(out) > 0 || clearable || len(x.p.OverdueNotices(at)) > 0 || x.p.OverdueCount(at) > 0) {
					t.Fatalf("run %d step %d: MayOweWorkBesidesNotices false, yet at +%s: packets %v, outcome %v, clearable %v, overdue %d/%d",
						run, i, later, x.p.PacketRecipients(), out, clearable, len(x.p.OverdueNotices(at)), x.p.OverdueCount(at))
				}
			}
			if x.p.MayOweWork() {
				continue
			}
			settled++
			for _, later := range []time.Duration{0, time.Hour, 24 * time.Hour, 30 * 24 * time.Hour, 400 * 24 * time.Hour, 10 * 365 * 24 * time.Hour} {
				at := x.now.Add(later)
				_, out := x.p.OutcomeRecipients()
				clearable := !x.p.Cleared() && x.p.Outcome() == domain.OutcomeOpen && len(domain.Blockers(x.p, at)) == 0
				if len(x.p.NoticeRecipients(at)) > 0 || len(x.p.PacketRecipients()) > 0 || len(out) > 0 || clearable ||
					len(x.p.OverdueNotices(at)) > 0 || x.p.OverdueCount(at) > 0 {
					t.Fatalf("run %d step %d: MayOweWork false, yet at +%s: notices %v, packets %v, outcome %v, clearable %v, overdue %d/%d",
						run, i, later, x.p.NoticeRecipients(at), x.p.PacketRecipients(), out, clearable, len(x.p.OverdueNotices(at)), x.p.OverdueCount(at))
				}
			}
		}
	}
	if settled < 1000 {
		t.Fatalf("generator too weak: MayOweWork false only %d times", settled)
	}
	t.Logf("MayOweWork false at %d steps", settled)
}
