package domain

import (
	"fmt"
	"slices"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// DataCategory is a kind of data that can be disclosed. The report only
// needs to know whether any of it was content.
type DataCategory string

// Data categories.
const (
	CategorySubscriber  DataCategory = "subscriber"  // account holder and billing details
	CategoryAccessLogs  DataCategory = "access_logs" // sign-in times, IP addresses
	CategoryMetadata    DataCategory = "metadata"    // ticket and message metadata without bodies
	CategoryContent     DataCategory = "content"     // ticket, message and chat bodies
	CategoryAttachments DataCategory = "attachments" // files customers or end users uploaded
)

var knownCategories = []DataCategory{CategorySubscriber, CategoryAccessLogs, CategoryMetadata, CategoryContent, CategoryAttachments}

// IsContent reports whether the category is communications content, which
// transparency reports count apart from non-content data.
func (c DataCategory) IsContent() bool { return c == CategoryContent || c == CategoryAttachments }

// DeliveryMeans is how disclosed data reached the requesting authority.
type DeliveryMeans string

// Means of delivery.
const (
	DeliverySecurePortal   DeliveryMeans = "secure_portal"
	DeliveryEncryptedEmail DeliveryMeans = "encrypted_email"
	DeliveryEncryptedMedia DeliveryMeans = "encrypted_media"
	DeliveryInPerson       DeliveryMeans = "in_person"
)

var knownMeans = []DeliveryMeans{DeliverySecurePortal, DeliveryEncryptedEmail, DeliveryEncryptedMedia, DeliveryInPerson}

// Disclosure is what was finally handed over. It records categories and a
// number of accounts, never the accounts themselves.
type Disclosure struct {
	Categories []DataCategory
	Accounts   int
	Date       time.Time
	Means      DeliveryMeans
}

// terminal reports whether o is how a request can end without a
// disclosure: any end but [policy.OutcomeDisclosed], which only
// [RecordDisclosure] records. The spellings are reporting's
// TerminalOutcome enum names in the stream (TERMINAL_OUTCOME_NO_DATA_FOUND
// is "no_data_found").
func terminal(o policy.Outcome) bool { return o.Valid() && o != policy.OutcomeDisclosed }

// DispositionState is what the record says about a request when a
// disposition is proposed, folded by the application from the events.
type DispositionState struct {
	ReceivedAt time.Time
	// Clocks are the request's legal clocks (issue 18, clocks.go).
	Clocks *Clocks
	// Cleared is true once notification emitted RequestCleared: every step the
	// policy requires before a disclosure (customer notice, DPA consultation,
	// waiver efforts) is done.
	Cleared   bool
	ClearedAt time.Time
	// ApprovedAccounts is the number of accounts in the scope the assessment
	// decided to disclose: for an un-narrowed decision exactly what was
	// requested. 0 means no scope is recorded, and nothing may be disclosed
	// (never "unlimited").
	ApprovedAccounts int
	// Disposed is true when a disposition is already recorded.
	Disposed bool
	// Decision is the effective decision; the record may show only an
	// outcome it allows ([OutcomeTable]).
	Decision policy.DecisionKind
	// ApprovedCategories are the data categories the decision approved;
	// nil: none recorded, so no disclosure.
	ApprovedCategories []DataCategory
	// Redirected: the authority agreed to go to the customer (4.1.1).
	// Withdrawn: the authority withdrew the request.
	Redirected, Withdrawn bool
	// StepsStopped: notification stopped every pending step (the request
	// was withdrawn, or its case reopened) and no clearance followed.
	// ClearanceVoid: the case was reopened after it was cleared, and no
	// clearance of the new decision followed.
	StepsStopped, ClearanceVoid bool
	// Country is the authority's country; AdequateWhenCleared is the
	// adequacy finding the clearance rested on; Registry, when set, judges
	// adequacy again at the disclosure date (4.2.1).
	Country             string
	AdequateWhenCleared bool
	Registry            *policy.AdequacyRegistry
}

// Allowed is one row of [OutcomeTable]: what the record may show after a
// decision of kind Decision.
type Allowed struct {
	Decision  policy.DecisionKind
	Disclosed bool // a disclosure within the approved scope
	Terminals []policy.Outcome
}

// OutcomeTable is the table of the outcomes each decision allows. A
// redirect whose authority declines goes back to review: it has no
// terminal of its own. Every decision allows "withdrawn" (the authority may
// always withdraw); no decision yet allows only that.
func OutcomeTable() []Allowed {
	return []Allowed{
		{DecisionNone, false, []policy.Outcome{policy.OutcomeWithdrawn}},
		{policy.DecisionDisclose, true, []policy.Outcome{policy.OutcomeNoDataFound, policy.OutcomeWithdrawn}},
		{policy.DecisionRedirectToCustomer, false, []policy.Outcome{policy.OutcomeRedirected, policy.OutcomeWithdrawn}},
		{policy.DecisionChallenge, false, []policy.Outcome{policy.OutcomeChallenged, policy.OutcomeWithdrawn}},
		{policy.DecisionReject, false, []policy.Outcome{policy.OutcomeRejected, policy.OutcomeWithdrawn}},
		{policy.DecisionRequestMoreInformation, false, []policy.Outcome{policy.OutcomeWithdrawn}},
	}
}

func allowed(k policy.DecisionKind) Allowed {
	for _, a := range OutcomeTable() {
		if a.Decision == k {
			return a
		}
	}
	return Allowed{Decision: k}
}

// Rule codes of the record's agreement with the decision.
const (
	RuleOutcomeNotAllowed  = "OUTCOME_NOT_ALLOWED_BY_DECISION"
	RuleScopeNotRecorded   = "APPROVED_SCOPE_NOT_RECORDED"
	RuleExceedsScope       = "DISCLOSURE_EXCEEDS_DECIDED_SCOPE"
	RuleAdequacyLost       = "ADEQUACY_LOST_BEFORE_DISCLOSURE"
	RuleOutcomeWithoutFact = "OUTCOME_WITHOUT_ITS_FACT"
	// Issue 16: what the lifecycle refuses.
	RuleRequestWithdrawn = "REQUEST_WITHDRAWN"
	RuleClearanceVoid    = "CLEARANCE_VOID_CASE_REOPENED"
	RuleStepsStopped     = "STEPS_STOPPED"
)

// Disposition is how a request finally ended: either a Disclosure, or a
// Terminal outcome with the time it was recorded.
type Disposition struct {
	Disclosure *Disclosure
	Terminal   policy.Outcome
	At         time.Time
}

// RecordDisclosure accepts d as the final disclosure of a request in state s.
// A disclosure is accepted only after the request was cleared, and not dated
// before that, so the record can never show data leaving before the customer
// and the authorities were dealt with.
func RecordDisclosure(s DispositionState, d Disclosure) (Disposition, error) {
	if s.Disposed {
		return Disposition{}, fmt.Errorf("%w: the request already has a disposition", ddrerr.ErrFailedPrecondition)
	}
	var c ddrerr.Collector
	if len(d.Categories) == 0 {
		c.Add("disclosure.categories", "at least one data category is required")
	}
	for i, cat := range d.Categories {
		if !slices.Contains(knownCategories, cat) {
			c.Add(fmt.Sprintf("disclosure.categories[%d]", i), "is not a known data category")
		} else if slices.Index(d.Categories, cat) != i {
			c.Add(fmt.Sprintf("disclosure.categories[%d]", i), "is listed twice")
		}
	}
	if d.Accounts < 1 {
		c.Add("disclosure.accounts", `must be at least 1 (record "no data found" when nothing was disclosed)`)
	}
	if d.Date.IsZero() {
		c.Add("disclosure.date", "is required")
	} else if !s.ReceivedAt.IsZero() && d.Date.Before(s.ReceivedAt) {
		c.Add("disclosure.date", "must not be before the request was received")
	}
	if !slices.Contains(knownMeans, d.Means) {
		c.Add("disclosure.means", "is not a known means of delivery")
	}
	if err := c.Err(); err != nil {
		return Disposition{}, err
	}
	if err := lifecycleRefusal(s); err != nil {
		return Disposition{}, err
	}
	if !s.Cleared {
		return Disposition{}, ddrerr.Policy(policy.Clause2_2, "DISCLOSURE_BEFORE_CLEARED",
			"a disclosure can be recorded only after the request was cleared (customer and data protection authority steps done)")
	}
	if d.Date.Before(s.ClearedAt) {
		return Disposition{}, ddrerr.Policy(policy.Clause2_2, "DISCLOSED_BEFORE_CLEARED",
			"the disclosure date is before the request was cleared")
	}
	if !allowed(s.Decision).Disclosed {
		return Disposition{}, ddrerr.Policy(policy.Clause2_1, RuleOutcomeNotAllowed,
			"the effective decision does not allow a disclosure")
	}
	if s.ApprovedAccounts < 1 || len(s.ApprovedCategories) == 0 {
		return Disposition{}, ddrerr.Policy(policy.Clause2_1, RuleScopeNotRecorded,
			"the decision's approved scope (accounts and data categories) is not recorded: nothing can be disclosed against it")
	}
	if d.Accounts > s.ApprovedAccounts {
		return Disposition{}, ddrerr.Policy(policy.Clause2_1, RuleExceedsScope,
			fmt.Sprintf("%d accounts disclosed but the decision covered %d", d.Accounts, s.ApprovedAccounts))
	}
	for _, c := range d.Categories {
		if !slices.Contains(s.ApprovedCategories, c) {
			return Disposition{}, ddrerr.Policy(policy.Clause2_1, RuleExceedsScope,
				"the category "+string(c)+" was disclosed but the decision did not approve it")
		}
	}
	if s.Registry != nil && s.AdequateWhenCleared && !s.Registry.JudgeAuthority(s.Country, d.Date).Adequate {
		return Disposition{}, ddrerr.Policy(policy.Clause4_2_1, RuleAdequacyLost,
			"the authority's country was no longer adequate on the disclosure date: the request must be held and the DPAs consulted")
	}
	if err := CheckTransmission(s.Clocks, d.Date); err != nil { // issue 18: Art. 8 of Regulation 2023/1543
		return Disposition{}, err
	}
	d.Categories = slices.Clone(d.Categories)
	return Disposition{Disclosure: &d, At: d.Date}, nil
}

// RecordTerminal accepts o as how a request in state s ended without a
// disclosure. It needs no clearing, but it must agree with the decision
// ([OutcomeTable]) and with the facts: "redirected" only once the authority
// agreed, "withdrawn" only once it withdrew.
func RecordTerminal(s DispositionState, o policy.Outcome, at time.Time) (Disposition, error) {
	if s.Disposed {
		return Disposition{}, fmt.Errorf("%w: the request already has a disposition", ddrerr.ErrFailedPrecondition)
	}
	var c ddrerr.Collector
	if !terminal(o) {
		c.Add("outcome", "is not a known terminal outcome")
	}
	if at.IsZero() {
		c.Add("at", "is required")
	} else if !s.ReceivedAt.IsZero() && at.Before(s.ReceivedAt) {
		c.Add("at", "must not be before the request was received")
	}
	if err := c.Err(); err != nil {
		return Disposition{}, err
	}
	if !slices.Contains(allowed(s.Decision).Terminals, o) {
		return Disposition{}, ddrerr.Policy(policy.Clause2_1, RuleOutcomeNotAllowed,
			"the effective decision does not allow the outcome "+string(o))
	}
	if (o == policy.OutcomeRedirected && !s.Redirected) || (o == policy.OutcomeWithdrawn && !s.Withdrawn) {
		return Disposition{}, ddrerr.Policy(policy.Clause2_1, RuleOutcomeWithoutFact,
			"the record does not show the fact behind "+string(o)+" (the authority's agreement or withdrawal)")
	}
	return Disposition{Terminal: o, At: at}, nil
}

// ReportOutcome is how the disposition counts in a transparency report. A
// disclosure counts as content when any category is content.
func (d Disposition) ReportOutcome() Outcome {
	if d.Disclosure != nil {
		if slices.ContainsFunc(d.Disclosure.Categories, DataCategory.IsContent) {
			return OutcomeContentDisclosed
		}
		return OutcomeNonContentOnly
	}
	switch d.Terminal {
	case policy.OutcomeRejected:
		return OutcomeRejected
	case policy.OutcomeChallenged:
		return OutcomeChallenged
	case policy.OutcomeRedirected:
		return OutcomeRedirected
	case policy.OutcomeWithdrawn:
		return OutcomeWithdrawn
	case policy.OutcomeNoDataFound:
		return OutcomeNoDataDisclosed
	}
	return OutcomePending
}

// OutcomeOf is the report outcome of a request with disposition d, or
// [OutcomePending] when it has none yet.
func OutcomeOf(d *Disposition) Outcome {
	if d == nil {
		return OutcomePending
	}
	return d.ReportOutcome()
}
