package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Response headers of the JetStream direct get API.
const (
	hdrStatus      = "Status"
	hdrDescription = "Description"
	hdrNatsSubject = "Nats-Subject"
	hdrNatsSeq     = "Nats-Sequence"
	hdrNumPending  = "Nats-Num-Pending"
)

const (
	// batchSize and batchMaxBytes bound one direct-get page; the server
	// stops at whichever comes first and reports what is left.
	batchSize     = 512
	batchMaxBytes = 8 << 20
	// defaultReadTimeout applies when ctx has no deadline, like the
	// jetstream package's API default.
	defaultReadTimeout = 5 * time.Second
)

// withDefaultTimeout bounds ctx by d unless it has a deadline already: a
// caller's deadline wins, but no read or setup waits forever without one.
func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// errNoResponders means the stream does not exist or has AllowDirect off.
var errNoResponders = errors.New("eventstore: no responders for direct get (stream missing or AllowDirect off)")

type directGetRequest struct {
	Seq      uint64 `json:"seq,omitempty"`
	NextFor  string `json:"next_by_subj,omitempty"`
	Batch    int    `json:"batch,omitempty"`
	MaxBytes int    `json:"max_bytes,omitempty"`
}

// RawMsg is one stored message as returned by [Scan].
type RawMsg struct {
	Subject  string
	Sequence uint64
	Header   nats.Header
	Data     []byte
}

// apiPrefix returns the JetStream API prefix js talks to.
func apiPrefix(js jetstream.JetStream) string {
	o := js.Options()
	switch {
	case o.APIPrefix != "":
		if o.APIPrefix[len(o.APIPrefix)-1] != '.' {
			return o.APIPrefix + "."
		}
		return o.APIPrefix
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	default:
		return jetstream.DefaultAPIPrefix
	}
}

