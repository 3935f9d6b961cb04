// Package app holds intake's commands and queries: it checks a demand
// against the domain rules, deduplicates it on the group member's
// idempotency key and writes it to the record, answering only once JetStream
// has stored it.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Service is the event-source name of intake's events.
const Service = "intake"

// IdempotencyBucket is the KV bucket that maps (group member, idempotency
// key) to a request id for as long as the bucket lives: a retry days later
// still finds its request, unlike the stream's 2-minute dedupe window.
const IdempotencyBucket = "ddr_intake_idempotency"

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
}

// Store is the part of the event store intake uses.
type Store interface {
	Load(ctx context.Context, requestID string) (eventstore.History, error)
	Append(ctx context.Context, requestID string, expectedLastSeq uint64, evs ...eventstore.Event) (uint64, error)
	Update(ctx context.Context, requestID string, decide eventstore.Decide) ([]eventstore.Event, error)
}

// Intake runs intake's commands and queries.
type Intake struct {
	cfg   Config
	store Store
	idem  jetstream.KeyValue
	late  metric.Int64Counter
}

// New returns an Intake. idem is the idempotency bucket, see [EnsureBucket].
func New(cfg Config, store Store, idem jetstream.KeyValue) (*Intake, error) {
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
	late, err := otel.Meter("github.com/ddrsuite/ddr/services/intake").Int64Counter(
		"ddr.intake.late_forwarded",
		metric.WithDescription("Requests forwarded to the Privacy Team later than the threshold after receipt (clause 3.1)"),
	)
	if err != nil {
		return nil, err
	}
	return &Intake{cfg: cfg, store: store, idem: idem, late: late}, nil
}

// EnsureBucket creates or opens the idempotency bucket.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	kv, err := eventstore.EnsureKeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      IdempotencyBucket,
		Description: "intake idempotency keys: hash(group member, key) -> request id",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("idempotency bucket: %w", err)
	}
	return kv, nil
}

