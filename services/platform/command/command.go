// Package command is the one way a service changes a request: load the
// request's events, fold them into the service's state, decide the domain
// events, encode them as stream events, and append them with the optimistic
// concurrency check of [eventstore.Store.Update], which reloads and decides
// again on a conflict. It returns the state after the appended events.
//
// A service describes its state once, in a [Spec], and each command is a
// [Decide] function on that state:
//
//	var plans = command.Spec[*Request, domain.Event]{
//		Fold:   Fold,                                     // history -> state
//		Exists: func(r *Request, _ command.Call) bool { return r.Plan.Derived() },
//		Encode: func(r *Request, c command.Call, evs []domain.Event) ([]eventstore.Event, error) {
//			return encoder{requestID: c.RequestID, trigger: c.Trigger, actor: c.Actor, at: c.Now, p: r.Plan}.encode(evs)
//		},
//	}
//
//	res, err := command.Run(ctx, store, plans, command.NewCall(requestID, actor, now),
//		func(r *Request, c command.Call) ([]domain.Event, error) { return r.Plan.LiftHold(c.Actor, c.Now) })
//	// res.State is the request after the hold was lifted; res.Events what was appended.
//
// How the four services fit: intake's owned() is Exists (the caller must be
// the request's group member: Call.Actor); assessment's run is Fold + Exists
// (case opened) + Apply (CaseState.Apply); notification's command is the
// example above; reporting's record loop becomes a Fold over the History
// (its projection already rebuilds entries from decoded events) instead of
// its own retry loop on Store.Append.
//
// Event ids must be deterministic per call, so that the retry after a
// conflict writes the same ids and the stream's dedupe recognises them:
// derive them from [Call.Trigger] ([Call.EventID]), which is fixed for the
// whole call (a fresh UUID for a user command, the triggering event's id
// for a reactor).
package command

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// Store is what a command needs of the event store; *eventstore.Store has
// it.
type Store interface {
	Update(ctx context.Context, requestID string, decide eventstore.Decide) ([]eventstore.Event, error)
}

// Call is one invocation of a command. It is fixed before the first attempt
// and the same for every retry.
type Call struct {
	RequestID string
	// Actor is who causes the events (also the subject of an ownership
	// check in Exists).
	Actor string
	// Now is the time of the call, the same for every attempt.
	Now time.Time
	// Trigger is what the event ids derive from: a fresh id per user
	// command, the triggering event's id for a reactor.
	Trigger string
}

// NewCall is a Call for a user command: a fresh trigger, now in UTC.
func NewCall(requestID, actor string, now time.Time) Call {
	return Call{RequestID: requestID, Actor: actor, Now: now.UTC(), Trigger: uuid.NewString()}
}

// EventID is a deterministic event id for this call: the same on every
// retry, different for every call.
func (c Call) EventID(parts ...string) string {
	return eventstore.DerivedID(append([]string{c.Trigger}, parts...)...)
}

// Spec describes a service's state S of one request and how its domain
// events E become stream events. Fold and Encode are required.
type Spec[S, E any] struct {
	// Fold builds the state from the request's history (Load's output;
	// forged events are already left out).
	Fold func(h eventstore.History) (S, error)
	// Exists is the not-found rule: false makes Run fail with
	// ddrerr.ErrNotFound (NOT_FOUND) before Decide runs. Nil: every request
	// exists, and Decide decides what a missing one means.
	Exists func(s S, c Call) bool
	// Encode maps the decided domain events onto the stream events to
	// append. Give them ids from [Call.EventID] (or leave ID empty for a
	// random one where a retry cannot double the fact). Service and Name
	// are taken from the payloads.
	Encode func(s S, c Call, evs []E) ([]eventstore.Event, error)
	// Apply folds one appended event into the state, to return the state
	// after the command. Nil: Run folds the whole history again, appended
	// events included.
	Apply func(s S, ev eventstore.Event) (S, error)
}

// Decide computes the domain events of a command from the current state. It
// may run several times (once per conflict), so it must depend only on s
// and c. Its error is returned unchanged by Run.
type Decide[S, E any] func(s S, c Call) ([]E, error)

// Result is the outcome of Run.
type Result[S any] struct {
	// State is the request's state after the appended events (before the
	// decision when nothing was appended).
	State S
	// Events are the appended events with their sequences; nil when the
	// decision was to append nothing.
	Events []eventstore.Event
	// LastSeq is the stream sequence of the last appended event, or of the
	// history the decision was made on when nothing was appended.
	LastSeq uint64
}

// Run executes one command: load, fold, check existence, decide, encode,
// append with the concurrency check, and on a conflict all of it again (up
// to the store's retry limit; then the error matches eventstore.ErrConflict
// and reaches a gRPC caller as ABORTED).
func Run[S, E any](ctx context.Context, store Store, spec Spec[S, E], c Call, decide Decide[S, E]) (Result[S], error) {
	var (
		res  Result[S]
		hist eventstore.History
	)
	appended, err := store.Update(ctx, c.RequestID, func(h eventstore.History) ([]eventstore.Event, error) {
		s, err := spec.Fold(h)
		if err != nil {
			return nil, err
		}
		if spec.Exists != nil && !spec.Exists(s, c) {
			return nil, fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, c.RequestID)
		}
		res.State, res.LastSeq, hist = s, h.LastSeq, h
		evs, err := decide(s, c)
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		return spec.Encode(s, c, evs)
	})
	if err != nil {
		return Result[S]{}, err
	}
	if len(appended) == 0 {
		return res, nil
	}
	res.Events = appended
	res.LastSeq = appended[len(appended)-1].Sequence
	if spec.Apply != nil {
		for _, ev := range appended {
			if res.State, err = spec.Apply(res.State, ev); err != nil {
				return Result[S]{}, err
			}
		}
		return res, nil
	}
	hist.Events = append(append([]eventstore.Event(nil), hist.Events...), appended...)
	hist.LastSeq = res.LastSeq
	if res.State, err = spec.Fold(hist); err != nil {
		return Result[S]{}, err
	}
	return res, nil
}
