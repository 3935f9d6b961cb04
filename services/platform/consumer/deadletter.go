package consumer

import (
	"context"
	"fmt"
	"strconv"
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
	Reason         string // undecodable, permanent or max_deliver
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
		requestID, _ := describe(h.Get(HeaderDLQSubject))
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
