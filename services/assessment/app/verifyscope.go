package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Issue 18 under issue 15's two-person rule: the verification scope in force
// is stored, not only flagged, so that a narrowing needs a second person
// and a restart with a narrower flag cannot weaken it. The rule itself is
// the domain's (domain/verifyscope.go); this file loads, decides and saves
// under the store's compare-and-set, so two people acting at once never
// both change the setting on stale views.

// ScopeStore keeps the stored verification scope (adapters: a NATS KV
// bucket, whose history is the audit trail).
type ScopeStore interface {
	// Load returns the stored state and its revision; revision 0 and no
	// error when nothing is stored yet.
	Load(ctx context.Context) (domain.ScopeState, uint64, error)
	// Save stores st if the stored revision is still rev (0: nothing
	// stored); otherwise an error matching ddrerr.ErrConflict.
	Save(ctx context.Context, st domain.ScopeState, rev uint64) error
	// History returns the stored states the store still holds, oldest
	// first.
	History(ctx context.Context) ([]domain.ScopeState, error)
}

// VerifyScopes is the stored verification scope.
type VerifyScopes struct {
	store ScopeStore
	now   func() time.Time
}

// NewVerifyScopes returns the setting kept in store; now is the clock.
func NewVerifyScopes(store ScopeStore, now func() time.Time) *VerifyScopes {
	if now == nil {
		now = time.Now
	}
	return &VerifyScopes{store: store, now: now}
}

// StartupOutcome is what the startup flag did to the stored setting.
type StartupOutcome struct {
	InForce domain.VerifyScope
	// Stored: nothing was stored, the flag is the initial value.
	Initial bool
	// Widened: the flag was wider than the stored scope and widened it.
	Widened bool
	// Kept: the flag was narrower than the stored scope, which stays.
	Kept bool
}

// Start reconciles the stored setting with the startup flag: the flag is
// only the initial value when nothing is stored; a wider flag widens (a
// change by operator); a narrower one leaves the stored scope in force.
func (v *VerifyScopes) Start(ctx context.Context, flag domain.VerifyScope, operator string) (StartupOutcome, error) {
	var out StartupOutcome
	err := v.update(ctx, func(st domain.ScopeState, rev uint64) (domain.ScopeState, bool, error) {
		now := v.now().UTC()
		if rev == 0 {
			out = StartupOutcome{InForce: flag, Initial: true}
			return domain.InitialScope(flag, operator, now), true, nil
		}
		next, changed, kept := st.AtStartup(flag, operator, now)
		out = StartupOutcome{InForce: next.InForce.Scope, Widened: changed, Kept: kept}
		return next, changed, nil
	})
	return out, err
}

// InForce is the scope in force now, read from the store.
func (v *VerifyScopes) InForce(ctx context.Context) (domain.VerifyScope, error) {
	st, rev, err := v.store.Load(ctx)
	if err != nil {
		return "", err
	}
	if rev == 0 {
		return "", fmt.Errorf("%w: no verification scope is stored yet", ddrerr.ErrUnavailable)
	}
	return st.InForce.Scope, nil
}

// Get returns the stored state and its history (oldest first).
func (v *VerifyScopes) Get(ctx context.Context) (domain.ScopeState, []domain.ScopeState, error) {
	st, rev, err := v.store.Load(ctx)
	if err != nil {
		return st, nil, err
	}
	if rev == 0 {
		return st, nil, fmt.Errorf("%w: no verification scope is stored yet", ddrerr.ErrUnavailable)
	}
	h, err := v.store.History(ctx)
	return st, h, err
}

// Propose changes the scope: a widening is in force at once, a narrowing
// waits for a second person (ConfirmVerificationScope).
func (v *VerifyScopes) Propose(ctx context.Context, by policy.Person, to domain.VerifyScope, reason string) (domain.ScopeState, bool, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return domain.ScopeState{}, false, err
	}
	var out domain.ScopeState
	var now bool
	err = v.update(ctx, func(st domain.ScopeState, rev uint64) (domain.ScopeState, bool, error) {
		if rev == 0 {
			return st, false, fmt.Errorf("%w: no verification scope is stored yet", ddrerr.ErrUnavailable)
		}
		next, inForce, err := st.ProposeScope(to, reason, id.String(), by, v.now().UTC())
		out, now = next, inForce
		return next, err == nil, err
	})
	return out, now, err
}

// Confirm puts the pending narrowing proposalID in force, confirmed by by.
func (v *VerifyScopes) Confirm(ctx context.Context, by policy.Person, proposalID string) (domain.ScopeState, error) {
	var out domain.ScopeState
	err := v.update(ctx, func(st domain.ScopeState, rev uint64) (domain.ScopeState, bool, error) {
		if rev == 0 {
			return st, false, fmt.Errorf("%w: no verification scope change %s is waiting for confirmation", ddrerr.ErrNotFound, proposalID)
		}
		next, err := st.ConfirmScope(proposalID, by, v.now().UTC())
		out = next
		return next, err == nil, err
	})
	return out, err
}

// update loads, decides and saves under compare-and-set, deciding again
// on a fresh view when someone else saved meanwhile.
func (v *VerifyScopes) update(ctx context.Context, decide func(domain.ScopeState, uint64) (domain.ScopeState, bool, error)) error {
	const attempts = 5
	for range attempts {
		st, rev, err := v.store.Load(ctx)
		if err != nil {
			return err
		}
		next, save, err := decide(st, rev)
		if err != nil || !save {
			return err
		}
		err = v.store.Save(ctx, next, rev)
		if !errors.Is(err, ddrerr.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("%w: the verification scope kept changing; try again", ddrerr.ErrConflict)
}

// scopeInForce is the scope a case opening now is checked under.
func (a *Assessment) scopeInForce(ctx context.Context) (domain.VerifyScope, error) {
	if a.cfg.Scopes == nil {
		if a.cfg.VerifyScope == "" {
			return VerifyEmergency, nil
		}
		return a.cfg.VerifyScope, nil
	}
	return a.cfg.Scopes.InForce(ctx)
}
