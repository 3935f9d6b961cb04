package domain

import (
	"fmt"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Issue 18 with issue 15's two-person rule: which disclosures need a
// confirmed verification of the requester is a setting, and narrowing it
// weakens a safeguard (clause 2.1: without a real requester there is no
// compelling obligation). So a wider scope takes effect at once, by one
// person, while a narrower one is a policy.Lift: it takes effect only when
// a second person, an approver or legal and never its proposer, confirms
// it. A restart with a narrower startup flag does not narrow either: the
// stored setting stays in force.

// VerifyScope says which requests need a confirmed verification before any
// disclosure, beyond emergency and imminent-risk ones (which always do).
type VerifyScope string

// The scopes, from the narrowest to the widest.
const (
	// VerifyEmergency: only emergency and imminent-risk disclosures (the
	// policy's minimum).
	VerifyEmergency VerifyScope = "emergency"
	// VerifyUnverified: also any disclosure to a requester the directory
	// could not verify.
	VerifyUnverified VerifyScope = "unverified"
	// VerifyAll: every disclosure.
	VerifyAll VerifyScope = "all"
)

// ParseVerifyScope parses a scope; empty is VerifyEmergency.
func ParseVerifyScope(s string) (VerifyScope, error) {
	switch v := VerifyScope(s); v {
	case "":
		return VerifyEmergency, nil
	case VerifyEmergency, VerifyUnverified, VerifyAll:
		return v, nil
	}
	return "", fmt.Errorf("verification scope %q is not one of emergency, unverified, all", s)
}

// width orders the scopes: the more disclosures need a verification, the
// wider. An unknown scope is narrower than every known one, so it can never
// pass for a widening.
func (s VerifyScope) width() int {
	switch s {
	case VerifyEmergency:
		return 1
	case VerifyUnverified:
		return 2
	case VerifyAll:
		return 3
	}
	return 0
}

// Valid reports whether s is one of the scopes.
func (s VerifyScope) Valid() bool { return s.width() > 0 }

// NarrowerThan reports whether s asks for verification of fewer
// disclosures than o: moving from o to s weakens the safeguard.
func (s VerifyScope) NarrowerThan(o VerifyScope) bool { return s.width() < o.width() }

// Requires reports whether, under scope s, a disclosure of a request
// whose requester the directory did (verified) or did not verify needs a
// confirmed verification (beyond emergencies, which always do).
func (s VerifyScope) Requires(verified bool) bool {
	return s == VerifyAll || (s == VerifyUnverified && !verified)
}

// Where a setting came from.
const (
	ScopeSourceInitial = "initial"      // the startup flag, nothing stored yet
	ScopeSourceStartup = "startup-flag" // a wider flag at a restart
	ScopeSourceRPC     = "rpc"          // ProposeVerificationScope / Confirm
)

// ScopeSetting is the scope in force and who put it there.
type ScopeSetting struct {
	Scope  VerifyScope
	Reason string
	// ChangedBy made the change; for a narrowing, its proposer.
	ChangedBy string
	ChangedAt time.Time
	// ConfirmedBy is the second person of a narrowing; empty otherwise.
	ConfirmedBy string
	ConfirmedAt time.Time
	ProposalID  string
	Source      string
}

// ScopeProposal is a narrowing waiting for its second person.
type ScopeProposal struct {
	ID   string
	From VerifyScope
	To   VerifyScope
	Lift policy.Lift
}

// ScopeState is the stored state of the setting: what is in force and the
// narrowing, if any, waiting for confirmation.
type ScopeState struct {
	InForce ScopeSetting
	Pending *ScopeProposal
}

// ScopeConfirmRoles may confirm a narrowing: the second pair of eyes.
var ScopeConfirmRoles = []policy.Role{policy.RoleApprover, policy.RoleLegal}

// InitialScope is the state when nothing is stored: the startup flag.
func InitialScope(flag VerifyScope, operator string, now time.Time) ScopeState {
	return ScopeState{InForce: ScopeSetting{Scope: flag, ChangedBy: operator, ChangedAt: now, Source: ScopeSourceInitial,
		Reason: "the --assessment-verify-scope flag, nothing stored yet"}}
}

// AtStartup reconciles the stored state with the startup flag. A wider
// flag widens (a change by the operator, recorded); a narrower one changes
// nothing: a deploy cannot weaken the safeguard alone. kept reports a
// narrower flag that was ignored, for a warning.
func (st ScopeState) AtStartup(flag VerifyScope, operator string, now time.Time) (next ScopeState, changed, kept bool) {
	switch {
	case flag.NarrowerThan(st.InForce.Scope):
		return st, false, true
	case st.InForce.Scope.NarrowerThan(flag):
		return ScopeState{InForce: ScopeSetting{Scope: flag, ChangedBy: operator, ChangedAt: now, Source: ScopeSourceStartup,
			Reason: "the --assessment-verify-scope flag at startup asked for a wider scope"}}, true, false
	}
	return st, false, false
}

// ProposeScope changes the scope in force. A widening (stricter) is in
// force at once and drops a pending narrowing (it was weighed against a
// scope no longer in force). A narrowing records a Lift that only a
// second person can confirm; it replaces a pending one. The same proposal
// again by the same person answers the pending one (a retried call).
func (st ScopeState) ProposeScope(to VerifyScope, reason, id string, by policy.Person, now time.Time) (next ScopeState, inForceNow bool, err error) {
	var v ddrerr.Collector
	if !to.Valid() {
		v.Add("scope", "must be emergency, unverified or all")
	}
	if strings.TrimSpace(reason) == "" {
		v.Add("reason", "required: why the scope changes")
	}
	if strings.TrimSpace(by.ID) == "" {
		v.Add("actor", "required")
	}
	if err := v.Err(); err != nil {
		return st, false, err
	}
	if to == st.InForce.Scope {
		return st, false, ddrerr.Invalid(ddrerr.FieldViolation{Field: "scope", Description: "already the scope in force (" + string(to) + ")"})
	}
	if !to.NarrowerThan(st.InForce.Scope) {
		return ScopeState{InForce: ScopeSetting{Scope: to, Reason: reason, ChangedBy: by.ID, ChangedAt: now, ProposalID: id, Source: ScopeSourceRPC}}, true, nil
	}
	if p := st.Pending; p != nil && p.To == to && p.Lift.Basis == reason && p.Lift.RecordedBy == by.ID {
		return st, false, nil
	}
	st.Pending = &ScopeProposal{ID: id, From: st.InForce.Scope, To: to, Lift: policy.Lift{
		ID: "verify-scope/" + id, Clause: policy.Clause2_1,
		What:  "narrowing the requester verification scope from " + string(st.InForce.Scope) + " to " + string(to),
		Basis: reason, RecordedBy: by.ID, RecordedAt: now, ConfirmRoles: ScopeConfirmRoles,
	}}
	return st, false, nil
}

// ConfirmScope puts the pending narrowing id in force, confirmed by a
// second person: an approver or legal who did not propose it.
func (st ScopeState) ConfirmScope(id string, by policy.Person, now time.Time) (ScopeState, error) {
	p := st.Pending
	if p == nil || p.ID != id {
		return st, fmt.Errorf("%w: no verification scope change %s is waiting for confirmation", ddrerr.ErrNotFound, id)
	}
	l, r := p.Lift.Confirm(by, now)
	if r != nil {
		return st, ddrerr.Policy(r.Clause, r.Rule, r.Reason)
	}
	return ScopeState{InForce: ScopeSetting{Scope: p.To, Reason: l.Basis, ChangedBy: l.RecordedBy, ChangedAt: l.RecordedAt,
		ConfirmedBy: l.ConfirmedBy, ConfirmedAt: l.ConfirmedAt, ProposalID: p.ID, Source: ScopeSourceRPC}}, nil
}
