// Package app holds reporting's commands and queries. The record of a
// request is read straight from the stream, message by message, and each
// entry's digest is taken over the payload bytes as stored: the stream is
// the record, so nothing is re-encoded on the way to the hash chain.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// Service is the event-source name of reporting's events.
const Service = "reporting"

// Store is the part of the event store reporting writes through.
type Store interface {
	Append(ctx context.Context, requestID string, expectedLastSeq uint64, evs ...eventstore.Event) (uint64, error)
}

// Config tunes reporting.
type Config struct {
	// Report is the national security banding and delay.
	Report domain.Config
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ScanTimeout bounds a scan of the whole record (report verification).
	// Default 10 minutes.
	ScanTimeout time.Duration
}

// Reporting runs reporting's commands and queries.
type Reporting struct {
	cfg   Config
	js    jetstream.JetStream
	store Store
}

// New returns a Reporting reading the stream through js and appending
// through store.
func New(cfg Config, js jetstream.JetStream, store Store) (*Reporting, error) {
	if err := cfg.Report.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ScanTimeout <= 0 {
		cfg.ScanTimeout = 10 * time.Minute
	}
	return &Reporting{cfg: cfg, js: js, store: store}, nil
}

// maxAppendAttempts bounds the reload-decide-append loop on conflicts.
const maxAppendAttempts = 10

// Record is a request's record as read from the stream.
type Record struct {
	RequestID string
	Entries   []domain.Entry
	Hashes    []domain.Digest
	Seals     []domain.Seal
	Fold      domain.RequestFold
	LastSeq   uint64
}

// Head is the chain head over every entry.
func (r *Record) Head() domain.Digest {
	if len(r.Hashes) == 0 {
		return domain.Digest{}
	}
	return r.Hashes[len(r.Hashes)-1]
}

// entryOf makes a record entry from a stored message: who and when from
// the envelope, and the digest of the payload bytes exactly as stored.
func entryOf(m eventstore.RawMsg) (domain.Entry, error) {
	t, err := time.Parse(time.RFC3339Nano, m.Header.Get(eventstore.HeaderTime))
	if err != nil {
		return domain.Entry{}, fmt.Errorf("record entry seq %d: %s: %w", m.Sequence, eventstore.HeaderTime, err)
	}
	return domain.Entry{
		Seq:           m.Sequence,
		Subject:       m.Subject,
		Type:          m.Header.Get(eventstore.HeaderType),
		EventID:       m.Header.Get(eventstore.HeaderID),
		Actor:         m.Header.Get(eventstore.HeaderActor),
		Time:          t,
		PayloadDigest: domain.PayloadDigest(m.Data),
	}, nil
}

// LoadRecord reads every event of the request from the stream, in order,
// and builds its hash chain. A request without events is ErrNotFound.
func (a *Reporting) LoadRecord(ctx context.Context, requestID string) (*Record, error) {
	if err := eventstore.ValidateToken(requestID); err != nil {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "request_id", Description: err.Error()})
	}
	rec := &Record{RequestID: requestID}
	var chain domain.Chain
	err := eventstore.Scan(ctx, a.js, eventstore.StreamName, eventstore.RequestFilter(requestID), func(m eventstore.RawMsg) error {
		e, err := entryOf(m)
		if err != nil {
			return err
		}
		if _, err := chain.Append(e); err != nil {
			return fmt.Errorf("record entry seq %d: %w", m.Sequence, err)
		}
		_, svc, name, err := eventstore.ParseSubject(m.Subject)
		if err != nil {
			return err
		}
		name = svc + "." + name
		var payload proto.Message
		if needsPayload(name) || name == evSealed {
			// A payload this binary cannot decode stays in the record (its
			// digest is there); it only cannot inform the fold.
			if ev, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, m.Sequence); err == nil {
				payload = ev.Payload
			}
		}
		if s, ok := payload.(*reportingv1.RecordSealed); ok {
			rec.Seals = append(rec.Seals, domain.Seal{
				Index: chain.Len() - 1, LastSeq: s.GetLastSequence(), EntryCount: int(s.GetEntryCount()), Head: digestOf(s.GetHeadHash()),
			})
		}
		apply(&rec.Fold, name, e.Time, payload)
		rec.LastSeq = m.Sequence
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the record of request %s: %w", requestID, err)
	}
	if chain.Len() == 0 {
		return nil, fmt.Errorf("%w: request %s", ddrerr.ErrNotFound, requestID)
	}
	rec.Entries, rec.Hashes = chain.Entries(), chain.Hashes()
	return rec, nil
}

func digestOf(b []byte) domain.Digest {
	var d domain.Digest
	copy(d[:], b)
	return d
}

// RecordProto renders a record. It carries digests, never payloads.
func RecordProto(r *Record) *reportingv1.Record {
	out := &reportingv1.Record{RequestId: r.RequestID, Closed: r.Fold.Terminal()}
	for i, e := range r.Entries {
		out.Entries = append(out.Entries, &reportingv1.RecordEntry{
			Sequence: e.Seq, Subject: e.Subject, EventType: e.Type, EventId: e.EventID, Actor: e.Actor,
			EventTime: timestamppb.New(e.Time), PayloadDigest: e.PayloadDigest[:], EntryHash: r.Hashes[i][:],
		})
	}
	h := r.Head()
	out.HeadHash = h[:]
	return out
}

// Verification is the result of checking a record.
type Verification struct {
	EntriesChecked int
	SealsChecked   int
	// Break is nil when the record is intact.
	Break *domain.ChainBreakError
}

