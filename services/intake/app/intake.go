// Package app holds intake's commands and queries: it checks a demand
// against the domain rules, deduplicates it on the group member's
// idempotency key and writes it to the record, answering only once JetStream
// has stored it. Every command runs on platform/command.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Service is the event-source name of intake's events.
const Service = "intake"

// Config tunes intake.
type Config struct {
	// LateThreshold is the delay between receipt and submission above which
	// a request is flagged as late (clause 3.1). Default 24 hours.
	LateThreshold time.Duration
	Limits        domain.Limits
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger, default slog.Default.
	Logger *slog.Logger
	// Keys seals the target identifiers; required.
	Keys Keyring
	// Fingerprints keys the content and idempotency digests; required.
	Fingerprints Fingerprinter
}

// Intake runs intake's commands and queries.
type Intake struct {
	cfg   Config
	store command.Store
	idem  Idempotency
	late  metric.Int64Counter
}

// New returns an Intake.
func New(cfg Config, store command.Store, idem Idempotency) (*Intake, error) {
	if cfg.LateThreshold <= 0 {
		cfg.LateThreshold = domain.DefaultLateThreshold
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Keys == nil {
		return nil, errors.New("intake: a keyring is required: target identifiers are stored sealed")
	}
	if cfg.Fingerprints == nil {
		return nil, errors.New("intake: a fingerprinter is required: no plain digest of a request is stored")
	}
	late, err := otel.Meter("github.com/ddrsuite/ddr/services/intake").Int64Counter(
		"ddr.intake.late_forwarded",
		metric.WithDescription("Requests forwarded to the Privacy Team later than the threshold after receipt (clause 3.1)"),
	)
	if err != nil {
		return nil, err
	}
	return &Intake{cfg: cfg, store: store, idem: idem, late: late}, nil
}

// Submission is a demand that passed the domain rules, ready for
// [Intake.Submit]; only [CheckSubmission] makes one, so a demand is
// validated exactly once.
type Submission struct {
	d domain.Request
}

// CheckSubmission runs the domain rules on a demand (its group member and
// idempotency key included) at time now. The error, if any, is the domain's
// *ddrerr.ValidationError, with field paths relative to the demand.
func CheckSubmission(d domain.Request, now time.Time, limits domain.Limits) (Submission, error) {
	if err := d.Validate(now, limits); err != nil {
		return Submission{}, err
	}
	return Submission{d: d}, nil
}

// SubmitResult is the answer to a submission.
type SubmitResult struct {
	RequestID      string
	SubmitTime     time.Time
	Replayed       bool
	LateForwarding bool
	// Sequence of the RequestReceived event, for read-your-writes.
	Sequence uint64
}

// Submit records a checked demand, once per idempotency key. It returns
// only after the RequestReceived event is stored.
func (in *Intake) Submit(ctx context.Context, s Submission) (SubmitResult, error) {
	now := in.cfg.Now().UTC()
	fp := in.contentFingerprint(s.d.ContentDigest())
	kd := domain.IdempotencyDigest(s.d.GroupMember, s.d.IdempotencyKey)
	key := in.idempotencyKey(kd)
	if err := in.rekeyLegacy(ctx, kd, key); err != nil {
		return SubmitResult{}, err
	}

	// A first submission is the common case, so Create comes first: one
	// write, no read. A retry finds the key taken and reads what the first
	// attempt stored; two retries racing on one key end on the same record.
	id, err := uuid.NewV7()
	if err != nil {
		return SubmitResult{}, err
	}
	// The record's fingerprint is sealed with the new request's SUBJECT
	// key, made here. A retry whose key is taken leaves that key unused: a
	// small orphan in the key bucket, the price of keeping the first
	// submission at one write.
	sealed, err := in.sealFingerprint(ctx, id.String(), fp)
	if err != nil {
		return SubmitResult{}, err
	}
	rec := IdemRecord{RequestID: id.String(), Fingerprint: sealed, SubmitTime: now}
	if err := in.idem.Create(ctx, key, rec); err == nil {
		return in.record(ctx, rec, fp, s, false)
	} else if !errors.Is(err, ErrKeyTaken) {
		return SubmitResult{}, fmt.Errorf("idempotency key: %w", err)
	}
	// The key is written before the event, so a key may name a request that
	// was never recorded: the attempt failed or crashed between the two.
	// What the key belongs to is decided by the event, written at most once
	// per request id (expected last sequence 0): the key only fixes the
	// request id and remembers the latest attempt's fingerprint.
	for range maxKeyTakeovers {
		prev, rev, err := in.idem.Get(ctx, key)
		if err != nil {
			return SubmitResult{}, fmt.Errorf("idempotency key: %w", err)
		}
		same, err := in.recordHolds(ctx, prev, fp)
		if err != nil {
			return SubmitResult{}, fmt.Errorf("idempotency key: %w", err)
		}
		if same {
			// The same submission again: write the event if the first
			// attempt stopped before it, else answer with what it stored.
			return in.record(ctx, prev, fp, s, true)
		}
		v, err := in.view(ctx, prev.RequestID)
		if err != nil {
			return SubmitResult{}, err
		}
		if v.received != nil {
			// Recorded: the key is taken, by this content or another.
			return in.recorded(v, fp, s.d.IdempotencyKey)
		}
		// Nothing was ever recorded under the key, so no submission with it
		// was ever acknowledged (Submit answers only after the event is
		// stored): this one may take it. The compare-and-set keeps two
		// takers apart; both keep the key's request id, so if an earlier
		// attempt is still in flight, its append and this one race on
		// expected sequence 0 and exactly one content is recorded.
		sealed, err := in.sealFingerprint(ctx, prev.RequestID, fp)
		if err != nil {
			return SubmitResult{}, err
		}
		taken := IdemRecord{RequestID: prev.RequestID, Fingerprint: sealed, SubmitTime: now}
		if err := in.idem.Update(ctx, key, taken, rev); err == nil {
			return in.record(ctx, taken, fp, s, false)
		} else if !errors.Is(err, ErrKeyChanged) {
			return SubmitResult{}, fmt.Errorf("idempotency key: %w", err)
		}
	}
	return SubmitResult{}, fmt.Errorf("idempotency key: %d concurrent attempts with different content", maxKeyTakeovers)
}

// maxKeyTakeovers bounds how often Submit re-reads a key that concurrent
// attempts with different content keep changing.
const maxKeyTakeovers = 5

// recorded answers a submission whose request is already recorded: a replay
// when the stored content is the same, ALREADY_EXISTS when the key was used
// for different content.
func (in *Intake) recorded(v *View, fp, idempotencyKey string) (SubmitResult, error) {
	rr := v.received
	if !in.sameContent(rr.GetContentFingerprint(), fp) {
		return SubmitResult{}, fmt.Errorf("%w: idempotency key %q was used for a different request", ddrerr.ErrAlreadyExists, idempotencyKey)
	}
	return SubmitResult{
		RequestID:      rr.GetRequestId(),
		SubmitTime:     rr.GetSubmitTime().AsTime(),
		Replayed:       true,
		LateForwarding: rr.GetLateForwarding(),
		Sequence:       v.receivedSeq,
	}, nil
}

// record appends RequestReceived unless the request already has it; fp is
// the submission's content fingerprint (rec holds it sealed).
func (in *Intake) record(ctx context.Context, rec IdemRecord, fp string, s Submission, replayed bool) (SubmitResult, error) {
	delay := domain.ForwardingDelay(s.d.ReceivedAt, rec.SubmitTime)
	late := domain.IsLate(delay, in.cfg.LateThreshold)

	content := EncodeRequest(s.d)
	for i, t := range content.GetTargets() {
		t.Ref = "t" + strconv.Itoa(i+1)
	}
	if err := in.sealTargets(ctx, rec.RequestID, content.GetTargets()); err != nil {
		return SubmitResult{}, err
	}
	c := in.call(rec.RequestID, s.d.GroupMember, rec.SubmitTime)
	res, err := command.Run(ctx, in.store, anyRequest, c, func(v *View, _ command.Call) ([]proto.Message, error) {
		if v.received != nil {
			return nil, nil // recorded by an earlier attempt, or a concurrent one
		}
		return []proto.Message{&intakev1.RequestReceived{
			RequestId:          rec.RequestID,
			GroupMember:        s.d.GroupMember,
			Request:            content,
			SubmitTime:         protoconv.Timestamp(rec.SubmitTime),
			ForwardingDelay:    durationpb.New(delay),
			LateForwarding:     late,
			ContentFingerprint: fp,
		}}, nil
	})
	if err != nil {
		return SubmitResult{}, err
	}
	if len(res.Events) == 0 {
		// Already recorded, by an earlier attempt with this content or by
		// a concurrent one with another.
		return in.recorded(res.State, fp, s.d.IdempotencyKey)
	}
	if late && !replayed {
		in.late.Add(ctx, 1)
	}
	// Ids, flags and the channel only: never whom the request is about.
	// The call's context learns the id only now (Submit creates it).
	in.cfg.Logger.InfoContext(telemetry.ContextWithRequestID(ctx, rec.RequestID), "request received", "request_id", rec.RequestID,
		"channel", s.d.Channel, "late_forwarding", late, "forwarding_delay", delay.Round(time.Second).String(), "replayed", replayed)
	return SubmitResult{RequestID: rec.RequestID, SubmitTime: rec.SubmitTime, Replayed: replayed, LateForwarding: late, Sequence: res.LastSeq}, nil
}

// Get returns a request of groupMember. Another member's request is
// reported as not found: its existence is not the caller's business.
func (in *Intake) Get(ctx context.Context, groupMember, requestID string) (Request, error) {
	res, err := command.Run(ctx, in.store, membersRequest, in.call(requestID, groupMember, in.cfg.Now()), nothing)
	if err != nil {
		return Request{}, err
	}
	return res.State.Request(), nil
}

// Amended is an amendment as recorded.
type Amended struct {
	ID        string
	Amendment domain.Amendment
	// Sequence of the RequestAmended event, for read-your-writes.
	Sequence uint64
}

// Amend adds information or attachments to a request.
func (in *Intake) Amend(ctx context.Context, groupMember, requestID, information string, attachments []domain.Attachment) (Amended, error) {
	c := in.call(requestID, groupMember, in.cfg.Now())
	a := domain.Amendment{At: c.Now, Information: information, Attachments: attachments}
	if err := a.Validate(in.cfg.Limits); err != nil {
		return Amended{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Amended{}, err
	}
	res, err := command.Run(ctx, in.store, membersRequest, c, func(v *View, _ command.Call) ([]proto.Message, error) {
		if err := v.lifecycle.CanAmendWithin(in.cfg.Limits); err != nil {
			return nil, err
		}
		return []proto.Message{&intakev1.RequestAmended{RequestId: requestID, AmendmentId: id.String(), Information: information, Attachments: EncodeAttachments(attachments), AmendTime: protoconv.Timestamp(c.Now)}}, nil
	})
	if err != nil {
		return Amended{}, err
	}
	return Amended{ID: id.String(), Amendment: a, Sequence: res.LastSeq}, nil
}

// Withdraw records that the authority withdrew its demand. It returns the
// time and the stream sequence of its event.
func (in *Intake) Withdraw(ctx context.Context, groupMember, requestID, reason string) (time.Time, uint64, error) {
	c := in.call(requestID, groupMember, in.cfg.Now())
	res, err := command.Run(ctx, in.store, membersRequest, c, func(v *View, _ command.Call) ([]proto.Message, error) {
		if err := v.lifecycle.CanWithdraw(); err != nil {
			return nil, err
		}
		return []proto.Message{&intakev1.RequestWithdrawn{RequestId: requestID, Reason: reason, WithdrawTime: protoconv.Timestamp(c.Now)}}, nil
	})
	if err != nil {
		return time.Time{}, 0, err
	}
	return c.Now, res.LastSeq, nil
}

// view is a request's view, whoever asks: an unrecorded request comes back
// empty.
func (in *Intake) view(ctx context.Context, requestID string) (*View, error) {
	res, err := command.Run(ctx, in.store, anyRequest, in.call(requestID, "", in.cfg.Now()), nothing)
	return res.State, err
}

// nothing is the decision of a query: append nothing, return the state.
func nothing(*View, command.Call) ([]proto.Message, error) { return nil, nil }
