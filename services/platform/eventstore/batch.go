package eventstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// An append of several events is one atomic batch (nats-server 2.12+,
// stream setting AllowAtomicPublish): the events are sent back to back
// and only the last, the commit, is answered. The server checks the whole
// batch when the commit arrives (the first event's expected sequence, every
// event's Nats-Msg-Id) and stores all of it or none of it
// (server/stream.go, processJetStreamAtomicBatchMsg). On a replicated
// stream the batch is one Raft proposal of k entries. So k events cost one
// round trip instead of k, a crash can no longer leave half an append, and
// an append no longer meets the cluster's conflict of its own previous
// event still being applied (10164). Where the store batches: see
// atomicBatches.
//
// Where the batch cannot say what the one-by-one path says, the batch is
// refused as a whole and the same prepared events go one by one:
//   - an event already written (a retried append, or one an older binary
//     wrote halfway): the batch is refused with "contains duplicate
//     message id" (10201), while one by one each such event is
//     acknowledged as a duplicate and the rest are written;
//   - the stream does not allow atomic publish (10174), the server has
//     too many batches open (10210, 50 per stream by default: the first
//     message is dropped and the commit reports the batch incomplete),
//     the batch was lost on the way (10176 incomplete; no responders
//     while a leader is elected), or it is too large (10199).
//
// Nothing of a refused batch is stored, so sending it again one by one
// writes each event at most once.

// Headers of an atomic batch (ADR-50); the server keeps them on the
// stored messages, where readers ignore them.
const (
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
)

// maxAtomicBatch is the server's default limit of messages in one atomic
// batch; a longer append goes one by one.
const maxAtomicBatch = 1000

// JetStream error codes after which a batch is sent again one by one.
const (
	errCodeAtomicDisabled   jetstream.ErrorCode = 10174
	errCodeBatchIncomplete  jetstream.ErrorCode = 10176
	errCodeBatchTooLarge    jetstream.ErrorCode = 10199
	errCodeBatchDuplicate   jetstream.ErrorCode = 10201
	errCodeBatchTooManyOpen jetstream.ErrorCode = 10210
)

// Store.atomic: whether the stream takes atomic batches, unknown until
// asked.
const (
	atomicUnknown int32 = iota
	atomicOn
	atomicOff
)

// atomicBatches tells whether appends of several events go as one atomic
// batch, asking the server once. Not when the stream does not allow it (a
// stream created by an older version, or a server that does not know the
// setting and drops it from the configuration: such a server would store
// a batch's messages as plain publishes, the later ones without any
// concurrency check). And not on a single file-stored replica: there the
// server (2.15.2) stages every batch in a file store of its own, created
// and removed per batch (server/jetstream_batching.go, newBatchStore),
// which costs more syncs and file operations than the batch saves
// (BenchmarkAppend3: about 5 times slower than one by one). A replicated
// stream stages in memory and writes the batch as one Raft proposal.
//
// The answer is kept for the life of the Store: a stream scaled from one
// replica to three batches after the next start.
func (s *Store) atomicBatches(ctx context.Context) bool {
	switch s.atomic.Load() {
	case atomicOn:
		return true
	case atomicOff:
		return false
	}
	ctx, cancel := withDefaultTimeout(ctx, defaultReadTimeout)
	defer cancel()
	st, err := s.js.Stream(ctx, StreamName)
	if err != nil {
		// Ask again on the next append; this one goes one by one.
		return false
	}
	if cfg := st.CachedInfo().Config; cfg.AllowAtomicPublish && (cfg.Replicas > 1 || cfg.Storage == jetstream.MemoryStorage) {
		s.atomic.CompareAndSwap(atomicUnknown, atomicOn)
		return true
	}
	s.atomic.Store(atomicOff)
	return false
}

