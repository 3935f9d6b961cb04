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

// TerminalOutcome is how a request ended without a disclosure.
type TerminalOutcome uint8

// Terminal outcomes.
const (
	TerminalRejected TerminalOutcome = iota + 1
	TerminalChallenged
	TerminalRedirected
	TerminalWithdrawn
	TerminalNoDataFound
)

var terminalNames = map[TerminalOutcome]string{
	TerminalRejected:    "rejected",
	TerminalChallenged:  "challenged",
	TerminalRedirected:  "redirected",
	TerminalWithdrawn:   "withdrawn",
	TerminalNoDataFound: "no_data_found",
}

// String returns the stable name.
func (t TerminalOutcome) String() string {
	if n, ok := terminalNames[t]; ok {
		return n
	}
	return fmt.Sprintf("terminal(%d)", uint8(t))
}

// DispositionState is what the record says about a request when a
// disposition is proposed, folded by the application from the events.
type DispositionState struct {
	ReceivedAt time.Time
	// Cleared is true once notification emitted RequestCleared: every step the
	// policy requires before a disclosure (customer notice, DPA consultation,
	// waiver efforts) is done.
	Cleared   bool
	ClearedAt time.Time
	// ApprovedAccounts is the number of accounts in the scope the assessment
	// decided to disclose; 0 when the decision set no number.
	ApprovedAccounts int
	// Disposed is true when a disposition is already recorded.
	Disposed bool
}

// Disposition is how a request finally ended: either a Disclosure, or a
// Terminal outcome with the time it was recorded.
type Disposition struct {
	Disclosure *Disclosure
	Terminal   TerminalOutcome
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
	if !s.Cleared {
		return Disposition{}, ddrerr.Policy(policy.Clause2_2, "DISCLOSURE_BEFORE_CLEARED",
			"a disclosure can be recorded only after the request was cleared (customer and data protection authority steps done)")
	}
	if d.Date.Before(s.ClearedAt) {
		return Disposition{}, ddrerr.Policy(policy.Clause2_2, "DISCLOSED_BEFORE_CLEARED",
			"the disclosure date is before the request was cleared")
	}
	if s.ApprovedAccounts > 0 && d.Accounts > s.ApprovedAccounts {
		return Disposition{}, ddrerr.Policy(policy.Clause2_1, "DISCLOSURE_EXCEEDS_DECIDED_SCOPE",
			fmt.Sprintf("%d accounts disclosed but the decision covered %d", d.Accounts, s.ApprovedAccounts))
	}
	d.Categories = slices.Clone(d.Categories)
	return Disposition{Disclosure: &d, At: d.Date}, nil
}

// RecordTerminal accepts o as how a request in state s ended without a
// disclosure. It needs no clearing: a request may be rejected, challenged,
// redirected or withdrawn at any point.
func RecordTerminal(s DispositionState, o TerminalOutcome, at time.Time) (Disposition, error) {
	if s.Disposed {
		return Disposition{}, fmt.Errorf("%w: the request already has a disposition", ddrerr.ErrFailedPrecondition)
	}
	var c ddrerr.Collector
	if _, ok := terminalNames[o]; !ok {
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
	case TerminalRejected:
		return OutcomeRejected
	case TerminalChallenged:
		return OutcomeChallenged
	case TerminalRedirected:
		return OutcomeRedirected
	case TerminalWithdrawn:
		return OutcomeWithdrawn
	case TerminalNoDataFound:
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
