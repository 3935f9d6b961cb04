package consumer

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// DeadLetter is an event a reactor gave up on, as stored in DDR_DLQ. The
// original event stays in DDR at StreamSequence; replay re-reads it from
// there ([eventstore.Store.GetBySequence]).
type DeadLetter struct {
	// Sequence in DDR_DLQ.
	Sequence       uint64
	Consumer       string
	Subject        string // original subject
	StreamSequence uint64 // original sequence in DDR
	RequestID      string
	EventID        string
	EventType      string
	Reason         string // undecodable, forged, permanent, rejected or max_deliver
	Error          string
	Deliveries     uint64
	Time           time.Time // when it was dead-lettered
	Header         nats.Header
	Data           []byte
}

// ListDeadLetters returns the dead letters of one consumer, or of all
// consumers when consumerName is "", oldest first.
func ListDeadLetters(ctx context.Context, js jetstream.JetStream, consumerName string) ([]DeadLetter, error) {
	filter := eventstore.AllDeadLetters
	if consumerName != "" {
		if err := eventstore.ValidateToken(consumerName); err != nil {
			return nil, fmt.Errorf("consumer: list dead letters: %w", err)
		}
		filter = eventstore.DLQSubject(consumerName)
	}
	var out []DeadLetter
	err := eventstore.Scan(ctx, js, eventstore.DLQStreamName, filter, func(m eventstore.RawMsg) error {
		h := m.Header
		seq, _ := strconv.ParseUint(h.Get(HeaderDLQStreamSeq), 10, 64)
		n, _ := strconv.ParseUint(h.Get(HeaderDLQDeliveries), 10, 64)
		ts, _ := time.Parse(time.RFC3339Nano, h.Get(HeaderDLQTime))
		requestID, _ := eventstore.DescribeSubject(h.Get(HeaderDLQSubject))
		out = append(out, DeadLetter{
			Sequence:       m.Sequence,
			Consumer:       h.Get(HeaderDLQConsumer),
			Subject:        h.Get(HeaderDLQSubject),
			StreamSequence: seq,
			RequestID:      requestID,
			EventID:        h.Get(eventstore.HeaderID),
			EventType:      h.Get(eventstore.HeaderType),
			Reason:         h.Get(HeaderDLQReason),
			Error:          h.Get(HeaderDLQError),
			Deliveries:     n,
			Time:           ts,
			Header:         h,
			Data:           m.Data,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("consumer: list dead letters: %w", err)
	}
	return out, nil
}

// Dead-letter headers, besides the copied ce-*, ddr-actor, content-type
// and trace context of the original.
const (
	HeaderDLQSubject    = "ddr-dlq-subject"
	HeaderDLQStream     = "ddr-dlq-stream"
	HeaderDLQStreamSeq  = "ddr-dlq-stream-seq"
	HeaderDLQConsumer   = "ddr-dlq-consumer"
	HeaderDLQReason     = "ddr-dlq-reason" // undecodable, forged, permanent, rejected or max_deliver
	HeaderDLQError      = "ddr-dlq-error"
	HeaderDLQDeliveries = "ddr-dlq-deliveries"
	HeaderDLQTime       = "ddr-dlq-time"
)

var copiedHeaders = []string{
	eventstore.HeaderID, eventstore.HeaderType, eventstore.HeaderSource, eventstore.HeaderTime,
	eventstore.HeaderSpecVersion, eventstore.HeaderActor, eventstore.HeaderContentType,
	"traceparent", "tracestate",
}

// maxErrorLen keeps the error header well inside the header size limit.
const maxErrorLen = 1024

// deadLetter parks the message on ddr.dlq.<consumer> and terminates it. If
// the dead letter cannot be written the message is Nak'ed instead, so it
// is not terminated without a trace. It returns the outcome for metrics.
func (r *Runner) deadLetter(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, reason string, cause error, log *slog.Logger) string {
	dl := nats.NewMsg(eventstore.DLQSubject(r.cfg.Name))
	dl.Data = msg.Data()
	for _, k := range copiedHeaders {
		if v := msg.Headers().Values(k); len(v) > 0 {
			dl.Header[k] = v
		}
	}
	dl.Header.Set(HeaderDLQSubject, msg.Subject())
	dl.Header.Set(HeaderDLQStream, meta.Stream)
	dl.Header.Set(HeaderDLQStreamSeq, strconv.FormatUint(meta.Sequence.Stream, 10))
	dl.Header.Set(HeaderDLQConsumer, r.cfg.Name)
	dl.Header.Set(HeaderDLQReason, reason)
	dl.Header.Set(HeaderDLQError, headerText(cause.Error()))
	dl.Header.Set(HeaderDLQDeliveries, strconv.FormatUint(meta.NumDelivered, 10))
	dl.Header.Set(HeaderDLQTime, time.Now().UTC().Format(time.RFC3339Nano))
	// The same event dead-lettered twice by one consumer (Term lost) is
	// stored once.
	msgID := "dlq-" + r.cfg.Name + "-" + strconv.FormatUint(meta.Sequence.Stream, 10)

	sctx, cancel := settleContext(ctx)
	defer cancel()
	var err error
	for try := range 3 {
		if _, err = r.js.PublishMsg(sctx, dl, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(eventstore.DLQStreamName)); err == nil {
			break
		}
		if sctx.Err() != nil {
			break
		}
		select {
		case <-sctx.Done():
		case <-time.After(time.Duration(try+1) * 100 * time.Millisecond):
		}
	}
	if err != nil {
		log.ErrorContext(ctx, "dead letter not written, event handed back", "error", err)
		_ = msg.NakWithDelay(r.cfg.delay(meta.NumDelivered))
		return outcomeRetry
	}
	if err := msg.TermWithReason("dead-lettered: " + reason); err != nil {
		log.WarnContext(ctx, "term failed after dead letter, event may come back", "error", err)
	}
	log.ErrorContext(ctx, "event dead-lettered", "reason", reason, "dlq_subject", dl.Subject)
	return outcomeDeadLettered
}

func headerText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxErrorLen {
		s = strings.ToValidUTF8(s[:maxErrorLen], "")
	}
	return s
}
