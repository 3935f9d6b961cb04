package domain_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// The random people of the property test. P proposed the decision.
var propPeople = []policy.Person{
	{ID: "R", Roles: []policy.Role{policy.RoleReviewer}},
	{ID: "A", Roles: []policy.Role{policy.RoleApprover}},
	{ID: "L", Roles: []policy.Role{policy.RoleLegal}},
	{ID: "M", Roles: []policy.Role{policy.RoleLegal, policy.RoleApprover}},
	{ID: "P", Roles: []policy.Role{policy.RoleLegal, policy.RoleApprover, policy.RoleReviewer}},
	{ID: ""},
}

func rolesOf(id string) []policy.Role {
	for _, p := range propPeople {
		if p.ID == id {
			return p.Roles
		}
	}
	return nil
}

// propRegistry: DE always adequate, GB losing adequacy on 2026-04-01, BR
// gaining it that day, CN and unknown never.
func propRegistry() *policy.AdequacyRegistry {
	reg, err := policy.ParseAdequacy([]byte(`{"note":"property","entries":[
		{"country":"DE","name":"Germany","basis":"eea","scope":"general","from":"1958-01-01","source":"p"},
		{"country":"GB","name":"United Kingdom","basis":"adequacy_decision","scope":"general","from":"2021-06-28","until":"2026-04-01","source":"p"},
		{"country":"BR","name":"Brazil","basis":"adequacy_decision","scope":"general","from":"2026-04-01","source":"p"}]}`))
	if err != nil {
		panic(err)
	}
	return reg
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randReq(r *rand.Rand) domain.Requirements {
	q := domain.Requirements{
		RequestID:        "req-p",
		DecisionID:       fmt.Sprint(r.IntN(1000)),
		Decision:         pick(r, policy.DecisionDisclose, policy.DecisionDisclose, policy.DecisionDisclose, policy.DecisionRedirectToCustomer, policy.DecisionReject),
		Customer:         domain.Customer{Controller: r.IntN(2) == 0, ID: "cust", Establishment: pick(r, "FR", "DE", "US", "")},
		AuthorityCountry: pick(r, "GB", "BR", "DE", "CN", ""),
		ReceivedAt:       t0,
		DecisionProposer: pick(r, "P", "P", "L", "M"),
	}
	if r.IntN(3) == 0 {
		q.Customers = []domain.Customer{{Controller: true, ID: "c2", Establishment: pick(r, "IT", "ES", "JP")}}
	}
	if q.Decision == policy.DecisionRedirectToCustomer && !q.Customer.Controller {
		q.Decision = policy.DecisionDisclose
	}
	if r.IntN(3) == 0 {
		q.Prohibition = domain.Prohibition{Present: true, Reference: "gag"}
		if r.IntN(2) == 0 {
			q.Prohibition.ExpiresAt = t0.AddDate(0, 0, 20+r.IntN(60))
		}
	}
	if r.IntN(3) == 0 {
		q.ImminentRisk = domain.ImminentRisk{Present: true, Basis: "risk"}
	}
	q.ImminentRisk.Claimed = r.IntN(4) == 0
	if r.IntN(5) == 0 {
		q.ImminentRisk.Justification = "justified"
	}
	return q
}

// propRun is one random history of one plan, with what an independent
// oracle needs to know about it.
type propRun struct {
	r       *rand.Rand
	p       *domain.Plan
	reg     *policy.AdequacyRegistry
	now     time.Time
	history []domain.Requirements
	// disclosed is set when CheckDisclosure let a disclosure through.
	disclosed bool
}

func (x *propRun) do(evs []domain.Event, err error) bool {
	if err != nil {
		var pv *ddrerr.PolicyViolation
		var ve *ddrerr.ValidationError
		if !errors.As(err, &pv) && !errors.As(err, &ve) && !errors.Is(err, ddrerr.ErrNotFound) && !errors.Is(err, ddrerr.ErrConflict) {
			panic(fmt.Sprintf("unexpected error kind: %v", err))
		}
	}
	for _, e := range evs {
		if aerr := x.p.Apply(e); aerr != nil {
			panic(aerr)
		}
	}
	return err == nil
}

func (x *propRun) step() {
	r, p := x.r, x.p
	x.now = x.now.Add(time.Duration(r.IntN(5*24)) * time.Hour)
	who := pick(r, propPeople...)
	auths := append(p.Authorities(), "ROGUE")
	switch r.IntN(18) {
	case 0:
		// A notice to one of the customers (several: by reference).
		ref := pick(r, "", "", "c1", "c2")
		d := domain.Delivery{Step: domain.StepNotifyCustomer, Recipient: "cust/legal" + ref, Channel: domain.ChannelEmail, CustomerRef: ref,
			DeliveryID: domain.DeliveryID("req-p", domain.StepNotifyCustomer, "cust/legal"+ref), At: x.now}
		x.do(p.RecordDelivery(d))
	case 1:
		a := pick(r, auths...)
		if missing := p.PacketRecipients(); len(missing) > 0 && r.IntN(3) > 0 {
			a = missing[0]
		}
		k := pick(r, domain.StepNotifyDPA, domain.StepHoldAndConsultDPA)
		d := domain.Delivery{Step: k, Recipient: a, Channel: domain.ChannelWebhook, DeliveryID: domain.DeliveryID("req-p", k, a), At: x.now}
		if r.IntN(3) == 0 {
			d.Reason = "503"
			x.do(p.RecordDeliveryFailure(d))
		} else {
			x.do(p.RecordDelivery(d))
		}
	case 2:
		x.do(p.RecordRedirectOutcomeFor(pick(r, "", "c1", "c2"), pick(r, domain.RedirectAgreed, domain.RedirectDeclined, domain.RedirectNotPossible), "support", who.ID, x.now))
	case 3:
		e := domain.ExemptionProposal{
			Step:   pick(r, domain.StepNotifyCustomer, domain.StepNotifyDPA, domain.StepHoldAndConsultDPA),
			Reason: pick(r, domain.SkipProhibited, domain.SkipImminentRisk), Basis: "basis", Evidence: pick(r, "", "ref"),
			Statute: pick(r, "", "", "", "Act 1"), WhyNoticeDefeats: pick(r, "", "why"),
		}
		x.do(p.ProposeExemption(e, who.ID, x.now))
	case 4:
		c := domain.Consultation{Authority: pick(r, auths[0], auths[0], pick(r, auths...)), Outcome: pick(r, domain.ConsultationNoObjection, domain.ConsultationGuidance, domain.ConsultationObjection, domain.ConsultationNoResponse),
			ReplyReference: pick(r, "", "ref"), ReplyDate: x.now.Add(-time.Duration(r.IntN(20*24)) * time.Hour)}
		x.do(p.ProposeConsultationOutcome(c, who.ID, x.now))
	case 5:
		m := domain.ManualDispatch{Authority: pick(r, auths...), Means: domain.DispatchPost, Reference: pick(r, "", "RR1"), SentAt: x.now}
		x.do(p.ProposeManualDispatch(m, who.ID, x.now))
	case 6:
		x.do(p.ProposeWeakening(pick(r, domain.StepNotifyCustomer, domain.StepNotifyDPA, domain.StepHoldAndConsultDPA), "basis", "ref", who.ID, x.now))
	case 7, 8, 9:
		ids := []string{"nope"}
		for _, l := range p.Lifts() {
			ids = append(ids, l.ID)
			if !l.Confirmed() {
				ids = append(ids, l.ID, l.ID) // mostly the pending ones
			}
		}
		x.do(p.ConfirmLift(pick(r, ids...), who, x.now))
	case 10:
		x.do(p.RecordWaiverEffort(domain.WaiverEffort{Kind: pick(r, domain.EffortInformObligations, domain.EffortAskToHold, domain.EffortAllowCustomerPersonnel, domain.EffortSeekCourtOrder),
			Outcome: pick(r, domain.WaiverInformed, domain.WaiverDeclined, domain.WaiverGranted, domain.WaiverPending), Person: "counsel", At: x.now}))
	case 11:
		x.do(p.LiftHold(who.ID, x.now))
	case 12:
		// Facts change after the decision: a correction or an amendment.
		q := x.history[len(x.history)-1]
		switch r.IntN(5) {
		case 0:
			q.Customer.Controller = !q.Customer.Controller
		case 1:
			q.Prohibition = domain.Prohibition{}
		case 2:
			q.ImminentRisk = domain.ImminentRisk{}
		case 3:
			q.AuthorityCountry = pick(r, "GB", "BR", "DE", "CN")
		case 4:
			q = randReq(r)
		}
		if q.Decision == policy.DecisionRedirectToCustomer && !q.Customer.Controller {
			q.Decision = policy.DecisionDisclose
		}
		q.DecisionID += "'"
		if x.do(p.Derive(q, x.reg, cfg, x.now)) {
			x.history = append(x.history, q)
		}
	case 13:
		x.do(p.Clear(x.now))
	case 14:
		evs, err := p.CheckDisclosure(x.reg, x.now)
		x.do(evs, err)
		x.disclosed = err == nil

	case 15:
		x.do(p.RecordExemption(domain.StepHoldAndConsultDPA, domain.SkipImminentRisk, "b", who.ID, x.now))
		x.do(p.RecordConsultation(domain.Consultation{Authority: "DPC-IE", Outcome: domain.ConsultationNoObjection, By: who.ID, At: x.now}))
	case 16:
		// The case goes back to review (issue 16); a later case 12 is the
		// new decision. Sometimes the reopening is stale.
		if r.IntN(3) > 0 {
			break
		}
		cause := fmt.Sprint("reopen-", x.now.UnixNano())
		sup := p.Requirements().DecisionID
		if r.IntN(4) == 0 {
			sup = "stale"
		}
		x.do([]domain.Event{domain.Reopened{CauseEventID: cause, SupersededDecisionID: sup, At: x.now}}, nil)
		x.do(p.Stop(domain.StopReopened, cause, x.now))
	case 17:
		if r.IntN(60) == 0 { // rare: it ends the run's chances of a clearance
			x.do([]domain.Event{domain.Withdrawn{CauseEventID: "withdrawn", At: x.now}}, nil)
			x.do(p.Stop(domain.StopWithdrawn, "withdrawn", x.now))
		}
	}
}

// confirmedBySecond checks a lift as an auditor would: confirmed, by a
// named person other than its recorder and the decision's proposer, with
// one of the roles the kind of lift needs.
func confirmedBySecond(l policy.Lift, proposer string, need ...policy.Role) error {
	switch {
	case !l.Confirmed():
		return fmt.Errorf("lift %s not confirmed", l.ID)
	case l.ConfirmedBy == l.RecordedBy:
		return fmt.Errorf("lift %s confirmed by its recorder %q", l.ID, l.RecordedBy)
	case l.ConfirmedBy == proposer:
		return fmt.Errorf("lift %s confirmed by the decision's proposer", l.ID)
	case !slices.ContainsFunc(need, func(r policy.Role) bool { return slices.Contains(rolesOf(l.ConfirmedBy), r) }):
		return fmt.Errorf("lift %s confirmed by %q without role %v", l.ID, l.ConfirmedBy, need)
	}
	return nil
}

func liftByID(p *domain.Plan, id string) (policy.Lift, bool) {
	for _, l := range p.Lifts() {
		if l.ID == id && id != "" {
			return l, true
		}
	}
	return policy.Lift{}, false
}

// packetWentOut: an accepted delivery, or a manual dispatch a second person
// confirmed, to authority, no later than by.
func packetWentOut(p *domain.Plan, authority string, by time.Time) bool {
	proposer := p.Requirements().DecisionProposer
	for _, d := range p.Deliveries() {
		if !d.Failed && d.Recipient == authority && (d.Step == domain.StepNotifyDPA || d.Step == domain.StepHoldAndConsultDPA) && !d.At.After(by) {
			return true
		}
	}
	for _, m := range p.Dispatches() {
		if l, ok := liftByID(p, m.LiftID); ok && m.Authority == authority && confirmedBySecond(l, proposer, policy.RoleApprover, policy.RoleLegal) == nil && !m.SentAt.After(by) {
			return true
		}
	}
	return false
}

// checkCleared is the oracle: written from the policy, not from the
// package's code, it says what must hold at the moment at when a plan is
// cleared for disclosure, or a disclosure is let through.
func checkCleared(x *propRun, at time.Time) error {
	p := x.p
	q := p.Requirements()
	for _, s := range p.Steps() {
		k := s.Kind
		if k != domain.StepNotifyCustomer && k != domain.StepNotifyDPA && k != domain.StepHoldAndConsultDPA && k != domain.StepAskAuthorityToRedirect {
			continue
		}
		if s.Status == domain.StatusRequired || s.Status == domain.StatusFailed || s.Status == domain.StatusStopped {
			return fmt.Errorf("cleared with %s %s", k, s.Status)
		}
		// 4.1.1 applies "ordinarily": an imminent risk skips the redirect
		// request by itself; only notices and the hold need an exemption.
		if k != domain.StepAskAuthorityToRedirect && (s.SkipReason == domain.SkipProhibited || s.SkipReason == domain.SkipImminentRisk) {
			ok := false
			var why error
			for _, e := range p.Exemptions() {
				l, found := liftByID(p, e.LiftID)
				if e.Step != k || e.Reason != s.SkipReason || !found {
					continue
				}
				if why = confirmedBySecond(l, q.DecisionProposer, policy.RoleLegal); why != nil {
					continue
				}
				if e.Reason == domain.SkipProhibited && !q.Prohibition.Present && e.Statute == "" {
					why = errors.New("prohibited without a gag or a statute")
					continue
				}
				if e.Reason == domain.SkipImminentRisk && ((!q.ImminentRisk.Claimed && q.ImminentRisk.Justification == "") || e.WhyNoticeDefeats == "") {
					why = errors.New("imminent risk without a finding")
					continue
				}
				ok = true
			}
			if !ok {
				return fmt.Errorf("%s skipped %s without a two-person, facts-based exemption: %w", k, s.SkipReason, why)
			}
		}
	}
	if s := p.Step(domain.StepNotifyDPA); s.Status == domain.StatusDone {
		for _, a := range p.Authorities() {
			if !packetWentOut(p, a, at) {
				return fmt.Errorf("2.2 done but no packet went out to %s", a)
			}
		}
	}
	if s := p.Step(domain.StepHoldAndConsultDPA); s.Status == domain.StatusDone {
		ok := false
		for _, c := range p.Consultations() {
			l, found := liftByID(p, c.LiftID)
			if c.Authority != cfg.LeadDPA || !found || c.Outcome == domain.ConsultationObjection {
				continue
			}
			need := []policy.Role{policy.RoleApprover, policy.RoleLegal}
			if c.Outcome == domain.ConsultationNoResponse {
				need = []policy.Role{policy.RoleLegal}
			}
			if confirmedBySecond(l, q.DecisionProposer, need...) == nil && packetWentOut(p, c.Authority, c.At) {
				ok = true
			}
		}
		if !ok {
			return errors.New("4.2.1 hold done without a lead outcome on a delivered packet confirmed by a second person")
		}
	}
	// Rule 11: what was once owed was not dropped by one person.
	weakened := func(k domain.StepKind) bool {
		l, ok := liftByID(p, "weaken/"+string(k))
		return ok && confirmedBySecond(l, q.DecisionProposer, policy.RoleLegal) == nil
	}
	for _, h := range x.history {
		disclosing := h.Decision != policy.DecisionReject
		if disclosing && h.Customer.Controller && p.Step(domain.StepNotifyCustomer).SkipReason == domain.SkipCustomerNotController && !weakened(domain.StepNotifyCustomer) {
			return errors.New("the customer notice once owed was dropped without a confirmed weakening")
		}
	}
	// Rule 5: adequacy judged again at clearance.
	if p.Step(domain.StepHoldAndConsultDPA).SkipReason == domain.SkipCountryAdequate && !x.reg.JudgeAuthority(q.AuthorityCountry, at).Adequate && !weakened(domain.StepHoldAndConsultDPA) {
		return fmt.Errorf("cleared on %s without a hold though %q was not adequate that day", at.Format(time.DateOnly), q.AuthorityCountry)
	}
	return nil
}

func simulatePlan(r *rand.Rand, steps int) (cleared bool, err error) {
	x := &propRun{r: r, p: &domain.Plan{}, reg: propRegistry(), now: t0}
	q := randReq(r)
	x.do(x.p.Derive(q, x.reg, cfg, t0))
	x.p.UseRegistry(x.reg)
	x.history = []domain.Requirements{q}
	for range steps {
		was := x.p.Cleared()
		x.disclosed = false
		x.step()
		if now := x.p.Cleared() && x.p.Outcome() == domain.OutcomeCleared; now && !was {
			if err := checkCleared(x, x.p.ClearedAt()); err != nil {
				return false, fmt.Errorf("at clearance: %w", err)
			}
			cleared = true
		}
		if x.disclosed {
			if err := checkCleared(x, x.now); err != nil {
				return false, fmt.Errorf("at disclosure: %w", err)
			}
		}
		// Withdrawn, or back in review: nothing leaves, nothing is
		// disclosed (issue 16).
		if x.p.Withdrawn() || x.p.AwaitingDecision() {
			if x.disclosed || x.p.NoticeOwed(x.now) || x.p.PacketOwed() || (x.p.Cleared() && x.p.Outcome() == domain.OutcomeCleared) {
				return false, fmt.Errorf("withdrawn %v, awaiting a decision %v: disclosed %v, notice owed %v, packet owed %v, outcome %s",
					x.p.Withdrawn(), x.p.AwaitingDecision(), x.disclosed, x.p.NoticeOwed(x.now), x.p.PacketOwed(), x.p.Outcome())
			}
		}
	}
	return cleared, nil
}

func TestProperty_NoClearedDisclosureWithASafeguardLiftedByOnePersonOrAnOutcomeWithoutAPacket(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 2026))
	cleared := 0
	for i := range 3000 {
		ok, err := simulatePlan(r, 120)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if ok {
			cleared++
		}
	}
	if cleared < 200 {
		t.Fatalf("generator too weak: %d runs reached a clearance", cleared)
	}
	t.Logf("%d of 3000 runs reached a clearance", cleared)
}

func FuzzPlanCommands(f *testing.F) {
	for _, s := range []uint64{1, 2, 15, 2026} {
		f.Add(s, uint8(60))
	}
	f.Fuzz(func(t *testing.T, seed uint64, steps uint8) {
		if _, err := simulatePlan(rand.New(rand.NewPCG(seed, seed>>1)), int(steps)); err != nil && !strings.HasPrefix(err.Error(), "unexpected") {
			t.Fatal(err)
		}
	})
}