// Scan calls fn for every message of stream matching filter, in stream
// order, using batched direct gets: one round trip per page and no
// consumer created on the server. The server serves each page from a
// consistent snapshot (it holds the stream's read lock), and a later page
// continues after the last sequence seen, so the result is always a prefix
// of the filter's messages in order. The stream must have AllowDirect.
//
// Scan subscribes to a fresh inbox per call, which costs a few hundred
// microseconds; [Store.Load] shares one subscription instead.
func Scan(ctx context.Context, js jetstream.JetStream, stream, filter string, fn func(RawMsg) error) error {
	nc := js.Conn()
	subject := nc.NewInbox()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		return fmt.Errorf("eventstore: direct get subscribe: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	return scan(ctx, js, stream, filter, 1, replies{subject: subject, next: sub.NextMsgWithContext}, fn)
}

// replies is where the answers of one direct-get exchange arrive.
type replies struct {
	subject string
	next    func(ctx context.Context) (*nats.Msg, error)
}

// scan is [Scan] from sequence start, with replies arriving on in.
func scan(ctx context.Context, js jetstream.JetStream, stream, filter string, start uint64, in replies, fn func(RawMsg) error) error {
	ctx, cancel := withDefaultTimeout(ctx, defaultReadTimeout)
	defer cancel()
	nc := js.Conn()
	subj := apiPrefix(js) + "DIRECT.GET." + stream
	for {
		req, _ := json.Marshal(directGetRequest{Seq: start, NextFor: filter, Batch: batchSize, MaxBytes: batchMaxBytes})
		if err := nc.PublishRequest(subj, in.subject, req); err != nil {
			return fmt.Errorf("eventstore: direct get request: %w", err)
		}
		var last uint64
	page:
		for {
			m, err := in.next(ctx)
			if err != nil {
				return fmt.Errorf("eventstore: direct get %s: %w", filter, err)
			}
			switch status := m.Header.Get(hdrStatus); status {
			case "":
				// A stored message.
			case "404":
				// Nothing (more) matches the filter.
				return nil
			case "204":
				// End of page: go on only if the server says more match.
				pending, err := strconv.ParseUint(m.Header.Get(hdrNumPending), 10, 64)
				if err != nil {
					return fmt.Errorf("eventstore: direct get: bad %s: %w", hdrNumPending, err)
				}
				if pending == 0 || last == 0 {
					return nil
				}
				start = last + 1
				break page
			case "503":
				return errNoResponders
			default:
				return fmt.Errorf("eventstore: direct get %s: status %s %s", filter, status, m.Header.Get(hdrDescription))
			}
			raw, err := storedMsg(m)
			if err != nil {
				return err
			}
			last = raw.Sequence
			if err := fn(raw); err != nil {
				return err
			}
		}
	}
}

// replyMux routes direct-get replies for many concurrent loads through one
// wildcard inbox subscription, like the request multiplexer of nats.go
// (which only takes a single reply). A subscription per load would cost
// about 20 times the read itself.
type replyMux struct {
	nc      *nats.Conn
	mu      sync.Mutex
	sub     *nats.Subscription
	prefix  string
	waiters map[string]chan *nats.Msg
	n       uint64
}

// open returns a reply subject and its receiver; call done when finished.
func (r *replyMux) open() (in replies, done func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sub == nil || !r.sub.IsValid() {
		prefix := r.nc.NewInbox() + "."
		sub, err := r.nc.Subscribe(prefix+"*", func(m *nats.Msg) { r.dispatch(strings.TrimPrefix(m.Subject, prefix), m) })
		if err != nil {
			return replies{}, nil, fmt.Errorf("eventstore: direct get subscribe: %w", err)
		}
		r.sub, r.prefix, r.waiters = sub, prefix, map[string]chan *nats.Msg{}
	}
	r.n++
	token := strconv.FormatUint(r.n, 36)
	// One page plus its end marker fits, so dispatch never blocks.
	ch := make(chan *nats.Msg, batchSize+1)
	r.waiters[token] = ch
	waiters := r.waiters
	next := func(ctx context.Context) (*nats.Msg, error) {
		select {
		case m := <-ch:
			return m, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	done = func() {
		r.mu.Lock()
		delete(waiters, token)
		r.mu.Unlock()
	}
	return replies{subject: r.prefix + token, next: next}, done, nil
}

func (r *replyMux) dispatch(token string, m *nats.Msg) {
	r.mu.Lock()
	ch := r.waiters[token]
	r.mu.Unlock()
	if ch == nil {
		return // the load gave up already
	}
	select {
	case ch <- m:
	default:
		// Cannot happen with well-behaved pages; the load times out.
	}
}

// requestSeqs asks for the messages at seqs, one direct get each, all
// answered on in.
func requestSeqs(js jetstream.JetStream, stream string, in replies, seqs []uint64) error {
	nc := js.Conn()
	subj := apiPrefix(js) + "DIRECT.GET." + stream
	for _, seq := range seqs {
		req, _ := json.Marshal(directGetRequest{Seq: seq})
		if err := nc.PublishRequest(subj, in.subject, req); err != nil {
			return fmt.Errorf("eventstore: direct get request: %w", err)
		}
	}
	return nil
}

// directReply reads the answer to a direct get by sequence; a missing
// message is errIndexMiss.
func directReply(m *nats.Msg) (RawMsg, error) {
	switch status := m.Header.Get(hdrStatus); status {
	case "":
	case "404":
		return RawMsg{}, errIndexMiss
	case "503":
		return RawMsg{}, errNoResponders
	default:
		return RawMsg{}, fmt.Errorf("eventstore: direct get by sequence: status %s %s", status, m.Header.Get(hdrDescription))
	}
	return storedMsg(m)
}

// storedMsg reads a direct-get reply that carries a stored message.
func storedMsg(m *nats.Msg) (RawMsg, error) {
	seq, err := strconv.ParseUint(m.Header.Get(hdrNatsSeq), 10, 64)
	if err != nil {
		return RawMsg{}, fmt.Errorf("eventstore: direct get: bad %s: %w", hdrNatsSeq, err)
	}
	return RawMsg{Subject: m.Header.Get(hdrNatsSubject), Sequence: seq, Header: m.Header, Data: m.Data}, nil
}

// getBySeq fetches one message by stream sequence with a direct get.
func getBySeq(ctx context.Context, js jetstream.JetStream, stream string, seq uint64) (RawMsg, error) {
	ctx, cancel := withDefaultTimeout(ctx, defaultReadTimeout)
	defer cancel()
	req, _ := json.Marshal(directGetRequest{Seq: seq})
	m, err := js.Conn().RequestWithContext(ctx, apiPrefix(js)+"DIRECT.GET."+stream, req)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return RawMsg{}, errNoResponders
		}
		return RawMsg{}, fmt.Errorf("eventstore: direct get seq %d: %w", seq, err)
	}
	switch status := m.Header.Get(hdrStatus); status {
	case "":
	case "404":
		return RawMsg{}, fmt.Errorf("%w: %s seq %d", ErrNotFound, stream, seq)
	default:
		return RawMsg{}, fmt.Errorf("eventstore: direct get seq %d: status %s %s", seq, status, m.Header.Get(hdrDescription))
	}
	return RawMsg{Subject: m.Header.Get(hdrNatsSubject), Sequence: seq, Header: m.Header, Data: m.Data}, nil
}
