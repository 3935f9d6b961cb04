package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

var (
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cfg = domain.Config{LeadDPA: "DPC-IE", OtherDPAs: []string{"CNIL"}}
)

func registry(t *testing.T) *policy.AdequacyRegistry {
	t.Helper()
	r, err := policy.DefaultAdequacy()
	if err != nil {
		t.Fatalf("DefaultAdequacy: %v", err)
	}
	return r
}

// baseReq is a disclose decision about a customer's data from a country
// without adequacy (China).
func baseReq() domain.Requirements {
	return domain.Requirements{
		RequestID:        "req-1",
		Decision:         policy.DecisionDisclose,
		Customer:         domain.Customer{Controller: true, ID: "cust-42"},
		AuthorityCountry: "CN",
		ReceivedAt:       t0,
	}
}

// harness runs commands against a plan and folds what they return, as the
// app layer does.
type harness struct {
	t   *testing.T
	p   *domain.Plan
	log []domain.Event
}

func newHarness(t *testing.T, req domain.Requirements) *harness {
	t.Helper()
	h := &harness{t: t, p: &domain.Plan{}}
	h.do(h.p.Derive(req, registry(t), cfg, t0))
	return h
}

func (h *harness) do(evs []domain.Event, err error) []domain.Event {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("command refused: %v", err)
	}
	for _, e := range evs {
		if err := h.p.Apply(e); err != nil {
			h.t.Fatalf("apply %s: %v", e.EventName(), err)
		}
	}
	h.log = append(h.log, evs...)
	return evs
}

func (h *harness) status(k domain.StepKind) domain.StepStatus { return h.p.Step(k).Status }

func (h *harness) declineRedirect(at time.Time) {
	h.t.Helper()
	h.do(h.p.RecordRedirectOutcome(domain.RedirectDeclined, "", "privacy@corp", at))
}

func (h *harness) deliverNotice(at time.Time) []domain.Event {
	h.t.Helper()
	return h.do(h.p.RecordDelivery(notice(at)))
}

func notice(at time.Time) domain.Delivery {
	return domain.Delivery{
		Step: domain.StepNotifyCustomer, Recipient: "cust-42/legal", Channel: domain.ChannelEmail,
		DeliveryID: domain.DeliveryID("req-1", domain.StepNotifyCustomer, "cust-42/legal"), Receipt: "250 queued", At: at,
	}
}

func names(evs []domain.Event) []string {
	var n []string
	for _, e := range evs {
		n = append(n, e.EventName())
	}
	return n
}

func has(evs []domain.Event, name string) bool {
	for _, e := range evs {
		if e.EventName() == name {
			return true
		}
	}
	return false
}

func wantPolicy(t *testing.T, err error, clause, rule string) {
	t.Helper()
	var pv *ddrerr.PolicyViolation
	if !errors.As(err, &pv) {
		t.Fatalf("got %v, want policy violation %s %s", err, clause, rule)
	}
	if pv.Clause != clause || pv.Rule != rule {
		t.Fatalf("got policy %s %s, want %s %s", pv.Clause, pv.Rule, clause, rule)
	}
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ve *ddrerr.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want validation error on %s", err, field)
	}
	for _, v := range ve.Violations {
		if v.Field == field {
			return
		}
	}
	t.Fatalf("violations %v do not name %s", ve.Violations, field)
}

func blockedBy(p *domain.Plan, now time.Time, k domain.StepKind) bool {
	for _, b := range domain.Blockers(p, now) {
		if b.Step == k {
			return true
		}
	}
	return false
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// People of the two-person rules.
var (
	reviewer = policy.Person{ID: "rev@corp", Roles: []policy.Role{policy.RoleReviewer}}
	approver = policy.Person{ID: "app@corp", Roles: []policy.Role{policy.RoleApprover}}
	legal    = policy.Person{ID: "legal@corp", Roles: []policy.Role{policy.RoleLegal}}
	legal2   = policy.Person{ID: "legal2@corp", Roles: []policy.Role{policy.RoleLegal}}
)

// packet records the accepted delivery of the DPA packet to authority.
func (h *harness) packet(authority string, at time.Time) []domain.Event {
	h.t.Helper()
	return h.do(h.p.RecordDelivery(domain.Delivery{Step: domain.StepNotifyDPA, Recipient: authority, Channel: domain.ChannelEmail,
		DeliveryID: domain.DeliveryID(h.p.RequestID(), domain.StepNotifyDPA, authority), Receipt: "250 queued", At: at}))
}

// packets delivers the DPA packet to every competent authority.
func (h *harness) packets(at time.Time) []domain.Event {
	h.t.Helper()
	var evs []domain.Event
	for _, a := range h.p.Authorities() {
		evs = append(evs, h.packet(a, at)...)
	}
	return evs
}

// lastLift returns the id of the lift proposed last.
func (h *harness) lastLift() string {
	h.t.Helper()
	ls := h.p.Lifts()
	if len(ls) == 0 {
		h.t.Fatal("no lift proposed")
	}
	return ls[len(ls)-1].ID
}

// exempt has the reviewer propose an exemption and legal confirm it.
func (h *harness) exempt(x domain.ExemptionProposal, at time.Time) []domain.Event {
	h.t.Helper()
	if x.Basis == "" {
		x.Basis = "basis"
	}
	if x.Evidence == "" {
		x.Evidence = "evidence-ref"
	}
	h.do(h.p.ProposeExemption(x, reviewer.ID, at))
	return h.do(h.p.ConfirmLift(h.lastLift(), legal, at))
}

// consult has the reviewer record an authority's answer and an approver
// confirm it.
func (h *harness) consult(authority string, o domain.ConsultationOutcome, at time.Time) []domain.Event {
	h.t.Helper()
	h.do(h.p.ProposeConsultationOutcome(domain.Consultation{Authority: authority, Outcome: o, ReplyReference: "reply-1", ReplyDate: at}, reviewer.ID, at))
	return h.do(h.p.ConfirmLift(h.lastLift(), approver, at))
}

// customerNotice is the accepted notice to the customer with reference ref.
func customerNotice(ref string, at time.Time) domain.Delivery {
	r := "customer " + ref + " <mailto:legal@example.com>"
	return domain.Delivery{Step: domain.StepNotifyCustomer, Recipient: r, Channel: domain.ChannelEmail, CustomerRef: ref,
		DeliveryID: domain.DeliveryID("req-1", domain.StepNotifyCustomer, r), Receipt: "250 queued", At: at}
}
