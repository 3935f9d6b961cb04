package domain

import (
	"fmt"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Clocks are the legal clocks of a request as reporting reads them from
// assessment's deadline events (issue 18): only the waiting periods a
// disclosure must respect. Where the issuing authority of a European
// Production Order notified the enforcing authority (Regulation (EU)
// 2023/1543 Art. 8), the provider does not transmit before the end of the
// 10 days unless that authority confirmed earlier that it raises no ground
// for refusal (Art. 10(3)): a disclosure recorded as made earlier is
// refused here, where every disclosure is recorded.
type Clocks struct {
	ledger deadline.Ledger
}

// SetDeadlines folds in deadlines set or moved.
func (c *Clocks) SetDeadlines(ds []deadline.Deadline, at time.Time) {
	for _, d := range ds {
		c.ledger.Apply(deadline.Set{Deadline: d, At: at})
	}
}

// MeetDeadline folds in a deadline met (a waiting period ended early).
func (c *Clocks) MeetDeadline(id string, at time.Time) {
	c.ledger.Apply(deadline.MetEvent{ID: id, At: at})
}

// RuleTransmissionNotYetPermitted is the rule code of the refusal.
const RuleTransmissionNotYetPermitted = "TRANSMISSION_BEFORE_PERMITTED"

// CheckTransmission refuses a disclosure at at while a waiting period of
// the request's clocks has not ended: the refusal names the article and
// when transmission becomes permitted. A request without waiting periods
// (nil clocks, or none set) is not held by this check.
func CheckTransmission(c *Clocks, at time.Time) error {
	if c == nil {
		return nil
	}
	for _, v := range c.ledger.All() {
		if v.ID != deadline.EPOCEnforcingWaitID || v.Kind != deadline.NotBefore {
			continue
		}
		if ok, _ := c.ledger.Permits(v.ID, at); ok {
			continue
		}
		return ddrerr.Policy(policy.Clause2_1, RuleTransmissionNotYetPermitted, fmt.Sprintf(
			"Art. 8 of Regulation 2023/1543: the enforcing authority was notified, so the data may not be transmitted before %s (the end of the 10 days, Art. 10(3)) unless the enforcing authority confirms earlier that it raises no ground for refusal (record its confirmation first)",
			v.Due.At.UTC().Format(time.RFC3339)))
	}
	return nil
}

// SetDeadlines folds deadlines set or moved into the request's clocks.
func (f *RequestFold) SetDeadlines(ds []deadline.Deadline, at time.Time) {
	f.clocks.SetDeadlines(ds, at)
}

// MeetDeadline folds a deadline met into the request's clocks.
func (f *RequestFold) MeetDeadline(id string, at time.Time) { f.clocks.MeetDeadline(id, at) }
