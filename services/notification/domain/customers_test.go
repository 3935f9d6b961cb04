package domain_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
)

// twoControllers is a disclose decision from an adequate country about the
// data of two controller customers and one processor-only customer.
func twoControllers() domain.Requirements {
	r := baseReq()
	r.AuthorityCountry = "DE"
	r.Customer = domain.Customer{Controller: true, ID: "cust-a"}
	r.Customers = []domain.Customer{{Controller: true, ID: "cust-a"}, {ID: "cust-p"}, {Controller: true, ID: "cust-b"}}
	return r
}

func stepIDs(p *domain.Plan, k domain.StepKind) []string {
	var ids []string
	for _, s := range p.Steps() {
		if s.Kind == k {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func TestClause4_1_2_NoticePerControllerCustomerDisclosureWaitsForAll(t *testing.T) {
	h := newHarness(t, twoControllers())
	// References follow the decision's list: cust-a c1, cust-p c2 (not
	// controller, no steps), cust-b c3.
	if got := stepIDs(h.p, domain.StepNotifyCustomer); !slices.Equal(got, []string{"NOTIFY_CUSTOMER/c1", "NOTIFY_CUSTOMER/c3"}) {
		t.Fatalf("notice steps %v", got)
	}
	if got := stepIDs(h.p, domain.StepAskAuthorityToRedirect); !slices.Equal(got, []string{"ASK_AUTHORITY_TO_REDIRECT/c1", "ASK_AUTHORITY_TO_REDIRECT/c3"}) {
		t.Fatalf("redirect steps %v", got)
	}
	h.packets(t0)
	_, err := h.p.RecordRedirectOutcome(domain.RedirectDeclined, "", "privacy@corp", t0)
	wantInvalid(t, err, "customer_ref")
	h.do(h.p.RecordRedirectOutcomeFor("c1", domain.RedirectDeclined, "", "privacy@corp", t0))
	// c1's notice is owed, c3's waits for its own redirect answer.
	if got := h.p.NoticeRecipients(t0); len(got) != 1 || got[0].Ref != "c1" || got[0].Customer.ID != "cust-a" {
		t.Fatalf("notices due %+v", got)
	}
	h.do(h.p.RecordDelivery(customerNotice("c1", t0)))
	if h.p.Cleared() {
		t.Fatal("cleared with c3's steps open")
	}
	h.do(h.p.RecordRedirectOutcomeFor("c3", domain.RedirectNotPossible, "", "privacy@corp", t0))
	if h.p.Cleared() || !h.p.NoticeOwedTo("cust-b", t0) {
		t.Fatal("c3's notice is not owed on its own")
	}
	evs := h.do(h.p.RecordDelivery(customerNotice("c3", t0.Add(time.Hour))))
	if !has(evs, "RequestCleared") {
		t.Fatalf("events %v, blockers %v", names(evs), domain.Blockers(h.p, t0.Add(time.Hour)))
	}
}

func TestClause4_1_1_OneCustomersAgreedRedirectEndsOnlyItsStepsTheRestProceeds(t *testing.T) {
	h := newHarness(t, twoControllers())
	h.packets(t0)
	h.do(h.p.RecordRedirectOutcomeFor("c1", domain.RedirectAgreed, "contract support given", "privacy@corp", t0))
	if s, _ := h.p.CustomerStep(domain.StepNotifyCustomer, "c1"); s.SkipReason != domain.SkipRedirected {
		t.Fatalf("c1's notice %+v", s)
	}
	if h.p.Outcome() == domain.OutcomeRedirected {
		t.Fatal("the request counts as redirected while c3's authority has not agreed")
	}
	h.do(h.p.RecordRedirectOutcomeFor("c3", domain.RedirectDeclined, "", "privacy@corp", t0))
	evs := h.do(h.p.RecordDelivery(customerNotice("c3", t0)))
	if !has(evs, "RequestCleared") {
		t.Fatalf("the disclosure for the rest does not proceed: %v", domain.Blockers(h.p, t0))
	}
	// Both agreeing: the request is redirected.
	h2 := newHarness(t, twoControllers())
	h2.do(h2.p.RecordRedirectOutcomeFor("c1", domain.RedirectAgreed, "support", "privacy@corp", t0))
	h2.do(h2.p.RecordRedirectOutcomeFor("c3", domain.RedirectAgreed, "support", "privacy@corp", t0))
	if h2.p.Outcome() != domain.OutcomeRedirected {
		t.Fatalf("outcome %s", h2.p.Outcome())
	}
}

func TestClause4_1_2_ExemptionCanNameOneCustomersNotice(t *testing.T) {
	r := twoControllers()
	r.ImminentRisk = domain.ImminentRisk{Present: true, Basis: "threat to life", Claimed: true}
	h := newHarness(t, r)
	h.packets(t0)
	h.exempt(domain.ExemptionProposal{Step: domain.StepNotifyCustomer, CustomerRef: "c3", Reason: domain.SkipImminentRisk,
		WhyNoticeDefeats: "c3's staff are the suspects"}, t0)
	c1, _ := h.p.CustomerStep(domain.StepNotifyCustomer, "c1")
	c3, _ := h.p.CustomerStep(domain.StepNotifyCustomer, "c3")
	if c1.Status != domain.StatusRequired || c3.SkipReason != domain.SkipImminentRisk {
		t.Fatalf("c1 %+v, c3 %+v", c1, c3)
	}
	// After the disclosure, c3's notice is owed with its own deadline.
	h.do(h.p.RecordDelivery(customerNotice("c1", t0)))
	if !h.p.Cleared() {
		t.Fatalf("blockers %v", domain.Blockers(h.p, t0))
	}
	h.do([]domain.Event{domain.DisclosureRecorded{CauseEventID: "ev-d", At: t0.Add(time.Hour)}}, nil)
	v := h.p.NoticeDeadlines()
	if len(v) != 1 || v[0].ID != domain.DeadlineNoticeAfterEmergency+"/c3" {
		t.Fatalf("deadlines %+v", v)
	}
	if got := h.p.NoticeRecipients(t0.Add(time.Hour)); !slices.ContainsFunc(got, func(d domain.CustomerNoticeDue) bool { return d.Ref == "c3" }) {
		t.Fatalf("notices due %+v", got)
	}
}
