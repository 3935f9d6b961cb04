package domain

import (
	"fmt"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Blocker is one thing that still stands between a request and disclosure.
type Blocker struct {
	Step StepKind // empty when the blocker is not one step's
	// StepID is the step's id (kind, or kind/customer ref with several
	// customers).
	StepID      string
	Clause      policy.Clause
	Explanation string
}

// Blockers lists what still blocks disclosure of the request at now. It is
// empty exactly when every required step is done, no hold stands, any
// overlay notice period has run, and the decision allows disclosure at all.
func Blockers(p *Plan, now time.Time) []Blocker {
	stop, stopped := p.stopBlocker()
	if !p.derived {
		if stopped {
			return []Blocker{stop}
		}
		return []Blocker{{Clause: policy.Clause2_2, Explanation: "no plan has been derived for this request"}}
	}
	if stopped {
		// Withdrawn or back in review: that is the one answer; the
		// steps wait for a new plan, or for nothing.
		return []Blocker{stop}
	}
	var bs []Blocker
	switch p.Outcome() {
	case OutcomeRedirected:
		bs = append(bs, Blocker{Step: StepAskAuthorityToRedirect, Clause: policy.Clause4_1_1,
			Explanation: "the authority agreed to address the customer directly: the company discloses nothing"})
	case OutcomeNoDisclosure:
		bs = append(bs, Blocker{Clause: policy.Clause2_1,
			Explanation: "the decision (" + string(p.req.Decision) + ") does not authorise disclosure"})
	}
	if p.req.Decision == policy.DecisionRedirectToCustomer && p.Outcome() != OutcomeRedirected {
		bs = append(bs, Blocker{Clause: policy.Clause2_1,
			Explanation: "the decision is to redirect to the customer: disclosure needs a disclose decision"})
	}
	for _, s := range p.steps {
		if b, ok := p.stepBlocker(s, now); ok {
			if s.CustomerRef != "" {
				b.Explanation = "customer " + s.CustomerRef + ": " + b.Explanation
			}
			bs = append(bs, b)
		}
	}
	if p.hold.Open() && p.Step(StepHoldAndConsultDPA).Status != StatusRequired {
		// A hold outlives a change of plan until a consultation outcome or an
		// exemption lifts it (4.2.1).
		bs = append(bs, Blocker{Step: StepHoldAndConsultDPA, Clause: policy.Clause4_2_1, Explanation: p.holdExplanation(now)})
	}
	return bs
}

func (p *Plan) stepBlocker(s Step, now time.Time) (Blocker, bool) {
	b := Blocker{Step: s.Kind, StepID: s.ID, Clause: s.Clause}
	if s.Kind == StepNotifyDPAOutcome {
		return b, false // owed once the request ended: nothing is left to block
	}
	switch s.Status {
	case StatusRequired, StatusFailed:
	case StatusScheduled:
		if now.Before(s.ScheduledFor) {
			return b, false
		}
		b.Explanation = "the prohibition ended on " + day(s.ScheduledFor) + ": the customer notice is now owed before any disclosure"
		return b, true
	case StatusDone:
		if s.Kind == StepNotifyCustomer && p.req.CustomerNoticePeriod > 0 {
			if until := s.DoneAt.Add(p.req.CustomerNoticePeriod); now.Before(until) {
				b.Clause = policy.Clause1_2
				b.Explanation = "a stricter local law's customer-notice period runs until " + until.UTC().Format(time.RFC3339)
				return b, true
			}
		}
		return b, false
	default:
		return b, false
	}
	switch s.Kind {
	case StepAskAuthorityToRedirect:
		b.Explanation = "ask the authority to make the request to the customer directly, and record its answer"
	case StepNotifyCustomer:
		switch {
		case p.stepOf(StepAskAuthorityToRedirect, s.customer).Status == StatusRequired:
			b.Explanation = "the customer notice waits for the authority's answer to the redirect request (4.1.1)"
		case s.Status == StatusFailed:
			d, _ := p.lastFailedTo(s.customer)
			b.Explanation = "the last customer notice delivery failed (" + d.Reason + "): deliver it, or propose an exemption for a second person (legal) to confirm"
		case p.gagOn(StepNotifyCustomer):
			b.Explanation = "a prohibition bars the customer notice: an exemption on it must be proposed and confirmed by a second person (legal), or the prohibition waived (4.2.2)"
		default:
			b.Explanation = "deliver the customer notice with the details of the request, or propose an exemption for a second person (legal) to confirm"
		}
	case StepNotifyDPA:
		switch {
		case p.gagOn(StepNotifyDPA):
			b.Explanation = "a prohibition bars notifying the DPAs: an exemption must be proposed and confirmed by a second person (legal), or the prohibition waived (4.2.2)"
		default:
			b.Explanation = "notify the competent data protection authorities (" + strings.Join(p.packetsMissing(), ", ") +
				"): an accepted delivery or a manual dispatch confirmed by a second person, or a confirmed exemption"
		}
	case StepHoldAndConsultDPA:
		b.Explanation = p.holdExplanation(now)
	case StepWaiverEfforts:
		var kinds []string
		for _, k := range p.missingEfforts() {
			kinds = append(kinds, string(k))
		}
		b.Explanation = "record the best efforts to get the prohibition waived; missing: " + strings.Join(kinds, ", ")
	}
	return b, true
}

func (p *Plan) holdExplanation(now time.Time) string {
	if !p.hold.Open() {
		return "the authority's country is not adequate: put the request on hold and consult the DPAs"
	}
	held := fmt.Sprintf("on hold since %s (%s)", p.hold.PlacedAt.UTC().Format(time.RFC3339), p.hold.Age(now).Round(time.Minute))
	if c, ok := p.leadOutcome(); ok && c.Outcome == ConsultationObjection {
		return held + ": the lead DPA objected, so the request needs a new decision"
	}
	if _, ok := p.leadOutcome(); ok {
		return held + ": the lead DPA answered; lift the hold"
	}
	return held + ": the lead DPA's (" + p.cfg.LeadDPA + ") consultation outcome, recorded after the packet went out and confirmed by a second person, or a confirmed exemption"
}

// DisclosureRefusal is the disclosure gate as an error: nil when nothing
// blocks at now, otherwise one policy refusal naming every blocking clause,
// most specific first (4.1.2, 4.2.1, 4.2.2 before 2.2), with each blocker's
// explanation.
func DisclosureRefusal(p *Plan, now time.Time) error {
	bs := Blockers(p, now)
	if len(bs) == 0 {
		return nil
	}
	cs := make([]policy.Clause, len(bs))
	why := make([]string, len(bs))
	for i, b := range bs {
		cs[i], why[i] = b.Clause, b.Clause.Number()+": "+b.Explanation
	}
	return ddrerr.PolicyAll(cs, "DISCLOSURE_BLOCKED", strings.Join(why, "; "))
}

// OpenHold is a standing hold as listed for people.
type OpenHold struct {
	RequestID string
	Country   policy.Country
	PlacedAt  time.Time
	Age       time.Duration
	// WaitingFor says what would lift it.
	WaitingFor string
}

// OpenHold returns the request's standing hold and its age at now.
func (p *Plan) OpenHold(now time.Time) (OpenHold, bool) {
	if !p.hold.Open() {
		return OpenHold{}, false
	}
	return OpenHold{
		RequestID:  p.requestID,
		Country:    p.adequacy.Country,
		PlacedAt:   p.hold.PlacedAt,
		Age:        p.hold.Age(now),
		WaitingFor: p.holdExplanation(now),
	}, true
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
