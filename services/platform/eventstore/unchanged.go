package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// errChanged stops the freshness check's tail search at the first
// message after the known sequence.
var errChanged = errors.New("eventstore: request changed")

// Unchanged reports whether the request's last event is still the one at
// lastSeq ([History.LastSeq] of an earlier [Store.Load]): no event,
// forged or not, was stored on its subjects since. It checks as a Load
// does (the index, then the stream's tail the index has not seen, and on
// a replicated stream the leader's count: consistent.go), so a write
// acknowledged before the call began is never missed, but it fetches,
// decodes and opens nothing: one round trip when the index is current.
// That makes it the freshness check of a view folded from the history
// and kept (platform/viewcache), which a read then serves again instead
// of loading, decoding, opening and folding the history.
//
// Without a usable index it answers false (it cannot tell cheaply); so
// does lastSeq 0.
func (s *Store) Unchanged(ctx context.Context, requestID string, lastSeq uint64) (bool, error) {
	if lastSeq == 0 || s.index == nil {
		return false, nil
	}
	if err := ValidateToken(requestID); err != nil {
		return false, fmt.Errorf("%w: RequestID: %w", ErrInvalidEvent, err)
	}
	s.index.start(s.js, s.logger)
	seqs, applied, ok := s.index.lookup(requestID)
	if !ok || len(seqs) == 0 || seqs[len(seqs)-1] != lastSeq {
		// Not indexed (yet), or indexed with another last event.
		return false, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReadTimeout)
		defer cancel()
	}
	in, done, err := s.replies.open()
	if err != nil {
		return false, err
	}
	defer done()
	filter := RequestFilter(requestID)
	last := lastSeq
	// The indexed events stand for the messages a direct read would have
	// returned (a prefix of the request's, like the index), counted for
	// the leader's check without being fetched.
	err = s.consistentRead(ctx, filter, func(fn func(RawMsg) error) error {
		for _, seq := range seqs {
			if err := fn(RawMsg{Sequence: seq}); err != nil {
				return err
			}
		}
		return scan(ctx, s.js, StreamName, filter, applied+1, in, fn)
	}, func(m RawMsg) error {
		if m.Sequence > last {
			return errChanged
		}
		return nil
	})
	if errors.Is(err, errChanged) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("eventstore: check request %s: %w", requestID, err)
	}
	return true, nil
}

// JetStream returns the store's JetStream handle (the service's own
// connection and user).
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// OpensSealed reports whether the store's reads open personal data
// ([WithSealer]): what it returns then must not outlive an erasure.
func (s *Store) OpensSealed() bool { return s.opener != nil }
