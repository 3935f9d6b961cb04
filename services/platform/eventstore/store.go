package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// TracerName is the instrumentation scope of the spans of this package.
const TracerName = "github.com/ddrsuite/ddr/services/platform/eventstore"

// DefaultMaxRetries is how often [Store.Update] reloads and retries after a
// conflict before giving up.
const DefaultMaxRetries = 10

var (
	// ErrConflict: the request got another event since the expected
	// sequence (JetStream errors 10071 and 10164). Reload and decide again.
	// It wraps ddrerr.ErrConflict, so a conflict that outlives the
	// retries reaches a gRPC caller as ABORTED ("try again"), not INTERNAL.
	ErrConflict = fmt.Errorf("eventstore: concurrent append conflict: %w", ddrerr.ErrConflict)
	// ErrNotFound: no event at that sequence.
	ErrNotFound = errors.New("eventstore: event not found")
)

// History is a request's events in stream order.
type History struct {
	Events []Event
	// LastSeq is the stream sequence of the last event, 0 for a request
	// without events; it is the expected sequence of the next append.
	LastSeq uint64
}

// Store reads and writes request histories on the DDR stream. It is safe
// for concurrent use.
type Store struct {
	js         jetstream.JetStream
	logger     *slog.Logger
	maxRetries int
	replies    *replyMux
	roots      rootCache
	// sealer seals personal data on append; opener, when set, opens it
	// on reads (see sealing.go).
	sealer Sealer
	opener Opener
	// index, when set, finds a request's events without searching the
	// stream (index.go).
	index *seqIndex
	// msgCacheBytes bounds the index's cache of messages read
	// (msgcache.go); 0 turns it off.
	msgCacheBytes int
	// msgs keeps the messages recently read through the index; nil when
	// off ([WithMessageCache]). The store's own, even when the index is
	// shared ([WithSharedIndex]): what a store read with its connection
	// is not handed to another's.
	msgs *msgCache
	// replication tells whether reads must be checked with the stream
	// leader (consistent.go).
	replication replicaState
	// atomic tells whether appends of several events go as one atomic
	// batch (batch.go).
	atomic atomic.Int32
	// afterSend, when set (tests only), runs after each event of a
	// one-by-one append is written: a test writes between two events.
	afterSend func(requestID string, i int)
}

// Option configures a [Store].
type Option func(*Store)

// WithLogger sets the logger (default slog.Default). A nil logger is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) {
		if l != nil {
			s.logger = l
		}
	}
}

// WithMaxRetries sets how many times [Store.Update] retries after a
// conflict (default [DefaultMaxRetries]); n < 0 is treated as 0.
func WithMaxRetries(n int) Option {
	return func(s *Store) { s.maxRetries = max(n, 0) }
}

// NewStore returns a Store on js. The streams must exist ([EnsureStreams]).
func NewStore(js jetstream.JetStream, opts ...Option) *Store {
	s := &Store{js: js, logger: slog.Default(), maxRetries: DefaultMaxRetries, replies: &replyMux{nc: js.Conn()}, msgCacheBytes: DefaultMessageCacheBytes}
	for _, o := range opts {
		o(s)
	}
	if s.index != nil && s.msgCacheBytes > 0 {
		s.msgs = newMsgCache(s.msgCacheBytes)
	}
	if s.index != nil {
		// The index catches up from here, beside the projections a
		// process rebuilds at start, rather than from the first read: a
		// read while it lags searches the tail it has not seen, which
		// after a start over a long record is most of the stream. Only
		// if the stream is there already: an index that cannot start is
		// dropped for good, so otherwise the first read starts it.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), defaultReadTimeout)
			defer cancel()
			if _, err := js.Stream(ctx, StreamName); err == nil {
				s.index.start(js, s.logger)
			}
		}()
	}
	return s
}

