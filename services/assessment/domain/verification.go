package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Issue 18: who is really asking. Forged "emergency" requests sent from
// compromised police accounts are where a fast review does most harm, so a
// disclosure whose effect rests on who asks (an imminent-risk basis, an
// emergency request, or a request configured or flagged to need it) takes
// effect only once a person has called the authority back through a
// contact from the authority directory and recorded it as confirmed
// (clause 2.1: without a real requester there is no compelling obligation
// and no risk the disclosure answers). The directory itself lives in
// platform/authority; the app matches the requester and resolves the
// contacts, this file holds the rules and the fold.

// FlagUnverifiedRequester: the requester does not match the directory, or
// the authority was used in a confirmed forgery.
const FlagUnverifiedRequester FlagCode = "UNVERIFIED_REQUESTER"

// Rule codes of the verification refusals.
const (
	RuleRequesterNotVerified = "REQUESTER_NOT_VERIFIED"
	RuleRequesterForged      = "REQUESTER_FORGED"
)

// VerificationOutcome is what the call back through the directory found.
type VerificationOutcome string

// The outcomes.
const (
	VerificationConfirmed   VerificationOutcome = "confirmed"
	VerificationUnreachable VerificationOutcome = "unreachable"
	VerificationForged      VerificationOutcome = "forged"
)

// Valid reports whether o is one of the outcomes.
func (o VerificationOutcome) Valid() bool {
	return o == VerificationConfirmed || o == VerificationUnreachable || o == VerificationForged
}

// RequesterChecked is the directory's finding about the requester when the
// case opened. It never holds the sender's address.
type RequesterChecked struct {
	Meta
	AuthorityID    string
	Verified       bool
	Reason         string
	PriorForgeries int
	// VerificationRequired: a confirmed verification is needed before any
	// disclosure, not only an emergency one (configuration, or an
	// authority flagged for an earlier forgery).
	VerificationRequired bool
}

// RequesterVerified is one call back through a directory contact.
type RequesterVerified struct {
	Meta
	AuthorityID string
	ChannelID   string
	Channel     string
	Outcome     VerificationOutcome
	Note        string
}

// AuthorityFlagged layers a flag over the directory entry of an authority
// whose name was used in a confirmed forgery.
type AuthorityFlagged struct {
	Meta
	AuthorityID string
	Reason      string
	IncidentID  string
}

// SecurityIncidentOpened: a forged request reached the Privacy Team.
type SecurityIncidentOpened struct {
	Meta
	IncidentID    string
	AuthorityID   string
	DataDisclosed bool
}

// BreachOpened: data had been disclosed on a request confirmed forged, a
// personal-data breach; its deadlines are set with it.
type BreachOpened struct {
	Meta
	IncidentID string
	Deadlines  []deadline.Deadline
}

// EventName implementations.
func (RequesterChecked) EventName() string       { return "RequesterChecked" }
func (RequesterVerified) EventName() string      { return "RequesterVerified" }
func (AuthorityFlagged) EventName() string       { return "AuthorityFlagged" }
func (SecurityIncidentOpened) EventName() string { return "SecurityIncidentOpened" }
func (BreachOpened) EventName() string           { return "BreachOpened" }

// Verification is where the verification of a request's requester stands:
// its own fold over the request's events.
type Verification struct {
	// Checked: the requester was matched to the directory when the case
	// opened (cases opened before the directory existed were not).
	Checked        bool
	AuthorityID    string
	SenderVerified bool
	Reason         string
	PriorForgeries int
	Required       bool

	// Outcome is the latest recorded outcome; empty when none.
	Outcome   VerificationOutcome
	By        string
	At        time.Time
	ChannelID string
	// Confirmed: some verification was recorded as confirmed (and no
	// forgery after it).
	Confirmed bool
	Forged    bool

	IncidentID string
	// Disclosed: reporting recorded a disclosure on the request.
	Disclosed bool
	Breach    []deadline.Deadline
}

// Apply folds one event; events of other kinds are ignored.
func (v *Verification) Apply(e Event) {
	switch e := e.(type) {
	case RequesterChecked:
		v.Checked, v.AuthorityID, v.SenderVerified, v.Reason = true, e.AuthorityID, e.Verified, e.Reason
		v.PriorForgeries, v.Required = e.PriorForgeries, e.VerificationRequired
	case RequesterVerified:
		v.Outcome, v.By, v.At, v.ChannelID = e.Outcome, e.By, e.At, e.ChannelID
		if v.AuthorityID == "" {
			v.AuthorityID = e.AuthorityID
		}
		switch e.Outcome {
		case VerificationConfirmed:
			v.Confirmed = !v.Forged
		case VerificationForged:
			v.Forged, v.Confirmed = true, false
		}
	case SecurityIncidentOpened:
		v.IncidentID = e.IncidentID
	case BreachOpened:
		v.Breach = append(v.Breach, e.Deadlines...)
	case DispositionRecorded:
		// Reporting's record that data left: a forgery found later is a
		// breach (lifecycle.go's event, folded here too).
		v.Disclosed = v.Disclosed || e.Disclosed
	}
}

// Verification returns where the requester's verification stands.
func (c *Case) Verification() Verification {
	v := c.verification
	v.Breach = append([]deadline.Deadline(nil), v.Breach...)
	return v
}

// NeedsVerification reports whether a decision d takes effect only after a
// confirmed verification: a disclosure on an imminent-risk basis, of an
// emergency or imminent-risk request, or of a request whose check said
// any disclosure needs it.
func (c *Case) NeedsVerification(d Decision) bool {
	return d.Kind == policy.DecisionDisclose && (d.Basis == BasisImminentRisk || c.facts.Urgent() || c.verification.Required)
}

