package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Read-your-writes across replicas of a service (issue 20).
//
// Every read of a request's history is made of direct gets, which any
// server holding a replica of the stream answers (the direct-get
// subscriptions are a queue group over all of them). On a replicated
// stream, a write is acknowledged once a quorum stored it and the leader
// applied it: the third replica, or a follower that stored it but has not
// heard of the commit yet, still answers without it. Measured on a 3-node
// cluster with fsync on, a Load through one server right after an Append
// through another missed the event in 30 to 60 of 100 tries. A request
// submitted through one intake replica was then NOT_FOUND through the
// other, and a case claimed through one assessment replica read unclaimed
// through the other.
//
// A replica cannot know what another replica wrote without asking the one
// server that has applied every acknowledged write, the stream leader: the
// callers (a group member's system, a console) carry no consistency token,
// and the server (nats-server 2.15) has no read-after-write option for
// direct gets. So a Load on a replicated stream asks the leader, in
// parallel with its direct gets, how many messages the request has: a stream-info request filtered on the request's subjects,
// which the leader answers from its per-subject index in memory, reading
// no message block, so it costs the same for an old request as for a new
// one (issue 19's decay does not come back through it). What the direct
// gets return is always a prefix of the request's messages (every page
// continues after the last sequence seen, and a replica that holds a
// sequence holds all before it), so when the count the leader gave is not
// more than the messages read, nothing acknowledged before the read began
// is missing. When it is more (a replica lagged), the missing messages are
// read from the leader, after the last one read (non-direct message gets,
// which only the leader answers), usually one.
//
// Cost: one request more per Load, sent with the first direct get and
// awaited after the last, so it is not a round trip in sequence; the
// leader answers it without touching the disk. Measured on a 3-node
// cluster in one process on two cores (BenchmarkClusterLoad, and the two
// requests alone), the leader's answer takes about 0.35 ms against 0.08 ms
// for a direct get, and a Load of ten events went from 0.2-0.8 ms to
// 0.5-2.1 ms (three runs): there the leader's work competes with the read
// for the same cores. The count costs the leader the same for a request
// of any age, so reads still do not decay with the stream's length. On a
// stream with one replica the leader is the only server that answers
// direct gets, so the check is skipped (the single-node and all-in-one
// modes, and the decay benchmark): the replica count is learned from the
// leader's answer to the first read and asked again once a minute, so a
// stream scaled up is noticed.
//
// If the leader does not answer within 2 s (an election under way), the
// read returns what the direct gets found, and the store's reads go
// without the check for the next 5 s: reads stay available during a
// failover, at the price of the guarantee for that moment. Writes stay
// safe anyway: every append checks the request's last sequence at the
// leader.
//
// A stream mirror with MirrorDirect joins the direct-get queue group too;
// the check covers it on a replicated stream, not on a single-replica one
// (ddr configures no mirrors).

// replicaRecheck is how long a stream known to have a single replica goes
// without the check before it is looked at again.
const replicaRecheck = time.Minute

// failedRecheck is how long reads go without the check after the leader
// did not answer one: an election is over within seconds, and a store
// whose user may not ask (a missing permission) should not wait for the
// timeout on every read.
const failedRecheck = 5 * time.Second

// leaderCheckTimeout bounds the wait for the leader's answer when the
// caller's context allows more: an election takes seconds, and the read
// has its direct answer meanwhile.
const leaderCheckTimeout = 2 * time.Second

// replicaState is what a store knows of the stream's replication.
type replicaState struct {
	// skipUntil is when (unix nanoseconds) reads must ask the leader
	// again; 0 at first, so that the first read asks.
	skipUntil atomic.Int64
}

// needCheck says whether a read must ask the leader.
func (r *replicaState) needCheck() bool {
	return time.Now().UnixNano() >= r.skipUntil.Load()
}

// learn records the stream's replica count from the leader's answer.
func (r *replicaState) learn(replicas int) {
	if replicas == 1 {
		r.skipUntil.Store(time.Now().Add(replicaRecheck).UnixNano())
		return
	}
	r.skipUntil.Store(0)
}

// failed records that the leader did not answer.
func (r *replicaState) failed() {
	r.skipUntil.Store(time.Now().Add(failedRecheck).UnixNano())
}

// leaderCount is a pending question to the leader: how many messages match
// a filter.
type leaderCount struct {
	in   replies
	done func()
}

type streamInfoRequest struct {
	SubjectsFilter string `json:"subjects_filter"`
}

type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (%d/%d)", e.Description, e.Code, e.ErrCode)
}

type streamInfoResponse struct {
	Error  *apiError `json:"error"`
	Config struct {
		Replicas int `json:"num_replicas"`
	} `json:"config"`
	State struct {
		Subjects map[string]uint64 `json:"subjects"`
	} `json:"state"`
}

// askLeader sends the count question for filter, or returns nil when the
// stream is known to have one replica. Call wait, then done, on the result.
func (s *Store) askLeader(filter string) *leaderCount {
	if !s.replication.needCheck() {
		return nil
	}
	in, done, err := s.replies.open()
	if err != nil {
		return nil
	}
	req, _ := json.Marshal(streamInfoRequest{SubjectsFilter: filter})
	if err := s.js.Conn().PublishRequest(apiPrefix(s.js)+"STREAM.INFO."+StreamName, in.subject, req); err != nil {
		done()
		return nil
	}
	return &leaderCount{in: in, done: done}
}

