package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// The Privacy Team's side of intake (issue 16): the whole request for the
// reviewer (clause 3.3), the reveal of its targets, itself recorded, and a
// withdrawal the authority told the company of directly.

// Errors of the staff commands. Each matches ddrerr.ErrFailedPrecondition.
var (
	// ErrTargetsErased: the targets were erased at the end of retention;
	// no reveal can show them again.
	ErrTargetsErased = fmt.Errorf("%w: the request's targets were erased at the end of retention; their values are gone for good", ddrerr.ErrFailedPrecondition)
	// ErrNoTargets: the request names no targets (its scope is described
	// in words, which the review shows).
	ErrNoTargets = fmt.Errorf("%w: the request names no targets to reveal; its scope description is in the review", ddrerr.ErrFailedPrecondition)
)

// Review is the whole request as the Privacy Team reviews it: the demand
// as received, every amendment in order, the targets sealed (Targets
// carry ref and kind; values only through [Intake.RevealTargets]), the
// reveals and the withdrawal recorded so far.
type Review struct {
	Request
	TargetsErased bool
	Reveals       []Reveal
	// WithdrawTime is zero while the request is not withdrawn.
	WithdrawTime time.Time
	// WithdrawalRecordedBy is the staff member who recorded the
	// withdrawal; empty when the group member reported it.
	WithdrawalRecordedBy string
}

// Reveal is one recorded reveal of a request's targets.
type Reveal struct {
	By     string
	Roles  []string
	Reason string
	At     time.Time
}

// GetRequestForReview returns the whole request for staff, targets sealed.
// Staff are entitled to the content: it is read from the record, not from
// the members' index.
func (in *Intake) GetRequestForReview(ctx context.Context, requestID string) (Review, error) {
	v, err := in.view(ctx, requestID)
	if err != nil {
		return Review{}, err
	}
	if v.received == nil {
		return Review{}, fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, requestID)
	}
	return v.review(), nil
}

// review is the view as staff review it; its targets stay sealed: the
// values are cleared here, not only left sealed, so that no rendering can
// show them by mistake.
func (v *View) review() Review {
	r := Review{Request: v.Request(), TargetsErased: v.erased != nil}
	for i := range r.Targets {
		r.Targets[i].Value, r.Targets[i].Sealed = "", nil
		r.Targets[i].Erased = r.TargetsErased
	}
	for _, p := range v.reveals {
		r.Reveals = append(r.Reveals, Reveal{By: p.GetRevealedBy(), Roles: slices.Clone(p.GetRoles()), Reason: p.GetReason(), At: protoconv.Time(p.GetRevealTime())})
	}
	if w := v.withdrawn; w != nil {
		r.WithdrawTime, r.WithdrawalRecordedBy = protoconv.Time(w.GetWithdrawTime()), w.GetRecordedBy()
	}
	return r
}

// Revealed is the answer to a reveal: the targets with their values.
type Revealed struct {
	Targets    []Target
	RevealTime time.Time
}

// RevealTargets shows a request's target values to staff member actor
// (with roles), for reason. TargetsRevealed is appended first: no value
// leaves without the record of who saw it, when and why. A reveal that
// cannot show anything (erased, no targets) records nothing.
func (in *Intake) RevealTargets(ctx context.Context, actor string, roles []string, requestID, reason string) (Revealed, error) {
	if err := requiredReason(reason); err != nil {
		return Revealed{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Revealed{}, err
	}
	c := in.call(requestID, actor, in.cfg.Now())
	// Each reveal is its own fact: its event id derives from its own id.
	c.Trigger = requestID + "/reveal/" + id.String()
	res, err := command.Run(ctx, in.store, anyRequest, c, func(v *View, c command.Call) ([]proto.Message, error) {
		switch {
		case v.received == nil:
			return nil, fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, requestID)
		case v.erased != nil:
			return nil, ErrTargetsErased
		case len(v.received.GetRequest().GetTargets()) == 0:
			return nil, ErrNoTargets
		}
		return []proto.Message{&intakev1.TargetsRevealed{RequestId: requestID, RevealedBy: actor, Roles: slices.Clone(roles), Reason: reason, RevealTime: protoconv.Timestamp(c.Now)}}, nil
	})
	if err != nil {
		return Revealed{}, err
	}
	r, err := in.Reveal(ctx, res.State.Request())
	if err != nil {
		return Revealed{}, err
	}
	if erasedAll(r.Targets) {
		// Erased between the check and the opening: recorded, yet nothing
		// was shown.
		return Revealed{}, ErrTargetsErased
	}
	// Ids only: never the targets, nor the reason (it may name them).
	in.cfg.Logger.InfoContext(ctx, "targets revealed", "request_id", requestID, "revealed_by", actor, "targets", len(r.Targets))
	return Revealed{Targets: r.Targets, RevealTime: c.Now}, nil
}

func erasedAll(ts []Target) bool {
	for _, t := range ts {
		if !t.Erased {
			return false
		}
	}
	return len(ts) > 0
}

// RecordWithdrawal records, for staff member actor, that the authority
// told the company directly that it withdrew its demand: the member's
// Withdraw, with RecordedBy set. It returns the time and the stream
// sequence of its event.
func (in *Intake) RecordWithdrawal(ctx context.Context, actor, requestID, reason string) (time.Time, uint64, error) {
	if err := requiredReason(reason); err != nil {
		return time.Time{}, 0, err
	}
	c := in.call(requestID, actor, in.cfg.Now())
	res, err := command.Run(ctx, in.store, anyRequest, c, func(v *View, _ command.Call) ([]proto.Message, error) {
		if v.received == nil {
			return nil, fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, requestID)
		}
		if err := v.lifecycle.CanWithdraw(); err != nil {
			return nil, err
		}
		return []proto.Message{&intakev1.RequestWithdrawn{RequestId: requestID, Reason: reason, WithdrawTime: protoconv.Timestamp(c.Now), RecordedBy: actor}}, nil
	})
	if err != nil {
		return time.Time{}, 0, err
	}
	in.cfg.Logger.InfoContext(ctx, "withdrawal recorded by staff", "request_id", requestID, "recorded_by", actor)
	return c.Now, res.LastSeq, nil
}

// requiredReason refuses a blank reason: it is what the record keeps of
// why staff acted.
func requiredReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		var c ddrerr.Collector
		c.Add("reason", "required: the record keeps why")
		return c.Err()
	}
	return nil
}