// checkForged refuses every decision but a reject once the request was
// confirmed forged: there is no requesting authority to answer.
func (c *Case) checkForged(d Decision) error {
	if c.verification.Forged && d.Kind != policy.DecisionReject {
		return ddrerr.Policy(policy.Clause2_1, RuleRequesterForged,
			"the authority confirmed it did not send this request: only a reject can be decided")
	}
	return nil
}

// checkVerified is the gate at the approval that would make a disclosure
// take effect (clause 2.1).
func (c *Case) checkVerified(d Decision) error {
	if err := c.checkForged(d); err != nil {
		return err
	}
	if !c.NeedsVerification(d) || c.verification.Confirmed {
		return nil
	}
	why := "a disclosure on an imminent risk of serious harm, of an emergency request, or of a request flagged for verification takes effect only once a person has verified the request through a contact from the authority directory (never from the request) and recorded it as confirmed"
	switch {
	case c.verification.Outcome == VerificationUnreachable:
		why += "; the authority could not be reached, so the request stays blocked"
	case c.verification.Checked && !c.verification.SenderVerified:
		why += "; the requester is unverified: " + c.verification.Reason
	}
	return ddrerr.Policy(policy.Clause2_1, RuleRequesterNotVerified, why)
}

// VerificationInput is one verification to record: the directory contact
// it went through (resolved by the caller from the directory, never from
// the request) and its outcome.
type VerificationInput struct {
	AuthorityID string
	ChannelID   string
	Channel     string
	Outcome     VerificationOutcome
	Note        string
	// IncidentID names the security incident a forgery opens.
	IncidentID string
}

// Breach clocks (GDPR Art. 33): a processor tells each controller without
// undue delay, which the Privacy Team counts as 24 hours; the supervisory
// authority is notified within 72 hours of becoming aware.
var (
	BreachControllerRule = deadline.Rule{Counting: deadline.Hours, N: 24,
		Source: "Regulation (EU) 2016/679 Art. 33(2): without undue delay (the Privacy Team's 24 hours)"}
	BreachAuthorityRule = deadline.Rule{Counting: deadline.Hours, N: 72,
		Source: "Regulation (EU) 2016/679 Art. 33(1): within 72 hours of becoming aware"}
)

// RecordVerification records a verification of the requester. FORGED lapses
// a pending disclosure, flags the authority, opens a security incident and,
// when data had already been disclosed on the request, a personal-data
// breach with its deadlines.
func (c *Case) RecordVerification(in VerificationInput, by string, now time.Time) ([]Event, error) {
	if !c.Opened() {
		return nil, &TransitionError{Action: "record a verification"}
	}
	var v ddrerr.Collector
	if !in.Outcome.Valid() {
		v.Add("outcome", "must be confirmed, unreachable or forged")
	}
	if strings.TrimSpace(in.ChannelID) == "" {
		v.Add("channel_id", "required: a contact from the authority directory")
	}
	if strings.TrimSpace(by) == "" {
		v.Add("actor", "required")
	}
	if in.Outcome == VerificationForged && strings.TrimSpace(in.IncidentID) == "" {
		v.Add("incident_id", "required for a forgery")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.AuthorityID) == "" {
		return nil, ddrerr.Policy(policy.Clause2_1, RuleRequesterNotVerified,
			"the authority directory knows no authority the request names: there is no verified contact to call back")
	}
	if c.verification.Forged {
		return nil, fmt.Errorf("%w: the request was already confirmed forged", ddrerr.ErrFailedPrecondition)
	}
	m := meta(by, now)
	evs := []Event{RequesterVerified{Meta: m, AuthorityID: in.AuthorityID, ChannelID: in.ChannelID, Channel: in.Channel, Outcome: in.Outcome, Note: in.Note}}
	if in.Outcome != VerificationForged {
		return evs, nil
	}
	if c.status == StatusDecisionPendingApproval {
		evs = append(evs, DecisionRejected{Meta: m, Reason: "the authority confirmed it did not send this request (clause 2.1): the pending disclosure lapses"})
	}
	evs = append(evs,
		AuthorityFlagged{Meta: m, AuthorityID: in.AuthorityID, IncidentID: in.IncidentID,
			Reason: "a request in this authority's name was confirmed forged by calling back through the directory on " + m.At.Format(time.DateOnly)},
		SecurityIncidentOpened{Meta: m, IncidentID: in.IncidentID, AuthorityID: in.AuthorityID, DataDisclosed: c.verification.Disclosed},
	)
	if c.verification.Disclosed {
		evs = append(evs, BreachOpened{Meta: m, IncidentID: in.IncidentID, Deadlines: c.breachDeadlines(m.At)})
	}
	return evs, nil
}

// breachDeadlines are the clocks of a personal-data breach found at
// aware: one per controller customer and the supervisory authority's.
// Customers are numbered, never named: a deadline id is shown and logged.
func (c *Case) breachDeadlines(aware time.Time) []deadline.Deadline {
	var out []deadline.Deadline
	add := func(id, what string, r deadline.Rule) {
		due, _ := r.DueFrom(aware, time.Time{}, nil)
		out = append(out, deadline.Deadline{ID: id, Kind: deadline.By, Clause: policy.Clause2_2, What: what, Rule: r, Start: aware, Due: due})
	}
	for i := range c.controllerCustomers() {
		add("breach/controller/"+strconv.Itoa(i+1), "tell controller customer "+strconv.Itoa(i+1)+" of the personal-data breach", BreachControllerRule)
	}
	add("breach/supervisory-authority", "notify the supervisory authority of the personal-data breach", BreachAuthorityRule)
	return out
}

// controllerCustomers counts the business customers who control the data
// sought.
func (c *Case) controllerCustomers() int {
	if c.facts.CustomerIsController {
		return 1
	}
	return 0
}