// wait returns the leader's count, and whether it answered at all.
func (s *Store) waitLeader(ctx context.Context, q *leaderCount) (uint64, bool) {
	ctx, cancel := context.WithTimeout(ctx, leaderCheckTimeout)
	defer cancel()
	m, err := q.in.next(ctx)
	if err != nil {
		s.replication.failed()
		s.logger.WarnContext(ctx, "stream leader did not answer a read's consistency check; the read may miss the latest writes", "error", err)
		return 0, false
	}
	var resp streamInfoResponse
	if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error != nil {
		if err == nil {
			err = resp.Error
		}
		s.replication.failed()
		s.logger.WarnContext(ctx, "stream leader refused a read's consistency check; the read may miss the latest writes", "error", err)
		return 0, false
	}
	s.replication.learn(resp.Config.Replicas)
	var n uint64
	for _, c := range resp.State.Subjects {
		n += c
	}
	return n, true
}

// consistentRead runs read (which calls fn for a prefix of the filter's
// messages, in order) and completes it from the leader when it missed
// messages stored before it began (see above).
func (s *Store) consistentRead(ctx context.Context, filter string, read func(fn func(RawMsg) error) error, fn func(RawMsg) error) error {
	q := s.askLeader(filter)
	if q == nil {
		return read(fn)
	}
	defer q.done()
	var seen, last uint64
	err := read(func(m RawMsg) error {
		seen++
		last = m.Sequence
		return fn(m)
	})
	if err != nil {
		return err
	}
	want, ok := s.waitLeader(ctx, q)
	for ok && seen < want {
		m, err := LeaderGet(ctx, s.js, StreamName, LeaderGetRequest{Seq: last + 1, NextFor: filter})
		if errors.Is(err, ErrNotFound) {
			// Fewer than counted: cannot be on an append-only stream,
			// unless the leader changed in between. What was read stands.
			return nil
		}
		if err != nil {
			return fmt.Errorf("eventstore: read from the stream leader: %w", err)
		}
		seen++
		last = m.Sequence
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// LeaderGetRequest selects one message for [LeaderGet]: Seq alone, the
// message at Seq; LastFor, the last message on that subject; NextFor with
// Seq, the first message on the filter from Seq on.
type LeaderGetRequest struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	NextFor string `json:"next_by_subj,omitempty"`
}

type msgGetResponse struct {
	Error   *apiError `json:"error"`
	Message *struct {
		Subject  string `json:"subject"`
		Sequence uint64 `json:"seq"`
		Header   []byte `json:"hdrs"`
		Data     []byte `json:"data"`
	} `json:"message"`
}

// LeaderGet reads one message of stream through the JetStream API rather
// than a direct get, so that only the stream leader answers: it sees every
// acknowledged write, where a direct get may be answered by a replica that
// lags. It costs an API request (JSON, base64) and load on one server, so
// it is for reads that a direct get answered "not found" and that must not
// miss a write made through another server, such as a KV key another
// replica just created. A missing message matches [ErrNotFound].
func LeaderGet(ctx context.Context, js jetstream.JetStream, stream string, req LeaderGetRequest) (RawMsg, error) {
	ctx, cancel := withDefaultTimeout(ctx, defaultReadTimeout)
	defer cancel()
	body, _ := json.Marshal(req)
	m, err := js.Conn().RequestWithContext(ctx, apiPrefix(js)+"STREAM.MSG.GET."+stream, body)
	if err != nil {
		return RawMsg{}, fmt.Errorf("eventstore: leader get from %s: %w", stream, err)
	}
	var resp msgGetResponse
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return RawMsg{}, fmt.Errorf("eventstore: leader get from %s: %w", stream, err)
	}
	if resp.Error != nil {
		if jetstream.ErrorCode(resp.Error.ErrCode) == jetstream.JSErrCodeMessageNotFound { //nolint:gosec // G115: an error code fits.
			return RawMsg{}, fmt.Errorf("%w: %s", ErrNotFound, stream)
		}
		return RawMsg{}, fmt.Errorf("eventstore: leader get from %s: %w", stream, resp.Error)
	}
	if resp.Message == nil {
		return RawMsg{}, fmt.Errorf("eventstore: leader get from %s: empty answer", stream)
	}
	var hdr nats.Header
	if len(resp.Message.Header) > 0 {
		if hdr, err = nats.DecodeHeadersMsg(resp.Message.Header); err != nil {
			return RawMsg{}, fmt.Errorf("eventstore: leader get from %s: %w", stream, err)
		}
	}
	return RawMsg{Subject: resp.Message.Subject, Sequence: resp.Message.Sequence, Header: hdr, Data: resp.Message.Data}, nil
}

// scanRequest is [Store.scanRequestDirect] made consistent with the
// stream leader (see above).
func (s *Store) scanRequest(ctx context.Context, requestID string, in replies, fn func(RawMsg) error) error {
	ctx, cancel := withDefaultTimeout(ctx, defaultReadTimeout)
	defer cancel()
	return s.consistentRead(ctx, RequestFilter(requestID), func(fn func(RawMsg) error) error {
		return s.scanRequestDirect(ctx, requestID, in, fn)
	}, fn)
}

// LeaderKVGet reads key of a JetStream KV bucket from its stream's
// leader ([LeaderGet]): for a key a direct get (jetstream.KeyValue.Get)
// reported missing, which a replica that lags does for a key another
// server has just created. A key that is missing or deleted matches
// [ErrNotFound].
func LeaderKVGet(ctx context.Context, js jetstream.JetStream, bucket, key string) (value []byte, revision uint64, err error) {
	m, err := LeaderGet(ctx, js, "KV_"+bucket, LeaderGetRequest{LastFor: "$KV." + bucket + "." + key})
	if err != nil {
		return nil, 0, err
	}
	switch m.Header.Get("KV-Operation") {
	case "DEL", "PURGE":
		return nil, 0, fmt.Errorf("%w: key deleted", ErrNotFound)
	}
	return m.Data, m.Sequence, nil
}
