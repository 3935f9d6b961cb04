package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// The legal clocks of issue 18: commands on a case's deadlines, the
// overdue sweep and the queue's reading of the nearest deadline.

// checkCalendars loads the embedded calendars when none were given and
// refuses calendars without the ones the clocks count on, so the service
// does not start with them.
func checkCalendars(cfg *Config) error {
	if cfg.Calendars == nil {
		cals, err := deadline.DefaultCalendars()
		if err != nil {
			return err
		}
		cfg.Calendars = cals
	}
	for _, n := range []string{domain.PrivacyTeamCalendar, domain.ProviderCalendar} {
		if _, err := cfg.Calendars.Get(n); err != nil {
			return fmt.Errorf("%w: the calendars must include %q, which the review and e-Evidence deadlines are counted on", deadline.ErrInvalidCalendars, n)
		}
	}
	return nil
}

// Deadlines returns the case's deadlines.
func (a *Assessment) Deadlines(ctx context.Context, requestID string) ([]deadline.View, error) {
	st, err := a.Get(ctx, requestID)
	if err != nil {
		return nil, err
	}
	return st.Case.Deadlines(), nil
}

// ConfirmEnforcingAuthority records that the enforcing authority confirmed
// it raises no ground for refusal (Regulation 2023/1543 Art. 10(3)).
func (a *Assessment) ConfirmEnforcingAuthority(ctx context.Context, who policy.Person, requestID string) (*CaseState, error) {
	return a.run(ctx, who.ID, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		return st.Case.ConfirmEnforcingAuthority(c.Actor, c.Now)
	})
}

// ExtendPreservation extends a preservation order by 30 days, once.
func (a *Assessment) ExtendPreservation(ctx context.Context, actor, requestID string) (*CaseState, error) {
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		return st.Case.ExtendPreservation(c.Actor, c.Now, a.cfg.Calendars)
	})
}

// MarkDeadlineMet records that what a By deadline asked for was done.
func (a *Assessment) MarkDeadlineMet(ctx context.Context, actor, requestID, deadlineID string) (*CaseState, error) {
	return a.run(ctx, actor, requestID, func(st *CaseState, c command.Call) ([]domain.Event, error) {
		return st.Case.MarkDeadlineMet(deadlineID, c.Actor, c.Now)
	})
}

// Fired is a deadline recorded overdue by FireDeadlines.
type Fired struct {
	DeadlineID string
	Due        time.Time
}

// FireDeadlines records the case's By deadlines passed unmet, once per
// deadline and due time: the event ids derive from them, so replicas
// racing each other write each once.
func (a *Assessment) FireDeadlines(ctx context.Context, requestID string) ([]Fired, error) {
	var owed []domain.Event
	res, err := command.Run(ctx, a.store, requests, command.NewCall(requestID, "", a.cfg.Now()),
		func(st *CaseState, c command.Call) ([]domain.Event, error) {
			owed = st.Case.FireDeadlines(c.Now)
			return owed, nil
		})
	if err != nil || len(res.Events) == 0 {
		return nil, err
	}
	var out []Fired
	for _, e := range owed {
		if o, ok := e.(domain.DeadlineOverdue); ok {
			out = append(out, Fired{DeadlineID: o.ID, Due: o.Due})
		}
	}
	return out, nil
}

// Owed lists the cases with deadlines passed unmet and not yet recorded
// overdue at now.
func (q *Queue) Owed(now time.Time) []string {
	q.mu.RLock()
	defer q.mu.RUnlock()
	var out []string
	for id, st := range q.clocked {
		if len(st.Case.FireDeadlines(now)) > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// ClockStats is what the metrics show of the queue's legal clocks at now
// (every By deadline but the review's).
type ClockStats struct {
	// Overdue: open By deadlines past their due time.
	Overdue int
	// NearestDue: seconds from now to the nearest open By deadline's due
	// time (negative when it passed); HasNearest is false when none is open.
	NearestDue float64
	HasNearest bool
}

// ClockStats reads the queue's clocks at now.
func (q *Queue) ClockStats(now time.Time) ClockStats {
	q.mu.RLock()
	defer q.mu.RUnlock()
	var s ClockStats
	for _, st := range q.clocked {
		for _, v := range st.Case.Deadlines() {
			// The review deadline has its own metrics (cases_overdue).
			if domain.IsReviewDeadline(v.ID) || v.Kind != deadline.By || (v.Status != deadline.Pending && v.Status != deadline.Overdue) {
				continue
			}
			if !now.Before(v.Due.At) {
				s.Overdue++
			}
			d := v.Due.At.Sub(now).Seconds()
			if !s.HasNearest || d < s.NearestDue {
				s.NearestDue, s.HasNearest = d, true
			}
		}
	}
	return s
}
