// Package adapters holds intake's infrastructure: the JetStream KV store
// behind app.Idempotency.
package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/intake/app"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// IdempotencyBucket is the KV bucket of intake's idempotency records.
const IdempotencyBucket = "ddr_intake_idempotency"

// IdempotencyKV is app.Idempotency on a JetStream KV bucket: one entry per
// key, compare-and-set by revision.
type IdempotencyKV struct {
	kv jetstream.KeyValue
	js jetstream.JetStream
}

// EnsureIdempotencyKV creates or opens the idempotency bucket.
func EnsureIdempotencyKV(ctx context.Context, js jetstream.JetStream, replicas int) (*IdempotencyKV, error) {
	kv, err := eventstore.EnsureKeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      IdempotencyBucket,
		Description: "intake idempotency keys: keyed digest of (group member, key) -> request id",
		History:     1,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("idempotency bucket: %w", err)
	}
	return &IdempotencyKV{kv: kv, js: js}, nil
}

// record is the stored form. The field names are those of the records
// already in the bucket.
type record struct {
	RequestID   string    `json:"request_id"`
	Fingerprint string    `json:"fingerprint"`
	SubmitTime  time.Time `json:"submit_time"`
}

func encode(r app.IdemRecord) []byte {
	b, _ := json.Marshal(record(r)) // strings and a time: cannot fail
	return b
}

// Create implements app.Idempotency.
func (s *IdempotencyKV) Create(ctx context.Context, key string, r app.IdemRecord) error {
	_, err := s.kv.Create(ctx, key, encode(r))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return app.ErrKeyTaken
	}
	return err
}

// Get implements app.Idempotency.
func (s *IdempotencyKV) Get(ctx context.Context, key string) (app.IdemRecord, uint64, error) {
	return s.get(ctx, key, true)
}

// Peek implements app.Idempotency.
func (s *IdempotencyKV) Peek(ctx context.Context, key string) (app.IdemRecord, uint64, error) {
	return s.get(ctx, key, false)
}

// get reads key; consistent asks the stream leader again on a miss.
func (s *IdempotencyKV) get(ctx context.Context, key string, consistent bool) (app.IdemRecord, uint64, error) {
	var value []byte
	var rev uint64
	e, err := s.kv.Get(ctx, key)
	switch {
	case err == nil:
		value, rev = e.Value(), e.Revision()
	case errors.Is(err, jetstream.ErrKeyNotFound) && !consistent:
		return app.IdemRecord{}, 0, app.ErrNoKey
	case errors.Is(err, jetstream.ErrKeyNotFound):
		// Get follows a Create that found the key taken, possibly by
		// another replica through another server: a direct get answered
		// by a replica of the bucket that lags reports it missing. The
		// stream leader has every acknowledged write
		// (eventstore/consistent.go).
		value, rev, err = eventstore.LeaderKVGet(ctx, s.js, IdempotencyBucket, key)
		if errors.Is(err, eventstore.ErrNotFound) {
			return app.IdemRecord{}, 0, app.ErrNoKey
		}
		if err != nil {
			return app.IdemRecord{}, 0, err
		}
	default:
		return app.IdemRecord{}, 0, err
	}
	var r record
	if err := json.Unmarshal(value, &r); err != nil {
		return app.IdemRecord{}, 0, fmt.Errorf("idempotency record: %w", err)
	}
	return app.IdemRecord(r), rev, nil
}

// Update implements app.Idempotency.
func (s *IdempotencyKV) Update(ctx context.Context, key string, r app.IdemRecord, revision uint64) error {
	_, err := s.kv.Update(ctx, key, encode(r), revision)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return app.ErrKeyChanged
	}
	return err
}

// Delete implements app.Idempotency.
func (s *IdempotencyKV) Delete(ctx context.Context, key string) error {
	return s.kv.Delete(ctx, key)
}
