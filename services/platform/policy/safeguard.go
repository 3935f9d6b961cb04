package policy

import (
	"slices"
	"strings"
	"time"
)

// Role is a staff role as the safeguards name it. The values are those of
// platform/authz, which decides who may call an RPC; the safeguards decide
// who may confirm a lift, which the RPC table cannot see (it does not know
// who proposed the disclosure or who recorded the lift).
type Role string

// Staff roles.
const (
	RoleReviewer Role = "reviewer"
	RoleApprover Role = "approver"
	RoleLegal    Role = "legal"
)

// Person is someone acting on a request, with the roles their identity
// carries at the time of acting.
type Person struct {
	ID    string
	Roles []Role
}

// Has reports whether p holds role r.
func (p Person) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// Lift is the one model of every act that lifts or skips a safeguard: an
// exemption from a notice or a hold, a DPA consultation outcome, a manual
// dispatch of a DPA packet, a report exclusion, a challenge outcome, a change
// that weakens a plan. One person records it with its basis and an evidence
// reference; it takes effect only when a second person, holding one of
// ConfirmRoles and not barred, confirms it. Until then it lifts nothing.
//
// The rule lives here once: each service's domain builds a Lift for its own
// act, with the clause and roles that act needs, and calls
// [Lift.CheckConfirm]; none re-implements the four eyes.
type Lift struct {
	// ID names the lift within its request so a confirmation says which
	// one it confirms (e.g. "exemption/NOTIFY_CUSTOMER").
	ID     string
	Clause Clause
	// What is a sentence for people: what is lifted or skipped.
	What string
	// Basis is why the safeguard may be lifted, in words.
	Basis string
	// Evidence is a reference to the evidence (a gag order, a statute, the
	// DPA's reply reference, a portal receipt); never personal data.
	Evidence   string
	RecordedBy string
	RecordedAt time.Time
	// ConfirmRoles: the confirmer must hold one of them.
	ConfirmRoles []Role
	// Barred may never confirm: the proposer of the disclosure decision the
	// safeguard protects against, for one.
	Barred      []string
	ConfirmedBy string
	ConfirmedAt time.Time
}

// Confirmed reports whether a second person confirmed the lift.
func (l Lift) Confirmed() bool { return l.ConfirmedBy != "" && !l.ConfirmedAt.IsZero() }

// Missing lists the fields a recorded lift lacks (field names as on the
// wire), for a validation error.
func (l Lift) Missing() []string {
	var out []string
	for _, f := range []struct{ name, v string }{
		{"lift_id", l.ID}, {"basis", l.Basis}, {"evidence_reference", l.Evidence}, {"recorded_by", l.RecordedBy},
	} {
		if strings.TrimSpace(f.v) == "" {
			out = append(out, f.name)
		}
	}
	if l.RecordedAt.IsZero() {
		out = append(out, "recorded_at")
	}
	if l.Clause == "" || len(l.ConfirmRoles) == 0 {
		out = append(out, "confirm_roles")
	}
	return out
}

// Refusal is a safeguard rule's refusal: the clause, a stable rule code and a
// sentence without personal data. Domain packages turn it into their policy
// error (platform/ddrerr imports this package, so it cannot be returned from
// here directly).
type Refusal struct {
	Clause Clause
	Rule   string
	Reason string
}

func (r *Refusal) Error() string {
	return "policy clause " + r.Clause.Number() + " (" + r.Rule + "): " + r.Reason
}

// Rule codes of [Lift.CheckConfirm].
const (
	RuleLiftAlreadyConfirmed = "LIFT_ALREADY_CONFIRMED"
	RuleLiftSelfConfirm      = "LIFT_CONFIRMED_BY_RECORDER"
	RuleLiftBarredConfirmer  = "LIFT_CONFIRMED_BY_PROPOSER"
	RuleLiftConfirmerRole    = "LIFT_CONFIRMER_LACKS_ROLE"
)

// RuleTargetsErased is the one rule code of what a request's erased
// targets forbid (clause 4.1.2): once the SUBJECT key is gone, so are the
// customers the 4.1.1 ask and the 4.1.2 notice go to. Intake (an
// amendment), assessment (a reopening, a fact correction, a challenge
// outcome) and the keyring (any personal data recorded after the erasure)
// refuse under it, so a client branches on one code.
const RuleTargetsErased = "TARGETS_ERASED"

// CheckConfirm says whether by may confirm l: someone other than the
// recorder, not barred (the disclosure's proposer), holding a confirming
// role. A lift is confirmed once; confirming again is refused so that a
// second confirmation can never stand in for a missing first one.
func (l Lift) CheckConfirm(by Person) *Refusal {
	id := strings.TrimSpace(by.ID)
	switch {
	case l.Confirmed():
		return &Refusal{l.Clause, RuleLiftAlreadyConfirmed, "this lift is already confirmed"}
	case id == "" || id == strings.TrimSpace(l.RecordedBy):
		return &Refusal{l.Clause, RuleLiftSelfConfirm, "two people: the person who recorded " + l.What + " cannot confirm it"}
	case slices.ContainsFunc(l.Barred, func(b string) bool { return strings.TrimSpace(b) == id }):
		return &Refusal{l.Clause, RuleLiftBarredConfirmer, "the person who proposed the disclosure cannot confirm " + l.What}
	case !slices.ContainsFunc(l.ConfirmRoles, by.Has):
		return &Refusal{l.Clause, RuleLiftConfirmerRole, "confirming " + l.What + " needs the role " + roleList(l.ConfirmRoles)}
	}
	return nil
}

// Confirm returns l confirmed by by at at, or the refusal of
// [Lift.CheckConfirm].
func (l Lift) Confirm(by Person, at time.Time) (Lift, *Refusal) {
	if r := l.CheckConfirm(by); r != nil {
		return l, r
	}
	l.ConfirmedBy, l.ConfirmedAt = by.ID, at
	l.Barred = slices.Clone(l.Barred)
	l.ConfirmRoles = slices.Clone(l.ConfirmRoles)
	return l, nil
}

func roleList(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

// MostSpecificFirst orders clauses for a refusal that names every clause
// blocking an action: the deeper a clause is numbered the more specific it
// is (4.2.1 before 2.2), and among equals the policy's own order decides.
// Duplicates are dropped.
func MostSpecificFirst(cs []Clause) []Clause {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b Clause) int {
		if da, db := strings.Count(string(a), "."), strings.Count(string(b), "."); da != db {
			return db - da
		}
		return order(a) - order(b)
	})
	return slices.Compact(out)
}

func order(c Clause) int {
	for i, e := range clauses {
		if e.c == c {
			return i
		}
	}
	return len(clauses)
}
