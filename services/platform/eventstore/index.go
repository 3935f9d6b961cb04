package eventstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
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

// What the index costs, for its limit: every event 12 bytes (its sequence
// and a link), every request its id and about 40 bytes (its entry and its
// slot in the hash map).
const (
	indexEventBytes   = 12
	indexRequestBytes = 40
)

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
	return WithSharedIndex(NewIndex(limit))
}

// Index is a sequence index of every request of the stream (see
// [WithIndex]) that several stores of one process can share
// ([WithSharedIndex]).
type Index struct{ x *seqIndex }

// NewIndex returns an index whose memory is bounded by limit bytes (0:
// [DefaultIndexLimit]).
func NewIndex(limit int) *Index {
	if limit <= 0 {
		limit = DefaultIndexLimit
	}
	return &Index{x: &seqIndex{limit: limit, seed: maphash.MakeSeed()}}
}

// WithSharedIndex gives the store the index ix, which other stores of the
// process may share: one ordered consumer of the whole stream then keeps
// all of them current, where each store's own index had one of its own.
// In the all-in-one each of the four services has a store, and at start
// over a long record the four indexes decoded every event's headers four
// times and held four copies of the same sequences (issue 19, start-up).
//
// Sharing is sound across services: the index holds stream sequences and
// request ids only, nothing sealed or personal, and each store still reads
// the messages with its own connection (its own NATS permissions) and
// opens them with its own keys; its cache of messages read stays its own.
// The consumer runs on the connection of the first store that starts it.
func WithSharedIndex(ix *Index) Option {
	return func(s *Store) {
		if ix != nil {
			s.index = ix.x
		}
	}
}

// The index holds no pointer per request or per event: a map from a hash
// of the request id to the request's entry, and flat slices of entries,
// ids and events. A map of strings to small structs (as it was) gave the
// garbage collector three objects to mark per request, a million requests
// in a long record: every collection marked them all, beside the reads
// (BenchmarkDecay at 1,000,000 events: 14.8 M heap objects, two thirds
// the index's, and a full collection took 10-20 s on a loaded 2-core
// machine; 4.8 M and 0.25-2.6 s now; bench/DECAY.md). Slices and maps
// without pointers are not scanned at all. The estimate against the
// limit counts what is used; the slices' spare capacity may add up to as
// much again while they grow.
type seqIndex struct {
	limit int
	seed  maphash.Seed

	once sync.Once
	cc   jetstream.ConsumeContext

	mu sync.RWMutex
	// started: start has run (the index may have been dropped since).
	started bool
	// heads maps the hash of a request id to its entry's number plus
	// one; requests whose ids share a hash are chained by reqEntry.next.
	heads map[uint64]uint32
	reqs  []reqEntry
	// ids holds the requests' ids back to back (reqEntry.idOff, idLen).
	ids []byte
	// seqs and prevs are one per event: its stream sequence, and the
	// number plus one of the same request's previous event (0: none).
	seqs  []uint64
	prevs []uint32
	// applied is the last stream sequence the index has seen.
	applied uint64
	// size estimates the memory held, against limit.
	size    int
	dropped bool
}

type reqEntry struct {
	idOff, idLen uint32
	// next: the number plus one of the next entry with the same hash.
	next uint32
	// last: the number plus one of the request's last event; n: how
	// many events it has.
	last, n uint32
}

// start subscribes the index to the stream, once. A failure leaves the
// index empty, so reads go the old way.
func (x *seqIndex) start(js jetstream.JetStream, logger *slog.Logger) {
	x.once.Do(func() {
		x.mu.Lock()
		x.started, x.heads = true, map[uint64]uint32{}
		x.mu.Unlock()
		// Not the caller's context: the index outlives the load that
		// started it and stops with the connection.
		ctx, cancel := context.WithTimeout(context.Background(), defaultReadTimeout)
		defer cancel()
		cons, err := js.OrderedConsumer(ctx, StreamName, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{AllEvents},
			HeadersOnly:    true,
		})
		var cc jetstream.ConsumeContext
		if err == nil {
			cc, err = cons.Consume(func(m jetstream.Msg) { x.apply(m, logger) })
		}
		if err == nil {
			// Under the lock: the first messages may already be applied,
			// and one that outgrows the limit stops x.cc (dropLocked). A
			// drop before x.cc is set stops the consumer here.
			x.mu.Lock()
			x.cc = cc
			if x.dropped {
				cc.Stop()
			}
			x.mu.Unlock()
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
	if !x.addLocked(maphash.String(x.seed, id), id, seq) {
		logger.Error("request index outgrew its memory limit and was dropped; history reads search the stream", "limit_bytes", x.limit)
		x.dropLocked()
	}
}

// addLocked records that the request id, whose hash is h, has an event at
// seq; false when the index has outgrown its limit (or its 32-bit
// numbering, some four billion events).
func (x *seqIndex) addLocked(h uint64, id string, seq uint64) bool {
	if len(x.seqs) >= math.MaxUint32-1 || len(x.ids)+len(id) > math.MaxUint32 {
		return false
	}
	e := x.findLocked(h, id)
	if e == nil {
		x.reqs = append(x.reqs, reqEntry{idOff: uint32(len(x.ids)), idLen: uint32(len(id)), next: x.heads[h]}) //nolint:gosec // G115: bounded above.
		x.ids = append(x.ids, id...)
		x.heads[h] = uint32(len(x.reqs)) //nolint:gosec // G115: no more entries than events.
		e = &x.reqs[len(x.reqs)-1]
		x.size += indexRequestBytes + len(id)
	}
	x.seqs = append(x.seqs, seq)
	x.prevs = append(x.prevs, e.last)
	e.last = uint32(len(x.seqs)) //nolint:gosec // G115: bounded above.
	e.n++
	x.size += indexEventBytes
	return x.size <= x.limit
}

// findLocked returns the entry of the request id whose hash is h, or nil.
func (x *seqIndex) findLocked(h uint64, id string) *reqEntry {
	for n := x.heads[h]; n != 0; {
		e := &x.reqs[n-1]
		if string(x.ids[e.idOff:e.idOff+e.idLen]) == id {
			return e
		}
		n = e.next
	}
	return nil
}

func (x *seqIndex) drop() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dropLocked()
}

func (x *seqIndex) dropLocked() {
	x.dropped, x.heads, x.reqs, x.ids, x.seqs, x.prevs, x.size = true, nil, nil, nil, nil, nil, 0
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
	if e := x.findLocked(maphash.String(x.seed, requestID), requestID); e != nil {
		seqs = x.seqsLocked(e)
	}
	return seqs, x.applied, true
}

// seqsLocked returns the sequences of e's events, ascending: its chain of
// events walked back from the last.
func (x *seqIndex) seqsLocked(e *reqEntry) []uint64 {
	seqs := make([]uint64, e.n)
	for i, n := len(seqs)-1, e.last; i >= 0 && n != 0; i, n = i-1, x.prevs[n-1] {
		seqs[i] = x.seqs[n-1]
	}
	return seqs
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
	return s.index.applied, !s.index.dropped && s.index.started
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
	msgs, missing := s.msgs.split(seqs)
	fetched, err := getSeqs(ctx, s.js, StreamName, in, missing)
	if errors.Is(err, errIndexMiss) {
		return scan(ctx, s.js, StreamName, filter, 1, in, fn)
	}
	if err != nil {
		return err
	}
	s.msgs.put(fetched)
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
