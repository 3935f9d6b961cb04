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
		Decision:         domain.DecisionDisclose,
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