// VerifyRecord recomputes the request's chain from the stream and checks
// every seal written into it.
func (a *Reporting) VerifyRecord(ctx context.Context, requestID string) (Verification, error) {
	rec, err := a.LoadRecord(ctx, requestID)
	if err != nil {
		return Verification{}, err
	}
	v := Verification{EntriesChecked: len(rec.Entries), SealsChecked: len(rec.Seals)}
	if err := domain.VerifySeals(rec.Entries, rec.Seals); err != nil {
		v.Break = asBreak(err)
	}
	return v, nil
}

func asBreak(err error) *domain.ChainBreakError {
	var b *domain.ChainBreakError
	if errors.As(err, &b) {
		return b
	}
	return &domain.ChainBreakError{Reason: err.Error()}
}

// VerifyCopy checks a stored copy of a record: first its own chain (every
// entry against its stored hash), then entry by entry against the record
// in the stream, so a copy whose hashes were recomputed after a change is
// caught too. A copy may be a prefix of the record: the record grows.
func (a *Reporting) VerifyCopy(ctx context.Context, requestID string, cp *reportingv1.Record) (Verification, error) {
	if cp.GetRequestId() != requestID {
		return Verification{}, ddrerr.Invalid(ddrerr.FieldViolation{Field: "copy.request_id", Description: "must be the request_id verified"})
	}
	entries := make([]domain.Entry, len(cp.GetEntries()))
	hashes := make([]domain.Digest, len(cp.GetEntries()))
	for i, e := range cp.GetEntries() {
		entries[i] = domain.Entry{
			Seq: e.GetSequence(), Subject: e.GetSubject(), Type: e.GetEventType(), EventID: e.GetEventId(),
			Actor: e.GetActor(), Time: e.GetEventTime().AsTime(), PayloadDigest: digestOf(e.GetPayloadDigest()),
		}
		hashes[i] = digestOf(e.GetEntryHash())
	}
	v := Verification{EntriesChecked: len(entries)}
	if err := domain.Verify(entries, hashes); err != nil {
		v.Break = asBreak(err)
		return v, nil
	}
	if n := len(hashes); n > 0 && digestOf(cp.GetHeadHash()) != hashes[n-1] {
		v.Break = &domain.ChainBreakError{Index: n - 1, Seq: entries[n-1].Seq, Expected: hashes[n-1], Found: digestOf(cp.GetHeadHash()), Reason: "head hash is not the last entry's hash"}
		return v, nil
	}
	rec, err := a.LoadRecord(ctx, requestID)
	if err != nil {
		return Verification{}, err
	}
	v.SealsChecked = len(rec.Seals)
	for i := range entries {
		if i >= len(rec.Entries) {
			v.Break = &domain.ChainBreakError{Index: i, Seq: entries[i].Seq, Found: hashes[i], Reason: "entry is not in the record in the stream"}
			return v, nil
		}
		if hashes[i] != rec.Hashes[i] {
			v.Break = &domain.ChainBreakError{Index: i, Seq: entries[i].Seq, Expected: rec.Hashes[i], Found: hashes[i], Reason: "entry differs from the record in the stream"}
			return v, nil
		}
	}
	if err := domain.VerifySeals(rec.Entries, rec.Seals); err != nil {
		v.Break = asBreak(err)
	}
	return v, nil
}

// Seal writes the chain head into the record once the request reached a
// terminal point, unless the last entry already is a seal. The event id
// derives from the request and the last sequence covered, so a retried or
// redelivered trigger appends nothing twice.
func (a *Reporting) Seal(ctx context.Context, requestID string) (sealed bool, err error) {
	for range maxAppendAttempts {
		rec, err := a.LoadRecord(ctx, requestID)
		if err != nil {
			return false, err
		}
		last := rec.Entries[len(rec.Entries)-1]
		if !rec.Fold.Terminal() || last.Subject == eventstore.SubjectOf(requestID, (*reportingv1.RecordSealed)(nil)) {
			return false, nil
		}
		head := rec.Head()
		now := a.cfg.Now().UTC()
		ev := eventstore.Event{
			ID: eventstore.DerivedID(requestID, "reporting.sealed", fmt.Sprint(rec.LastSeq)), RequestID: requestID,
			Time: now,
			Payload: &reportingv1.RecordSealed{
				RequestId: requestID, HeadHash: head[:], EntryCount: int32(len(rec.Entries)), LastSequence: rec.LastSeq, SealTime: ts(now),
			},
		}
		_, err = a.store.Append(ctx, requestID, rec.LastSeq, ev)
		if errors.Is(err, eventstore.ErrConflict) {
			continue
		}
		return err == nil, err
	}
	return false, fmt.Errorf("%w: request %s kept changing while sealing", ddrerr.ErrConflict, requestID)
}

// update reloads the record, decides and appends with the optimistic
// check, retrying on conflict: eventstore.Update, but over the raw record,
// so an event of a kind this binary does not know never blocks a command.
func (a *Reporting) update(ctx context.Context, requestID string, decide func(*Record) ([]eventstore.Event, error)) error {
	for range maxAppendAttempts {
		rec, err := a.LoadRecord(ctx, requestID)
		if err != nil {
			return err
		}
		evs, err := decide(rec)
		if err != nil || len(evs) == 0 {
			return err
		}
		_, err = a.store.Append(ctx, requestID, rec.LastSeq, evs...)
		if !errors.Is(err, eventstore.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("%w: request %s kept changing; retry", ddrerr.ErrConflict, requestID)
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }
