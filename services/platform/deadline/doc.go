// Package deadline is the one deadline engine of ddr: every clock a
// request runs on (the Privacy Team's review deadline, the authority's
// own deadline, the e-Evidence transmission and waiting periods, notice
// windows, hold ages, gag expiries, breach notifications) is a [Deadline]
// as data, with the law or policy it comes from ([Rule.Source]), how it
// was counted ([Counting], on a named [Calendar]) and when it is due.
//
// A request's deadlines fold from its events into a [Ledger]: [Set] starts
// or moves one, [MetEvent] and [CancelledEvent] end it, and
// [Ledger.Fire] returns the [OverdueEvent]s owed, one per deadline and
// due time, so the caller appends each under an id derived from (request,
// deadline, due): however many replicas run the sweep, and however often,
// an overdue deadline is recorded once. [Ledger.Permits] answers the
// "not before" clocks (a disclosure before an enforcing authority's ten
// days are over is refused).
//
// Calendars are data loaded at start ([LoadCalendars]; the embedded file
// is the default). An invalid file is an error naming every problem. A
// count that needs a year the calendar does not list is still counted
// (weekends known, holidays not) and marked [Due.Uncovered], for a person
// to check; it is never silently treated as complete.
//
// The package is pure: no gRPC, NATS or clock of its own; callers pass
// the time.
package deadline