// appendAtomic writes out as one atomic batch, or one by one when the
// server refuses the batch for a reason the one-by-one path handles.
func (s *Store) appendAtomic(ctx context.Context, out []Event, expected uint64, filter string, root trace.SpanContext) ([]Event, uint64, error) {
	prepared := make([]*outgoing, 0, len(out))
	for i := range out {
		o, err := s.prepare(ctx, out[i], root)
		if err != nil {
			for _, p := range prepared {
				p.unsent()
			}
			return nil, expected, err
		}
		prepared = append(prepared, o)
	}
	last, err := s.sendBatch(ctx, prepared, expected, filter)
	if err == nil {
		// The batch is stored in order at consecutive sequences,
		// ending at the commit's.
		first := last - uint64(len(out)) + 1
		for i, o := range prepared {
			out[i].Sequence = first + uint64(i)
			o.written(out[i].Sequence, false)
		}
		return out, last, nil
	}
	if code, ok := oneByOne(err); ok {
		if code == errCodeAtomicDisabled {
			s.atomic.Store(atomicOff)
		}
		for _, o := range prepared {
			unbatch(o.msg)
			o.span.AddEvent("atomic batch refused, sent one by one", trace.WithAttributes(attribute.Int("ddr.jetstream.error_code", int(code))))
		}
		return s.appendEach(ctx, out, prepared, expected, filter, root)
	}
	// Nothing of the batch is stored (or, after a timeout, the outcome is
	// unknown and a retry is recognised by the events' ids).
	var reported error
	for i, o := range prepared {
		if i == 0 {
			reported = o.failed(err, expected)
		} else {
			// The same outcome on every event's span and count.
			_ = o.failed(err, expected)
		}
	}
	return nil, expected, reported
}

// sendBatch publishes the prepared events as one atomic batch and returns
// the sequence of its last event.
func (s *Store) sendBatch(ctx context.Context, prepared []*outgoing, expected uint64, filter string) (uint64, error) {
	id, err := batchID()
	if err != nil {
		return 0, err
	}
	for i, o := range prepared {
		h := o.msg.Header
		h.Set(hdrBatchID, id)
		h.Set(hdrBatchSeq, strconv.Itoa(i+1))
		h.Set(jetstream.ExpectedStreamHeader, StreamName)
	}
	// Only the first message may carry the expected sequence: the server
	// checks it against the stream before the batch, and refuses it on a
	// later message for a subject the batch already wrote.
	first, commit := prepared[0].msg, prepared[len(prepared)-1].msg
	first.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expected, 10))
	first.Header.Set(jetstream.ExpectedLastSubjSeqSubjHeader, filter)
	commit.Header.Set(hdrBatchCommit, "1")

	nc := s.js.Conn()
	// Without a reply subject the server stages a message silently; the
	// connection keeps them in order ahead of the commit.
	for _, o := range prepared[:len(prepared)-1] {
		if err := nc.PublishMsg(o.msg); err != nil {
			return 0, err
		}
	}
	ctx, cancel := withDefaultTimeout(ctx, defaultReadTimeout)
	defer cancel()
	resp, err := nc.RequestMsgWithContext(ctx, commit)
	if err != nil {
		return 0, err
	}
	var ack struct {
		Error  *jetstream.APIError `json:"error"`
		Stream string              `json:"stream"`
		Seq    uint64              `json:"seq"`
		Batch  string              `json:"batch"`
		Count  int                 `json:"count"`
	}
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return 0, fmt.Errorf("%w: %w", jetstream.ErrInvalidJSAck, err)
	}
	if ack.Error != nil {
		return 0, ack.Error
	}
	// An acknowledgement for anything but the whole batch means the
	// server did not treat it as one: refuse to guess what it stored.
	if ack.Stream != StreamName || ack.Batch != id || ack.Count != len(prepared) || ack.Seq < uint64(len(prepared)) {
		return 0, fmt.Errorf("%w: batch %s of %d acknowledged as %q count %d seq %d", jetstream.ErrInvalidJSAck, id, len(prepared), ack.Batch, ack.Count, ack.Seq)
	}
	return ack.Seq, nil
}

// oneByOne tells whether a refused batch is to be sent again one by one,
// with the error code that said so.
func oneByOne(err error) (jetstream.ErrorCode, bool) {
	if errors.Is(err, nats.ErrNoResponders) {
		return 0, true
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return 0, false
	}
	switch apiErr.ErrorCode {
	case errCodeAtomicDisabled, errCodeBatchIncomplete, errCodeBatchTooLarge, errCodeBatchDuplicate, errCodeBatchTooManyOpen:
		return apiErr.ErrorCode, true
	}
	return 0, false
}

// unbatch takes the batch headers off a message to be sent on its own;
// the one-by-one publish sets its own expectations.
func unbatch(m *nats.Msg) {
	for _, h := range []string{hdrBatchID, hdrBatchSeq, hdrBatchCommit, jetstream.ExpectedLastSubjSeqHeader, jetstream.ExpectedLastSubjSeqSubjHeader} {
		m.Header.Del(h)
	}
}

// batchID is unique per attempt: a retried append must not join the
// batch of an earlier attempt the server may still hold open.
func batchID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("eventstore: batch id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
