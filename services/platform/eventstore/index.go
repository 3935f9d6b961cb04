package eventstore

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// A request's history used to be read with a direct get over
// ddr.req.<id>.> from sequence 1. The server finds the first event through
// its subject index, but then searches every message between one event of
// the request and the next, block by block: it skips blocks only for
// literal subjects or small subject spaces, and the DDR stream has one
// subject per request and event kind. A load therefore cost in proportion
// to the stretch of the stream the request lived through (bench/DECAY.md).
//
// The index removes that: it knows the stream sequence of every event of
// every request, so a load fetches exactly those messages by sequence
// (each a lookup in one block), and searches with the wildcard only the
// stream's tail the index has not seen yet. It holds sequences only, no
// payloads: nothing personal is kept, sealed values are opened on each
// read as before, and erasing a request's key takes effect at once.
//
// It is kept current by an ordered consumer of headers only over the whole
// stream, started with the store (if the stream exists; else by the first
// read). The index is never trusted for
// completeness beyond what it has applied: a load reads the indexed
// sequences (all of the request's events up to the applied sequence,
// because the ordered consumer delivers every event in order) and then the
// tail after it with the old search, so a lagging index costs time, never
// events. Until it has caught up with a long stream (at start-up), loads
// are as slow as before.

// DefaultIndexLimit bounds the memory of one store's index (see
// [WithIndex]).
const DefaultIndexLimit = 256 << 20

// indexEntryOverhead estimates what a request costs the index besides its
// sequences: the map slot, the key (a request id) and the entry.
const indexEntryOverhead = 112

// errIndexMiss: an indexed sequence was not there (a replica that lags
// the leader answered); the caller reads the old way.
var errIndexMiss = errors.New("eventstore: indexed event not found")

// WithIndex gives the store a sequence index of every request (see
// index.go), so that loading a request costs the same however long the
// stream is. limit bounds the index's memory in bytes (0:
// [DefaultIndexLimit]); an index that outgrows it is dropped with an error
// in the log, and the store reads without it, as slowly as before but
// correctly.
func WithIndex(limit int) Option {
	if limit <= 0 {
		limit = DefaultIndexLimit
	}
	return func(s *Store) { s.index = &seqIndex{limit: limit} }
}

type seqIndex struct {
	limit int
	// msgs keeps the messages recently read through the index; nil when
	// off ([WithMessageCache]).
	msgs *msgCache

	once sync.Once
	cc   jetstream.ConsumeContext

	mu sync.RWMutex
	// reqs holds each request's sequences, delta- and varint-encoded.
	reqs map[string]*seqList
	// applied is the last stream sequence the index has seen.
	applied uint64
	// size estimates the memory held, against limit.
	size    int
	dropped bool
}

type seqList struct {
	last uint64
	enc  []byte
}

// start subscribes the index to the stream, once. A failure leaves the
// index empty, so reads go the old way.
func (x *seqIndex) start(js jetstream.JetStream, logger *slog.Logger) {
	x.once.Do(func() {
		x.mu.Lock()
		x.reqs = map[string]*seqList{}
		x.mu.Unlock()
		// Not the caller's context: the index outlives the load that
		// started it and stops with the connection.
		ctx, cancel := context.WithTimeout(context.Background(), defaultReadTimeout)
		defer cancel()
		cons, err := js.OrderedConsumer(ctx, StreamName, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{AllEvents},
			HeadersOnly:    true,
		})
		if err == nil {
			x.cc, err = cons.Consume(func(m jetstream.Msg) { x.apply(m, logger) })
		}
		if err != nil {
			logger.Warn("request index not started; history reads search the stream", "error", err)
			x.drop()
		}
	})
}

func (x *seqIndex) apply(m jetstream.Msg, logger *slog.Logger) {
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	seq := meta.Sequence.Stream
	id := requestOf(m.Subject())
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.dropped || seq <= x.applied {
		return
	}
	x.applied = seq
	if id == "" {
		return // not a request's subject: nothing to find it by
	}
	l := x.reqs[id]
	if l == nil {
		l = &seqList{}
		x.reqs[id] = l
		x.size += indexEntryOverhead + len(id)
	}
	before := cap(l.enc)
	l.enc = binary.AppendUvarint(l.enc, seq-l.last)
	l.last = seq
	x.size += cap(l.enc) - before
	if x.size > x.limit {
		logger.Error("request index outgrew its memory limit and was dropped; history reads search the stream", "limit_bytes", x.limit)
		x.dropLocked()
	}
}

func (x *seqIndex) drop() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dropLocked()
}

func (x *seqIndex) dropLocked() {
	x.dropped, x.reqs, x.size = true, nil, 0
	if x.cc != nil {
		x.cc.Stop()
	}
}

