package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
)

// Keyring seals target identifiers with the request's data key (see
// platform/keys): the record keeps them only sealed, so that erasing the
// key at the end of retention erases them.
type Keyring interface {
	Seal(ctx context.Context, requestID, label string, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, requestID, label string, sealed []byte) ([]byte, error)
	Erase(ctx context.Context, requestID string) error
	Erased(ctx context.Context, requestID string) (bool, error)
}

// sealTargets replaces each target's value with its sealed form.
func (in *Intake) sealTargets(ctx context.Context, requestID string, targets []*intakev1.Target) error {
	for _, t := range targets {
		sealed, err := in.cfg.Keys.Seal(ctx, requestID, keys.TargetLabel(t.GetRef()), []byte(t.GetValue()))
		if err != nil {
			return fmt.Errorf("seal targets: %w", err)
		}
		t.SealedValue, t.Value = sealed, ""
	}
	return nil
}

// Reveal returns r with its target values opened, for its own group
// member. Erased targets come back without a value and marked erased.
func (in *Intake) Reveal(ctx context.Context, r *intakev1.Request) (*intakev1.Request, error) {
	for _, t := range r.GetContent().GetTargets() {
		if len(t.GetSealedValue()) == 0 {
			continue
		}
		pt, err := in.cfg.Keys.Open(ctx, r.GetRequestId(), keys.TargetLabel(t.GetRef()), t.GetSealedValue())
		switch {
		case errors.Is(err, keys.ErrErased):
			t.Erased = true
		case err != nil:
			return nil, err
		default:
			t.Value = string(pt)
		}
		t.SealedValue = nil
	}
	return r, nil
}

// EraseResult is the answer to an erasure.
type EraseResult struct {
	EraseTime time.Time
	ErasedNow bool
}

// EraseTargets destroys the request's data key and records that it did.
// The key goes first: a record claiming an erasure that did not happen
// would be worse than an erasure recorded on the retry.
func (in *Intake) EraseTargets(ctx context.Context, actor, requestID, reason string) (EraseResult, error) {
	now := in.cfg.Now().UTC()
	h, err := in.store.Load(ctx, requestID)
	if err != nil {
		return EraseResult{}, err
	}
	if len(h.Events) == 0 {
		return EraseResult{}, fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, requestID)
	}
	if err := in.cfg.Keys.Erase(ctx, requestID); err != nil {
		return EraseResult{}, err
	}
	res := EraseResult{EraseTime: now, ErasedNow: true}
	_, err = in.store.Update(ctx, requestID, func(h eventstore.History) ([]eventstore.Event, error) {
		for _, ev := range h.Events {
			if p, ok := ev.Payload.(*intakev1.TargetsErased); ok {
				res = EraseResult{EraseTime: p.GetEraseTime().AsTime(), ErasedNow: false}
				return nil, nil
			}
		}
		return []eventstore.Event{{
			ID: eventstore.DerivedID(requestID, "intake.targets_erased"), RequestID: requestID,
			Time: now, Actor: actor,
			Payload: &intakev1.TargetsErased{RequestId: requestID, Reason: reason, EraseTime: ts(now)},
		}}, nil
	})
	if err != nil {
		return EraseResult{}, err
	}
	in.cfg.Logger.InfoContext(ctx, "targets erased", "request_id", requestID, "erased_now", res.ErasedNow)
	return res, nil
}