// Load returns every event of the request in order. A request without
// events gives an empty History, not an error: whether an unknown request
// is an error is the caller's decision. An event that cannot be decoded
// fails the load ([*DecodeError]); deciding on a partial history would be
// wrong. A forged event ([ErrForged]) is not part of the history at all: it
// is left out with a warning and a count (ddr.events.refused), and LastSeq
// still covers it so the next append's concurrency check holds.
//
// With an index ([WithIndex]) it fetches the request's events by their
// sequences and searches only the stream's tail the index has not seen
// yet, so its cost does not grow with the stream (index.go). Without one it
// searches with batched direct gets over ddr.req.<id>.> from sequence 1:
// one round trip for up to 512 events, nothing created on the server, but
// the server walks every message between the request's first and last
// event. Either way the first Load subscribes to one inbox wildcard,
// shared by all later loads; it goes away with the connection.
//
// A caller outside the request's trace gets a link to it (see tracing.go).
func (s *Store) Load(ctx context.Context, requestID string) (History, error) {
	if err := ValidateToken(requestID); err != nil {
		return History{}, fmt.Errorf("%w: RequestID: %w", ErrInvalidEvent, err)
	}
	caller := ctx
	ctx, span := tracer().Start(ctx, "ddr.req.* load", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("messaging.system", "nats"), attribute.String("ddr.request_id", requestID)))
	defer span.End()
	var h History
	in, done, err := s.replies.open()
	if err != nil {
		return History{}, err
	}
	defer done()
	err = s.scanRequest(ctx, requestID, in, func(m RawMsg) error {
		ev, err := FromMsg(m.Subject, m.Header, m.Data, m.Sequence)
		if errors.Is(err, ErrForged) {
			// Not this request's fact: another service wrote it on a
			// subject it may publish on. Leave it out of the fold, but
			// count it in LastSeq: it is in the subject space the next
			// append's concurrency check covers.
			CountRefused(ctx, "load", err)
			s.logger.WarnContext(ctx, "forged event left out of the history", "request_id", requestID, "seq", m.Sequence, "error", err)
			h.LastSeq = m.Sequence
			return nil
		}
		if err != nil {
			return err
		}
		if err := open(ctx, s.opener, ev); err != nil {
			return err
		}
		if len(h.Events) == 0 {
			root := traceOf(m.Header)
			s.roots.put(requestID, root)
			telemetry.LinkToRequest(caller, root)
		}
		h.Events = append(h.Events, ev)
		h.LastSeq = m.Sequence
		return nil
	})
	if err != nil {
		span.SetStatus(codes.Error, "load failed")
		span.RecordError(err)
		return History{}, fmt.Errorf("eventstore: load request %s: %w", requestID, err)
	}
	span.SetAttributes(attribute.Int("ddr.events", len(h.Events)))
	return h, nil
}

// Append writes evs to the request, provided its last event is still at
// expectedLastSeq (0: the request has no events). Each event's RequestID
// must be requestID or empty. The first event expects expectedLastSeq, the
// second the first's sequence, and so on; all are validated before any is
// written. A changed request gives an error matching [ErrConflict].
//
// On a replicated stream, several events are written as one atomic batch:
// all of them or, on a conflict, none (batch.go). Otherwise, and when the
// server refuses the batch, they are written one by one, which is not
// atomic: on a conflict after the first, the earlier ones stay written.
// They are marked as parts of one decision (HeaderPart), and
// [Store.Update] waits for a decision's rest before deciding on a request,
// so another writer does not get in between; a retry that decides the
// same events again completes the append (their ids are duplicates).
//
// An event whose id was already written within the dedupe window is
// acknowledged as a duplicate and counts as success (a retried append).
// Nothing new was written then, so the request's last sequence is not
// that old event's sequence: lastSeq becomes max(expected, duplicate's
// sequence), which is the head whenever the server checked the expected
// sequence before the dedupe (single server), and the retried event itself
// when it was ours (cluster, where dedupe comes first). Either way a stale
// value only yields a conflict on the next append, never a lost write.
//
// On error, lastSeq is where the request stood after the last event that
// was written (expectedLastSeq if none).
func (s *Store) Append(ctx context.Context, requestID string, expectedLastSeq uint64, evs ...Event) (lastSeq uint64, err error) {
	_, lastSeq, err = s.append(ctx, requestID, expectedLastSeq, evs)
	return lastSeq, err
}

func (s *Store) append(ctx context.Context, requestID string, expected uint64, evs []Event) ([]Event, uint64, error) {
	if err := ValidateToken(requestID); err != nil {
		return nil, expected, fmt.Errorf("%w: RequestID: %w", ErrInvalidEvent, err)
	}
	out := make([]Event, len(evs))
	for i, ev := range evs {
		if ev.RequestID == "" {
			ev.RequestID = requestID
		}
		if ev.RequestID != requestID {
			return nil, expected, fmt.Errorf("%w: event %d belongs to request %q, not %q", ErrInvalidEvent, i, ev.RequestID, requestID)
		}
		n, err := normalize(ev)
		if err != nil {
			return nil, expected, fmt.Errorf("event %d: %w", i, err)
		}
		out[i] = n
	}
	filter := RequestFilter(requestID)
	var root trace.SpanContext
	if expected > 0 {
		var err error
		if root, err = s.requestRoot(ctx, requestID); err != nil {
			return nil, expected, err
		}
	}
	if len(out) > 1 && len(out) <= maxAtomicBatch && s.atomicBatches(ctx) {
		return s.appendAtomic(ctx, out, expected, filter, root)
	}
	return s.appendEach(ctx, out, nil, expected, filter, root)
}

