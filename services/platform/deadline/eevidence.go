package deadline

import (
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// The clocks of Regulation (EU) 2023/1543 (e-Evidence), applicable since
// 18 August 2026, as data. They bind the company as a service provider
// receiving a European Production Order Certificate (EPOC) or a European
// Preservation Order Certificate (EPOC-PR). Compliance with them is the
// "compelling legal obligation" of clause 2.1, and clause 1.2 makes the
// stricter of the law and the policy apply: where the law says "not
// before", the policy's own steps may wait longer, never shorter.
//
// Reading: days are counted as Regulation 1182/71 counts them (the day of
// receipt not counted, ending at midnight of the last day in the
// provider's zone, a last day that is not a working day moving the end to
// the next working day) on the calendar of the provider's establishment.
// Hours are elapsed hours.

// EPOC is what the clocks of one EPOC depend on.
type EPOC struct {
	Received time.Time
	// Emergency: the issuing authority declared an emergency case.
	Emergency bool
	// EnforcingNotified: the issuing authority notified the enforcing
	// authority of the provider's member state (Art. 8: traffic or content
	// data of a person not resident in the issuing state).
	EnforcingNotified bool
	// Calendar of the provider's establishment ("IE" by default).
	Calendar string
}

// IDs of the e-Evidence deadlines.
const (
	EPOCTransmitID      = "epoc/transmit"
	EPOCEnforcingWaitID = "epoc/enforcing-authority-wait"
	EPOCObjectionID     = "epoc/enforcing-authority-objection"
	EPOCConflictID      = "epoc/reasoned-objection"
	EPOCPRPreserveID    = "epoc-pr/preserve"
)

// Deadlines returns the clocks an EPOC starts, counted on cals.
func (e EPOC) Deadlines(cals Calendars) ([]Deadline, error) {
	cal := e.Calendar
	if cal == "" {
		cal = "IE"
	}
	days10 := Rule{Counting: CalendarDays, N: 10, Calendar: cal, EndOnWorkingDay: true}
	var specs []Deadline
	if e.Emergency {
		r := Rule{Counting: Hours, N: 8, Source: "Regulation (EU) 2023/1543 Art. 10(4): emergency, at the latest within 8 hours of receipt"}
		specs = append(specs, Deadline{ID: EPOCTransmitID, Kind: By, What: "transmit the data of the emergency EPOC", Rule: r})
		if e.EnforcingNotified {
			o := Rule{Counting: Hours, N: 96, Source: "Regulation (EU) 2023/1543 Art. 10(4): the enforcing authority may raise a ground for refusal within 96 hours"}
			specs = append(specs, Deadline{ID: EPOCObjectionID, Kind: By, What: "the enforcing authority's window to object ends; check for its objection", Rule: o})
		}
	} else {
		src := "Regulation (EU) 2023/1543 Art. 10(2): at the latest within 10 days of receipt"
		if e.EnforcingNotified {
			src = "Regulation (EU) 2023/1543 Art. 10(3): at the latest at the end of the 10 days"
			w := days10
			w.Source = "Regulation (EU) 2023/1543 Art. 10(3): not before the end of the 10 days, unless the enforcing authority confirms earlier that it raises no ground for refusal"
			specs = append(specs, Deadline{ID: EPOCEnforcingWaitID, Kind: NotBefore, What: "transmission waits for the enforcing authority", Rule: w})
		}
		t := days10
		t.Source = src
		specs = append(specs, Deadline{ID: EPOCTransmitID, Kind: By, What: "transmit the data of the EPOC", Rule: t})
	}
	c := days10
	c.Source = "Regulation (EU) 2023/1543 Art. 17(1): a reasoned objection for a conflict with a third country's law within 10 days of receipt"
	specs = append(specs, Deadline{ID: EPOCConflictID, Kind: By, What: "reasoned objection (conflicting third-country law), if any", Rule: c})
	return counted(specs, e.Received, cals)
}

// EPOCPR is what the clock of one preservation order depends on.
type EPOCPR struct {
	Received time.Time
	// Extended: the issuing authority extended preservation by 30 days.
	Extended bool
	Calendar string
}

// Deadlines returns the preservation period: 60 days, 90 when extended
// (Art. 11(1)). Preservation is a duty to keep the data until then, so
// it is a NotBefore clock for deleting the preserved data.
func (p EPOCPR) Deadlines(cals Calendars) ([]Deadline, error) {
	cal := p.Calendar
	if cal == "" {
		cal = "IE"
	}
	n, src := 60, "Regulation (EU) 2023/1543 Art. 11(1): preserve for 60 days"
	if p.Extended {
		n, src = 90, "Regulation (EU) 2023/1543 Art. 11(1): preserve for 60 days, extended by 30"
	}
	r := Rule{Counting: CalendarDays, N: n, Calendar: cal, Source: src}
	return counted([]Deadline{{ID: EPOCPRPreserveID, Kind: NotBefore, What: "the preserved data may not be released from preservation", Rule: r}}, p.Received, cals)
}

func counted(specs []Deadline, start time.Time, cals Calendars) ([]Deadline, error) {
	for i := range specs {
		d, err := specs[i].Rule.DueFrom(start, time.Time{}, cals)
		if err != nil {
			return nil, err
		}
		specs[i].Clause = policy.Clause2_1
		specs[i].Start = start.UTC()
		specs[i].Due = d
	}
	return specs, nil
}