// lookup returns the request's sequences up to applied, the last
// sequence the index has seen; ok is false when there is no usable index.
func (x *seqIndex) lookup(requestID string) (seqs []uint64, applied uint64, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.dropped || x.applied == 0 {
		return nil, 0, false
	}
	if l := x.reqs[requestID]; l != nil {
		var seq uint64
		for b := l.enc; len(b) > 0; {
			d, n := binary.Uvarint(b)
			b = b[n:]
			seq += d
			seqs = append(seqs, seq)
		}
	}
	return seqs, x.applied, true
}

// requestOf returns the request id of an event subject, "" for another.
func requestOf(subject string) string {
	rest, ok := strings.CutPrefix(subject, SubjectPrefix+".")
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	return id
}

// IndexedThrough returns the last stream sequence the store's index has
// applied, and false when the store has no usable index (none configured,
// not started yet, or dropped).
func (s *Store) IndexedThrough() (uint64, bool) {
	if s.index == nil {
		return 0, false
	}
	s.index.mu.RLock()
	defer s.index.mu.RUnlock()
	return s.index.applied, !s.index.dropped && s.index.reqs != nil
}

// IndexSize returns how many requests the store's index holds and an
// estimate of its memory in bytes (0, 0 without a usable index).
func (s *Store) IndexSize() (requests, bytes int) {
	if s.index == nil {
		return 0, 0
	}
	s.index.mu.RLock()
	defer s.index.mu.RUnlock()
	return len(s.index.reqs), s.index.size
}

// ScanRequest calls fn for every stored message of the request, in stream
// order, as stored (sealed, undecoded): what the request's record is read
// from. With an index it costs the same however long the stream is.
func (s *Store) ScanRequest(ctx context.Context, requestID string, fn func(RawMsg) error) error {
	if err := ValidateToken(requestID); err != nil {
		return fmt.Errorf("%w: RequestID: %w", ErrInvalidEvent, err)
	}
	in, done, err := s.replies.open()
	if err != nil {
		return err
	}
	defer done()
	return s.scanRequest(ctx, requestID, in, fn)
}

// scanRequestDirect reads the request's messages with direct gets only.
func (s *Store) scanRequestDirect(ctx context.Context, requestID string, in replies, fn func(RawMsg) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReadTimeout)
		defer cancel()
	}
	filter := RequestFilter(requestID)
	if s.index == nil {
		return scan(ctx, s.js, StreamName, filter, 1, in, fn)
	}
	s.index.start(s.js, s.logger)
	seqs, applied, ok := s.index.lookup(requestID)
	if !ok {
		return scan(ctx, s.js, StreamName, filter, 1, in, fn)
	}
	// Fetched whole before fn sees any, so that a miss can still fall
	// back to the search without fn seeing an event twice. Messages read
	// before come from the cache.
	msgs, missing := s.index.msgs.split(seqs)
	fetched, err := getSeqs(ctx, s.js, StreamName, in, missing)
	if errors.Is(err, errIndexMiss) {
		return scan(ctx, s.js, StreamName, filter, 1, in, fn)
	}
	if err != nil {
		return err
	}
	s.index.msgs.put(fetched)
	if len(msgs) > 0 && len(fetched) > 0 {
		msgs = append(msgs, fetched...)
		slices.SortFunc(msgs, func(a, b RawMsg) int { return cmp.Compare(a.Sequence, b.Sequence) })
	} else if len(fetched) > 0 {
		msgs = fetched
	}
	for _, m := range msgs {
		if err := fn(m); err != nil {
			return err
		}
	}
	return scan(ctx, s.js, StreamName, filter, applied+1, in, fn)
}

// getSeqs fetches the messages at seqs (ascending) with direct gets by
// sequence, up to a page of them in flight at once, and returns them in
// order.
func getSeqs(ctx context.Context, js jetstream.JetStream, stream string, in replies, seqs []uint64) ([]RawMsg, error) {
	out := make([]RawMsg, 0, len(seqs))
	for page := range slices.Chunk(seqs, batchSize) {
		if err := requestSeqs(js, stream, in, page); err != nil {
			return nil, err
		}
		// Every reply of the page is taken, even after a bad one: the
		// inbox is read again by the search that may follow.
		var bad error
		for range page {
			m, err := in.next(ctx)
			if err != nil {
				return nil, fmt.Errorf("eventstore: direct get by sequence: %w", err)
			}
			raw, err := directReply(m)
			if err != nil {
				bad = cmp.Or(bad, err)
				continue
			}
			out = append(out, raw)
		}
		if bad != nil {
			return nil, bad
		}
	}
	// Replies may come from different replicas, so in any order.
	slices.SortFunc(out, func(a, b RawMsg) int { return cmp.Compare(a.Sequence, b.Sequence) })
	return out, nil
}
