// Package app holds reporting's commands and queries. The record of a
// request (GetRecord, the verifications) is read straight from the stream,
// message by message, through [Stream], and each entry's digest is taken
// over the payload bytes as stored: the stream is the record, so nothing is
// re-encoded on the way to the hash chain. Commands run through
// platform/command: their state is a fold over the request's history
// ([recordState]), the same fold the report's read model keeps.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
	"github.com/ddrsuite/ddr/services/platform/viewcache"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// Service is the event-source name of reporting's events.
const Service = "reporting"

// Stream reads the stored messages of the record, in stream order; its
// implementation (reporting/adapters) talks to JetStream.
type Stream interface {
	// ScanRequest calls fn for every stored message of one request.
	ScanRequest(ctx context.Context, requestID string, fn func(eventstore.RawMsg) error) error
	// ScanAll calls fn for every stored message of the stream.
	ScanAll(ctx context.Context, fn func(eventstore.RawMsg) error) error
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
	// Registry judges the authority's adequacy again at a disclosure's date
	// (4.2.1): the process's registry (--adequacy-file). Nil: not judged
	// again, only the clearance and AdequacyLost count.
	Registry *policy.AdequacyRegistry
}

// Reporting runs reporting's commands and queries.
type Reporting struct {
	cfg    Config
	stream Stream
	store  command.Store
	// records keeps the records GetRecord read (platform/viewcache).
	records *viewcache.Cache[*Record]
}

// New returns a Reporting reading the record through stream and running
// commands on store.
func New(cfg Config, stream Stream, store command.Store) (*Reporting, error) {
	if err := cfg.Report.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ScanTimeout <= 0 {
		cfg.ScanTimeout = 10 * time.Minute
	}
	return &Reporting{cfg: cfg, stream: stream, store: store, records: viewcache.For[*Record](store, 0)}, nil
}

// Record is a request's record as read from the stream.
type Record struct {
	RequestID string
	Entries   []domain.Entry
	Hashes    []domain.Digest
	Seals     []domain.Seal
	Fold      domain.RequestFold
	// Timeline is the request's course beside the entries (timeline.go).
	Timeline domain.Timeline
	LastSeq  uint64
	// StatedHead is the head hash a copy of the record states (VerifyCopy
	// checks it against the copy's last entry); unused for a record read
	// from the stream, whose head is [Record.Head].
	StatedHead domain.Digest
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
	err := a.stream.ScanRequest(ctx, requestID, func(m eventstore.RawMsg) error {
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
		if needsPayload(name) || name == evSealed || inTimeline(name) {
			// A payload this binary cannot decode stays in the record (its
			// digest is there); it only cannot inform the fold.
			if ev, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, m.Sequence); err == nil {
				payload = ev.Payload
			}
		}
		if s, ok := payload.(*reportingv1.RecordSealed); ok {
			rec.Seals = append(rec.Seals, domain.Seal{
				Index: chain.Len() - 1, LastSeq: s.GetLastSequence(), EntryCount: int(s.GetEntryCount()), Head: DigestOf(s.GetHeadHash()),
			})
		}
		apply(&rec.Fold, name, e.Time, payload)
		if f, ok := timelineFact(name, e.Seq, e.Time, e.Actor, payload); ok {
			rec.Timeline.Add(f)
		}
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

// Record is [Reporting.LoadRecord] for the staff's GetRecord: the record
// read by an earlier call is served again while the request has no new
// event (platform/viewcache). It is shared between calls: read it, never
// change it. A verification reads the stream itself (LoadRecord).
func (a *Reporting) Record(ctx context.Context, requestID string) (*Record, error) {
	if err := eventstore.ValidateToken(requestID); err != nil {
		return nil, ddrerr.Invalid(ddrerr.FieldViolation{Field: "request_id", Description: err.Error()})
	}
	return a.records.Get(ctx, requestID, func(ctx context.Context) (*Record, uint64, error) {
		rec, err := a.LoadRecord(ctx, requestID)
		if err != nil {
			return nil, 0, err
		}
		return rec, rec.LastSeq, nil
	})
}

// DigestOf reads a digest from its wire bytes (short input is zero-padded,
// and then fails verification rather than panicking).
func DigestOf(b []byte) domain.Digest {
	var d domain.Digest
	copy(d[:], b)
	return d
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
func (a *Reporting) VerifyCopy(ctx context.Context, requestID string, cp *Record) (Verification, error) {
	if cp.RequestID != requestID {
		return Verification{}, ddrerr.Invalid(ddrerr.FieldViolation{Field: "copy.request_id", Description: "must be the request_id verified"})
	}
	entries, hashes := cp.Entries, cp.Hashes
	v := Verification{EntriesChecked: len(entries)}
	if err := domain.Verify(entries, hashes); err != nil {
		v.Break = asBreak(err)
		return v, nil
	}
	if n := len(hashes); n > 0 && cp.StatedHead != hashes[n-1] {
		v.Break = &domain.ChainBreakError{Index: n - 1, Seq: entries[n-1].Seq, Expected: hashes[n-1], Found: cp.StatedHead, Reason: "head hash is not the last entry's hash"}
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
func (a *Reporting) Seal(ctx context.Context, requestID, trigger string) (sealed bool, err error) {
	c := command.Call{RequestID: requestID, Now: a.cfg.Now().UTC(), Trigger: trigger}
	res, err := command.Run(ctx, a.store, records, c, func(s *recordState, c command.Call) ([]eventstore.Event, error) {
		if !s.fold.Terminal() || s.lastSealed {
			return nil, nil
		}
		return []eventstore.Event{{
			ID: eventstore.DerivedID(requestID, "reporting.sealed", fmt.Sprint(s.lastSeq)),
			Payload: &reportingv1.RecordSealed{
				RequestId: requestID, HeadHash: s.head[:], EntryCount: int32(s.entries), LastSequence: s.lastSeq, SealTime: protoconv.Timestamp(c.Now),
			},
		}}, nil
	})
	return len(res.Events) > 0, err
}