// appendEach publishes the events one at a time, each expecting the
// sequence the previous one got. prepared holds the events already under
// their span and encoded (an atomic batch the server refused), or is nil.
func (s *Store) appendEach(ctx context.Context, out []Event, prepared []*outgoing, expected uint64, filter string, root trace.SpanContext) ([]Event, uint64, error) {
	last := expected
	// Several events are marked as the parts of one decision, so another
	// writer loading the request between two of them waits for the rest
	// rather than deciding on half of it (Store.Update).
	parts := 0
	if len(out) > 1 && len(out) <= math.MaxUint16 {
		parts = len(out)
	}
	for i := range out {
		if parts > 0 {
			out[i].Part, out[i].Parts = uint16(i+1), uint16(parts) //nolint:gosec // G115: bounded above.
		}
		var o *outgoing
		if i < len(prepared) {
			o = prepared[i]
			if parts > 0 {
				o.msg.Header.Set(HeaderPart, partHeader(out[i].Part, out[i].Parts))
			}
		} else {
			var err error
			if o, err = s.prepare(ctx, out[i], root); err != nil {
				return out[:i], last, err
			}
		}
		ack, err := s.send(ctx, o, last, filter)
		if err != nil {
			for _, rest := range prepared[min(i+1, len(prepared)):] {
				rest.unsent()
			}
			return out[:i], last, err
		}
		out[i].Sequence = ack.Sequence
		if s.afterSend != nil {
			s.afterSend(out[i].RequestID, i)
		}
		if ack.Duplicate {
			last = max(last, ack.Sequence)
		} else {
			last = ack.Sequence
		}
	}
	return out, last, nil
}

// outgoing is one event on its way to the stream: its PRODUCER span,
// whose context travels in the message so consumers continue the trace,
// and the sealed, encoded message.
type outgoing struct {
	ev   Event
	span trace.Span
	ctx  context.Context
	msg  *nats.Msg
}

// prepare starts ev's PRODUCER span in the request's trace, whose root is
// given (invalid for the request's first event), and seals and encodes ev
// under it. On error the span has ended.
func (s *Store) prepare(ctx context.Context, ev Event, root trace.SpanContext) (*outgoing, error) {
	pattern := SubjectPattern(ev.Service, ev.Name)
	ctx, links := publishContext(ctx, root)
	ctx, span := tracer().Start(ctx, pattern+" publish", append(links,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(MessagingAttributes("send", "publish", pattern, ev.ID,
			attribute.String("ddr.request_id", ev.RequestID),
			attribute.String("ddr.event_type", ev.Type),
		)...))...)
	o := &outgoing{ev: ev, span: span, ctx: ctx}
	sealed, err := s.seal(ctx, ev)
	if err != nil {
		o.end("seal failed", "error", nil)
		return nil, err
	}
	if o.msg, err = ToMsg(ctx, sealed); err != nil {
		o.end("encode failed", "error", nil)
		return nil, err
	}
	return o, nil
}

// send publishes one prepared event, expecting the request's last event
// at expected.
func (s *Store) send(ctx context.Context, o *outgoing, expected uint64, filter string) (*jetstream.PubAck, error) {
	ack, err := s.js.PublishMsg(ctx, o.msg,
		jetstream.WithExpectStream(StreamName),
		jetstream.WithMsgID(o.ev.ID),
		jetstream.WithExpectLastSequenceForSubject(expected, filter))
	if err != nil {
		return nil, o.failed(err, expected)
	}
	o.written(ack.Sequence, ack.Duplicate)
	return ack, nil
}

// failed ends the span of an event the stream refused and returns the
// error to report: a conflict matches [ErrConflict].
func (o *outgoing) failed(err error, expected uint64) error {
	if isConflict(err) {
		o.end("conflict", "conflict", nil)
		return fmt.Errorf("%w: request %s changed since sequence %d: %w", ErrConflict, o.ev.RequestID, expected, err)
	}
	o.end("publish failed", "error", err)
	return fmt.Errorf("eventstore: publish %s: %w", SubjectPattern(o.ev.Service, o.ev.Name), err)
}

// written ends the span of an event the stream acknowledged.
func (o *outgoing) written(seq uint64, duplicate bool) {
	o.span.SetAttributes(attribute.Int64("ddr.sequence", int64(seq)), attribute.Bool("ddr.duplicate", duplicate))
	outcome := "written"
	if duplicate {
		outcome = "duplicate"
	}
	countPublish(o.ctx, o.ev, outcome)
	o.span.End()
}

// unsent ends the span of an event that was prepared but never sent, as
// an earlier one of its append failed. It is not counted: nothing was
// published.
func (o *outgoing) unsent() {
	o.span.SetStatus(codes.Error, "not sent: an earlier event of the append failed")
	o.span.End()
}

