// Package adapters connects reporting to the stream as stored: the record
// is read message by message, so that each entry's digest is taken over the
// payload bytes exactly as written.
package adapters

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// Stream reads the DDR stream with batched direct gets (eventstore.Scan).
// It implements app.Stream.
type Stream struct {
	JS jetstream.JetStream
	// Store, when set, reads one request through its sequence index, at a
	// cost that does not grow with the stream (issue 19).
	Store *eventstore.Store
}

// ScanRequest calls fn for every stored message of one request, in order.
func (s Stream) ScanRequest(ctx context.Context, requestID string, fn func(eventstore.RawMsg) error) error {
	if s.Store != nil {
		return s.Store.ScanRequest(ctx, requestID, fn)
	}
	return eventstore.Scan(ctx, s.JS, eventstore.StreamName, eventstore.RequestFilter(requestID), fn)
}

// ScanAll calls fn for every stored message, in order. No subject filter:
// the stream holds only request events, and a batch by sequence is several
// times faster than one matching a wildcard.
func (s Stream) ScanAll(ctx context.Context, fn func(eventstore.RawMsg) error) error {
	return eventstore.Scan(ctx, s.JS, eventstore.StreamName, "", fn)
}
