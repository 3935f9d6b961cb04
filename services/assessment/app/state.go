package app

import (
	"cmp"
	"time"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

// CaseState is a request's case folded from its history: the domain case,
// which carries the rules, plus what the record holds and the domain does
// not keep (decision ids, approval times, the facts and flags as recorded),
// which the next events and the view show unchanged. It is what the app's
// commands and queries return; ports renders it.
type CaseState struct {
	Case *domain.Case
	// Version is the stream sequence of the request's last event, of any
	// service: the optimistic-concurrency point of the next append.
	Version uint64

	opened   *assessmentv1.CaseOpened
	decision *assessmentv1.Decision
	// earlier are the decisions superseded by a reopening, as recorded.
	earlier []*assessmentv1.Decision
	// facts are the facts as the last correction recorded them; nil: as
	// the case opened.
	facts *assessmentv1.CaseFacts
	flags []*assessmentv1.Flag
	// erased: intake recorded the erasure of the request's SUBJECT key;
	// see [CaseState.forget].
	erased bool
}

// forget clears every SUBJECT field of the events the state keeps (the
// customer ids in the facts, today), as opening them after the erasure
// of the request's SUBJECT key would: the review queue is a long-lived
// projection that folded them opened, and must show at once what a
// restarted assessment shows (platform/seal.Forget, driven by the marks,
// so a field marked later is covered).
func (s *CaseState) forget() {
	seal.Forget(s.opened, keys.Subject)
	seal.Forget(s.facts, keys.Subject)
	for _, f := range s.flags {
		seal.Forget(f, keys.Subject)
	}
	seal.Forget(s.decision, keys.Subject)
	for _, d := range s.earlier {
		seal.Forget(d, keys.Subject)
	}
}

// NewCaseState returns the state of a request with no events.
func NewCaseState() *CaseState { return &CaseState{Case: &domain.Case{}} }

// Fold replays a request's history.
func Fold(h eventstore.History) (*CaseState, error) {
	s := NewCaseState()
	for _, ev := range h.Events {
		if err := s.Apply(ev); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Apply folds one event of the request in. Events of other services that do
// not concern the case only move the version.
func (s *CaseState) Apply(ev eventstore.Event) error {
	s.Version = max(s.Version, ev.Sequence)
	evs, err := codec.Decode(ev, s.Case.Facts(), s.Case.Rules())
	if err != nil {
		return err
	}
	switch p := ev.Payload.(type) {
	case *assessmentv1.CaseOpened:
		s.opened = p
	case *assessmentv1.DecisionProposed:
		s.decision = proto.CloneOf(p.GetDecision())
	case *assessmentv1.DecisionApproved:
		if s.decision.GetDecisionId() == p.GetDecisionId() {
			s.decision.Approvals = append(s.decision.Approvals, p.GetApproval())
		}
	case *assessmentv1.DecisionRejected:
		s.decision = nil
	case *assessmentv1.AssessmentDecided:
		s.decision = p.GetDecision()
	case *assessmentv1.CaseReopened:
		if s.decision.GetStatus() == assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE {
			s.earlier = append(s.earlier, s.decision)
		}
		s.decision = nil
	case *assessmentv1.InformationRequested:
		s.decision = nil
	case *assessmentv1.FactsCorrected:
		s.facts, s.flags = p.GetFacts(), p.GetFlags()
	case *intakev1.TargetsErased:
		s.erased = true
	}
	if s.erased {
		s.forget()
	}
	for _, e := range evs {
		s.Case.Apply(e)
	}
	if s.Case.Status() == domain.StatusWithdrawn {
		s.decision = nil
	}
	return nil
}

// PendingDecisionID is the id of the disclosure awaiting approval, or "".
func (s *CaseState) PendingDecisionID() string {
	if s.Case.Status() != domain.StatusDecisionPendingApproval {
		return ""
	}
	return s.decision.GetDecisionId()
}

// Opening is the case's CaseOpened as recorded: its facts, rules and flags
// are shown as the record holds them, not converted again.
func (s *CaseState) Opening() *assessmentv1.CaseOpened { return s.opened }

// EarlierDecisions are the decisions superseded by reopenings, as
// recorded, oldest first.
func (s *CaseState) EarlierDecisions() []*assessmentv1.Decision { return s.earlier }

// RecordedFacts are the case's facts as recorded: as the case opened, or
// as the last correction that took effect left them.
func (s *CaseState) RecordedFacts() *assessmentv1.CaseFacts {
	if s.facts != nil {
		return s.facts
	}
	return s.opened.GetFacts()
}

// RecordedFlags are the case's flags as recorded (see RecordedFacts).
func (s *CaseState) RecordedFlags() []*assessmentv1.Flag {
	if s.facts != nil {
		return s.flags
	}
	return s.opened.GetFlags()
}

// Decision is the current or pending decision as recorded, or nil.
func (s *CaseState) Decision() *assessmentv1.Decision { return s.decision }

// OverdueAt says whether the case shows as overdue at now: a decided case
// only if its deadline passed undecided (recorded), an open one also once
// now is past it.
func (s *CaseState) OverdueAt(now time.Time) bool {
	if s.Case.Status() == domain.StatusDecided {
		return s.Case.OverdueRecorded()
	}
	return s.Case.OverdueRecorded() || s.Case.Overdue(now)
}

// encoder is the codec of one command on this state.
func (s *CaseState) encoder(c command.Call) codec.Encoder {
	return codec.Encoder{
		// A request withdrawn before its case opened has no case, yet its
		// withdrawal is acknowledged on it: the call names the request.
		RequestID: cmp.Or(s.Case.RequestID(), c.RequestID),
		Facts:     s.Case.Facts(),
		Rules:     s.Case.Rules(),
		Pending:   s.decision,
		// A fact correction records the facts again: the adequacy reason
		// stays the recorded one unless the country is corrected.
		AdequacyReason: s.RecordedFacts().GetAdequacyReason(),
		ID:             c.EventID,
		Now:            c.Now,
	}
}