func (o *outgoing) end(status, outcome string, err error) {
	o.span.SetStatus(codes.Error, status)
	if err != nil {
		o.span.RecordError(err)
	}
	countPublish(o.ctx, o.ev, outcome)
	o.span.End()
}

func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// Decide computes the events to append from a request's history. It must
// depend only on the history (and its inputs): it may run several times.
type Decide func(h History) ([]Event, error)

// Update runs load, decide, append, and on a conflict reloads and decides
// again, up to the configured number of retries. It returns the appended
// events with their sequences, or nil when decide returned none. An error
// from decide is returned unchanged. When retries run out the error still
// matches [ErrConflict].
func (s *Store) Update(ctx context.Context, requestID string, decide Decide) ([]Event, error) {
	for attempt := 0; ; attempt++ {
		h, err := s.loadFinished(ctx, requestID)
		if err != nil {
			return nil, err
		}
		evs, err := decide(h)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return nil, nil
		}
		out, _, err := s.append(ctx, requestID, h.LastSeq, evs)
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
		if attempt >= s.maxRetries {
			return nil, fmt.Errorf("eventstore: update request %s: gave up after %d attempts: %w", requestID, attempt+1, err)
		}
		// Under a span of its own, so the line carries a trace id even
		// when the caller had no trace (a background job).
		lctx, span := tracer().Start(ctx, "ddr.req.* append conflict", trace.WithAttributes(
			attribute.String("ddr.request_id", requestID), attribute.Int("ddr.attempt", attempt+1)))
		s.logger.DebugContext(lctx, "append conflict, retrying", telemetry.RequestIDKey, requestID, "attempt", attempt+1)
		span.End()
		// A little jitter keeps two writers from colliding in lockstep.
		wait := time.Duration(rand.Int64N(int64(attempt+1) * int64(2*time.Millisecond))) //nolint:gosec // G404: retry jitter, not a secret.
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("eventstore: update request %s: %w", requestID, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// unfinishedPatience bounds how long a writer waits for another's decision
// to be appended whole (Store.loadFinished): far longer than the round
// trips between its events, short enough that a decision whose writer
// died half way stalls the request's next command only briefly.
const unfinishedPatience = 5 * time.Second

// Unfinished reports whether the history ends part way through a decision
// appended one by one (its last event is part k of n, k < n) whose last
// event is younger than patience at now: its writer is presumably still
// appending the rest.
func (h History) Unfinished(now time.Time, patience time.Duration) bool {
	if len(h.Events) == 0 {
		return false
	}
	t := h.Events[len(h.Events)-1]
	return t.Parts > 1 && t.Part < t.Parts && now.Sub(t.Time) < patience
}

// loadFinished loads the request's history for a decision, waiting while
// it ends part way through another writer's decision (up to
// unfinishedPatience): several events of one decision are appended one by
// one on a single server, and a writer deciding between two of them would
// decide on half a decision. Then its own decision, or the other's rest,
// conflicts, and whichever decides again sees half of the other's: a
// forgery recorded without its incident, a case without its clocks. A
// decision whose writer died part way is never finished; after the
// patience the request goes on without it, as before.
func (s *Store) loadFinished(ctx context.Context, requestID string) (History, error) {
	var start time.Time
	wait := time.Millisecond
	for {
		h, err := s.Load(ctx, requestID)
		if err != nil {
			return h, err
		}
		now := time.Now()
		if start.IsZero() {
			start = now
		}
		if !h.Unfinished(now, unfinishedPatience) || now.Sub(start) >= unfinishedPatience {
			return h, nil
		}
		select {
		case <-ctx.Done():
			return History{}, fmt.Errorf("eventstore: load request %s: %w", requestID, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// GetBySequence returns the event stored at seq, e.g. to replay a dead
// letter. A missing sequence matches [ErrNotFound].
func (s *Store) GetBySequence(ctx context.Context, seq uint64) (Event, error) {
	if seq == 0 {
		return Event{}, fmt.Errorf("%w: sequence 0", ErrNotFound)
	}
	m, err := getBySeq(ctx, s.js, StreamName, seq)
	if errors.Is(err, ErrNotFound) {
		// A replica that lags may not hold it yet; the leader does if
		// it was ever written (consistent.go).
		m, err = LeaderGet(ctx, s.js, StreamName, LeaderGetRequest{Seq: seq})
	}
	if err != nil {
		return Event{}, err
	}
	ev, err := FromMsg(m.Subject, m.Header, m.Data, m.Sequence)
	if err != nil {
		return Event{}, err
	}
	if err := open(ctx, s.opener, ev); err != nil {
		return Event{}, err
	}
	return ev, nil
}

func tracer() trace.Tracer { return otel.Tracer(TracerName) }
