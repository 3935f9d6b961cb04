package domain_test

import (
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
)

func TestClause4_1_2_NoticeOwedOnlyOnceTheAuthorityAnsweredTheRedirect(t *testing.T) {
	h := newHarness(t, baseReq())
	if h.p.NoticeOwed(t0) {
		t.Fatal("notice owed before the authority answered the redirect request (4.1.1 comes first)")
	}
	h.declineRedirect(t0)
	if !h.p.NoticeOwed(t0) {
		t.Fatal("notice not owed after the redirect was declined")
	}
	if !h.p.PacketOwed() {
		t.Fatal("no DPA packet owed while the request is held (4.2.1)")
	}
}

func TestClause4_2_2_NoticeUnderGagOwedOnlyFromTheDayItLifts(t *testing.T) {
	req := baseReq()
	req.AuthorityCountry = "DE"
	lifts := t0.Add(48 * time.Hour)
	req.Prohibition = domain.Prohibition{Present: true, Reference: "NDO-1", ExpiresAt: lifts}
	h := newHarness(t, req)
	h.do(h.p.RecordRedirectOutcome(domain.RedirectNotPossible, "", "privacy@corp", t0))
	h.exempt(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, Reason: domain.SkipProhibited, Evidence: "NDO-1"}, t0)
	if h.p.NoticeOwed(lifts.Add(-time.Second)) {
		t.Fatal("notice owed while the gag stands")
	}
	if !h.p.NoticeOwed(lifts) {
		t.Fatal("notice not owed on the day the gag lifts")
	}
}

func TestDeliveryRetriesRecordedFailuresAndBackOffExponentially(t *testing.T) {
	h := newHarness(t, baseReq())
	h.declineRedirect(t0)
	d := notice(t0)
	d.Reason = "smtp: cannot connect"
	h.do(h.p.RecordDeliveryFailure(d))
	h.do(h.p.RecordDeliveryFailure(notice(t0.Add(time.Minute))))
	if n, last := h.p.FailedAttempts(d.DeliveryID); n != 2 || !last.Equal(t0.Add(time.Minute)) {
		t.Fatalf("FailedAttempts = %d, %v; want 2 at the last attempt", n, last)
	}
	if h.p.Delivered(d.DeliveryID) {
		t.Fatal("a failed delivery counts as delivered")
	}
	h.deliverNotice(t0.Add(3 * time.Minute))
	if !h.p.Delivered(d.DeliveryID) {
		t.Fatal("the delivery is not recorded")
	}
	for n, want := range map[int]time.Duration{0: 0, 1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 10: 10 * time.Minute} {
		if got := domain.Backoff(n, time.Minute, 10*time.Minute); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestClause4_2_1_PacketSentWhileHeldIsRecordedEvenIfTheHoldLiftedMeanwhile(t *testing.T) {
	h := newHarness(t, baseReq())
	h.packets(t0)
	h.consult("DPC-IE", domain.ConsultationNoObjection, t0)
	if h.p.PacketOwed() {
		t.Fatal("packet owed after the hold lifted")
	}
	packet := domain.Delivery{Step: domain.StepHoldAndConsultDPA, Recipient: "CNIL", Channel: domain.ChannelEmail,
		DeliveryID: domain.DeliveryID("req-1", domain.StepHoldAndConsultDPA, "CNIL"), At: t0}
	if evs := h.do(h.p.RecordDelivery(packet)); len(evs) == 0 {
		t.Fatal("a packet that went out was not recorded")
	}
}

func TestSettleCompletesAFollowUpMissingFromTheRecord(t *testing.T) {
	p, err := domain.Fold([]domain.Event{domain.PlanDerived{
		RequestID: "req-1", Requirements: baseReq(), Config: cfg,
		Adequacy: registry(t).JudgeAuthority("CN", t0),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if evs := p.Settle(t0); !has(evs, "HoldPlaced") {
		t.Fatalf("Settle = %v, want the missing HoldPlaced", names(evs))
	}
}