// idemRecord is what the idempotency bucket holds per key. No personal data:
// ids, a digest and a time.
type idemRecord struct {
	RequestID   string    `json:"request_id"`
	Fingerprint string    `json:"fingerprint"`
	SubmitTime  time.Time `json:"submit_time"`
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

// Submit validates a demand and records it, once per idempotency key. It
// returns only after the RequestReceived event is stored.
func (in *Intake) Submit(ctx context.Context, groupMember, idempotencyKey string, req *intakev1.DataDisclosureRequest) (SubmitResult, error) {
	now := in.cfg.Now().UTC()
	d := ToDomain(groupMember, idempotencyKey, req)
	if err := d.Validate(now, in.cfg.Limits); err != nil {
		return SubmitResult{}, err
	}
	fp := d.Fingerprint()
	key := domain.IdempotencyKVKey(groupMember, idempotencyKey)

	// A first submission is the common case, so Create comes first: one
	// write, no read. A retry finds the key taken and reads what the first
	// attempt stored; two retries racing on one key end on the same record.
	id, err := uuid.NewV7()
	if err != nil {
		return SubmitResult{}, err
	}
	rec := idemRecord{RequestID: id.String(), Fingerprint: fp, SubmitTime: now}
	b, _ := json.Marshal(rec)
	if _, err := in.idem.Create(ctx, key, b); err == nil {
		return in.record(ctx, rec, idempotencyKey, groupMember, req, d, false)
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return SubmitResult{}, fmt.Errorf("idempotency key: %w", err)
	}
	// The key is written before the event, so a key may name a request that
	// was never recorded: the attempt failed or crashed between the two.
	// What the key belongs to is decided by the event, written at most once
	// per request id (expected last sequence 0): the key only fixes the
	// request id and remembers the latest attempt's fingerprint.
	for range maxKeyTakeovers {
		entry, err := in.idem.Get(ctx, key)
		if err != nil {
			return SubmitResult{}, fmt.Errorf("idempotency key: %w", err)
		}
		var prev idemRecord
		if err := json.Unmarshal(entry.Value(), &prev); err != nil {
			return SubmitResult{}, fmt.Errorf("idempotency record: %w", err)
		}
		if prev.Fingerprint == fp {
			// The same submission again: write the event if the first
			// attempt stopped before it, else answer with what it stored.
			return in.record(ctx, prev, idempotencyKey, groupMember, req, d, true)
		}
		h, err := in.store.Load(ctx, prev.RequestID)
		if err != nil {
			return SubmitResult{}, err
		}
		if len(h.Events) > 0 {
			// Recorded: the key is taken, by this content or another.
			return recorded(h, fp, idempotencyKey)
		}
		// Nothing was ever recorded under the key, so no submission with it
		// was ever acknowledged (Submit answers only after the event is
		// stored): this one may take it. The compare-and-set keeps two
		// takers apart; both keep the key's request id, so if an earlier
		// attempt is still in flight, its append and this one race on
		// expected sequence 0 and exactly one content is recorded.
		taken := idemRecord{RequestID: prev.RequestID, Fingerprint: fp, SubmitTime: now}
		b, _ := json.Marshal(taken)
		if _, err := in.idem.Update(ctx, key, b, entry.Revision()); err == nil {
			return in.record(ctx, taken, idempotencyKey, groupMember, req, d, false)
		} else if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
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
func recorded(h eventstore.History, fp, idempotencyKey string) (SubmitResult, error) {
	first := h.Events[0]
	rr, ok := first.Payload.(*intakev1.RequestReceived)
	if !ok {
		return SubmitResult{}, fmt.Errorf("request %s starts with %s, not RequestReceived", first.RequestID, first.Type)
	}
	if rr.GetContentFingerprint() != fp {
		return SubmitResult{}, fmt.Errorf("%w: idempotency key %q was used for a different request", ddrerr.ErrAlreadyExists, idempotencyKey)
	}
	return SubmitResult{
		RequestID:      rr.GetRequestId(),
		SubmitTime:     rr.GetSubmitTime().AsTime(),
		Replayed:       true,
		LateForwarding: rr.GetLateForwarding(),
		Sequence:       first.Sequence,
	}, nil
}

// record appends RequestReceived unless the request already has it.
func (in *Intake) record(ctx context.Context, rec idemRecord, idempotencyKey, groupMember string, req *intakev1.DataDisclosureRequest, d domain.Request, replayed bool) (SubmitResult, error) {
	delay := domain.ForwardingDelay(d.ReceivedAt, rec.SubmitTime)
	late := domain.IsLate(delay, in.cfg.LateThreshold)
	res := SubmitResult{RequestID: rec.RequestID, SubmitTime: rec.SubmitTime, Replayed: replayed, LateForwarding: late}

	content := proto.CloneOf(req)
	for i, t := range content.GetTargets() {
		t.Ref = "t" + strconv.Itoa(i+1)
	}
	if err := in.sealTargets(ctx, rec.RequestID, content.GetTargets()); err != nil {
		return SubmitResult{}, err
	}
	ev := eventstore.Event{
		ID:        eventstore.DerivedID(rec.RequestID, "intake.received"),
		RequestID: rec.RequestID,
		Time:      rec.SubmitTime,
		Actor:     groupMember,
		Payload: &intakev1.RequestReceived{
			RequestId:          rec.RequestID,
			GroupMember:        groupMember,
			Request:            content,
			SubmitTime:         ts(rec.SubmitTime),
			ForwardingDelay:    durationpb.New(delay),
			LateForwarding:     late,
			ContentFingerprint: rec.Fingerprint,
		},
	}
	seq, err := in.store.Append(ctx, rec.RequestID, 0, ev)
	if errors.Is(err, eventstore.ErrConflict) {
		// Already recorded, by an earlier attempt with this content or by
		// a concurrent one with another.
		h, lerr := in.store.Load(ctx, rec.RequestID)
		if lerr != nil {
			return SubmitResult{}, lerr
		}
		if len(h.Events) == 0 {
			return SubmitResult{}, err
		}
		return recorded(h, rec.Fingerprint, idempotencyKey)
	}
	if err != nil {
		return SubmitResult{}, err
	}
	res.Sequence = seq
	if late && !replayed {
		in.late.Add(ctx, 1)
	}
	// Ids, flags and the channel only: never whom the request is about.
	// The call's context learns the id only now (Submit creates it).
	in.cfg.Logger.InfoContext(telemetry.ContextWithRequestID(ctx, rec.RequestID), "request received", "request_id", rec.RequestID,
		"channel", d.Channel, "late_forwarding", late, "forwarding_delay", delay.Round(time.Second).String(), "replayed", replayed)
	return res, nil
}

// Get returns a request of groupMember. Another member's request is
// reported as not found: its existence is not the caller's business.
func (in *Intake) Get(ctx context.Context, groupMember, requestID string) (*View, error) {
	h, err := in.store.Load(ctx, requestID)
	if err != nil {
		return nil, err
	}
	return owned(h, groupMember, requestID)
}

// Amend adds information or attachments to a request. It returns the
// amendment and the stream sequence of its event.
func (in *Intake) Amend(ctx context.Context, groupMember, requestID, information string, attachments []*intakev1.Attachment) (*intakev1.Amendment, uint64, error) {
	now := in.cfg.Now().UTC()
	a := domain.Amendment{At: now, Information: information, Attachments: attachmentsToDomain(attachments)}
	if err := a.Validate(in.cfg.Limits); err != nil {
		return nil, 0, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, 0, err
	}
	out := &intakev1.Amendment{AmendmentId: id.String(), Information: information, Attachments: attachments, AmendTime: ts(now)}
	evs, err := in.store.Update(ctx, requestID, func(h eventstore.History) ([]eventstore.Event, error) {
		v, err := owned(h, groupMember, requestID)
		if err != nil {
			return nil, err
		}
		if err := v.lifecycle.CanAmendWithin(in.cfg.Limits); err != nil {
			return nil, err
		}
		return []eventstore.Event{{
			ID: eventstore.DerivedID(requestID, "intake.amended", out.AmendmentId), RequestID: requestID,
			Time: now, Actor: groupMember,
			Payload: &intakev1.RequestAmended{RequestId: requestID, AmendmentId: out.AmendmentId, Information: information, Attachments: attachments, AmendTime: out.AmendTime},
		}}, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, lastSequence(evs), nil
}

// Withdraw records that the authority withdrew its demand. It returns the
// time and the stream sequence of its event.
func (in *Intake) Withdraw(ctx context.Context, groupMember, requestID, reason string) (time.Time, uint64, error) {
	now := in.cfg.Now().UTC()
	evs, err := in.store.Update(ctx, requestID, func(h eventstore.History) ([]eventstore.Event, error) {
		v, err := owned(h, groupMember, requestID)
		if err != nil {
			return nil, err
		}
		if err := v.lifecycle.CanWithdraw(); err != nil {
			return nil, err
		}
		return []eventstore.Event{{
			ID: eventstore.DerivedID(requestID, "intake.withdrawn"), RequestID: requestID,
			Time: now, Actor: groupMember,
			Payload: &intakev1.RequestWithdrawn{RequestId: requestID, Reason: reason, WithdrawTime: ts(now)},
		}}, nil
	})
	return now, lastSequence(evs), err
}

// lastSequence is the stream sequence of the last appended event, 0 when
// nothing was appended.
func lastSequence(evs []eventstore.Event) uint64 {
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Sequence
}

// owned folds a request's view and hides it from anyone but its group
// member: another member's request is reported as not found.
func owned(h eventstore.History, groupMember, requestID string) (*View, error) {
	v := &View{}
	for _, ev := range h.Events {
		_ = v.Apply(ev) // a refused stage change leaves the view as it was
	}
	if v.lifecycle == nil || v.GroupMember() != groupMember {
		return nil, fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, requestID)
	}
	return v, nil
}
