package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
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
// member. Erased targets come back without a value and marked erased. r's
// own targets are left as they were.
func (in *Intake) Reveal(ctx context.Context, r Request) (Request, error) {
	ts, err := in.OpenTargets(ctx, r.ID, r.Targets)
	if err != nil {
		return Request{}, err
	}
	r.Targets = ts
	return r, nil
}

// OpenTargets returns a copy of the request's targets ts with their values
// opened (see [Intake.Reveal]); ts is left as it was. Each call opens them
// anew with the keyring, so an erasure of the key shows at the next call.
func (in *Intake) OpenTargets(ctx context.Context, requestID string, ts []Target) ([]Target, error) {
	ts = slices.Clone(ts)
	for i := range ts {
		t, err := in.OpenTarget(ctx, requestID, ts[i])
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	return ts, nil
}

// OpenTarget is [Intake.OpenTargets] of one target: t with its value opened
// (or marked erased), as it is if nothing of it is sealed.
func (in *Intake) OpenTarget(ctx context.Context, requestID string, t Target) (Target, error) {
	if len(t.Sealed) == 0 {
		return t, nil
	}
	pt, err := in.cfg.Keys.Open(ctx, requestID, keys.TargetLabel(t.Ref), t.Sealed)
	switch {
	case errors.Is(err, keys.ErrErased):
		t.Erased = true
	case err != nil:
		return Target{}, err
	default:
		t.Value = string(pt)
	}
	t.Sealed = nil
	return t, nil
}

// EraseResult is the answer to an erasure.
type EraseResult struct {
	EraseTime time.Time
	ErasedNow bool
	// Sequence of the TargetsErased event appended now (0 when it was
	// recorded before), for the caller to wait until its view has
	// forgotten the erased values.
	Sequence uint64
}

// errRetentionNotStarted refuses the erasure of an open request's targets.
// Retention starts when the request ended: before, notification needs the
// customers (SUBJECT) to owe the 4.1.1 redirect ask and the 4.1.2 notice
// before any disclosure, and the review needs the targets. Erased early,
// notification would find no controller customer, skip both and could
// clear the disclosure: one legal person lifting two safeguards.
var errRetentionNotStarted = ddrerr.Policy(policy.Clause4_1_2, "RETENTION_NOT_STARTED",
	"the request has not ended: its targets are kept until it has, because the customer notices it owes and its review need them")

// EraseTargets destroys the request's data key and records that it did,
// once the request has ended (intake's view shows it closed). The key
// goes first: a record claiming an erasure that did not happen would be
// worse than an erasure recorded on the retry.
func (in *Intake) EraseTargets(ctx context.Context, actor, requestID, reason string) (EraseResult, error) {
	c := in.call(requestID, actor, in.cfg.Now())
	v, err := in.view(ctx, requestID)
	if err != nil {
		return EraseResult{}, err
	}
	if v.received == nil {
		return EraseResult{}, fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, requestID)
	}
	// Checked before the key goes, since nothing undoes its destruction.
	// An erasure already recorded is answered as done (the retry).
	if v.erased == nil && (v.lifecycle == nil || !v.lifecycle.Closed()) {
		return EraseResult{}, errRetentionNotStarted
	}
	if err := in.cfg.Keys.Erase(ctx, requestID); err != nil {
		return EraseResult{}, err
	}
	res, err := command.Run(ctx, in.store, anyRequest, c, func(v *View, c command.Call) ([]proto.Message, error) {
		if v.erased != nil {
			return nil, nil
		}
		return []proto.Message{&intakev1.TargetsErased{RequestId: requestID, Reason: reason, EraseTime: protoconv.Timestamp(c.Now)}}, nil
	})
	if err != nil {
		return EraseResult{}, err
	}
	out := EraseResult{EraseTime: c.Now, ErasedNow: true, Sequence: res.LastSeq}
	if len(res.Events) == 0 {
		out = EraseResult{EraseTime: res.State.erased.GetEraseTime().AsTime(), ErasedNow: false}
	}
	in.cfg.Logger.InfoContext(ctx, "targets erased", "request_id", requestID, "erased_now", out.ErasedNow)
	return out, nil
}
