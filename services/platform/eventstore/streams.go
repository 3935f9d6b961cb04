package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults for [StreamOptions].
const (
	DefaultDuplicates = 2 * time.Minute
	// ensureTimeout bounds EnsureStreams when ctx has no deadline: long
	// enough for a fresh cluster to elect a meta leader.
	ensureTimeout = 30 * time.Second
	// ensureAttemptTimeout is per attempt, so a request lost before the meta
	// leader exists is retried instead of eating the whole budget.
	ensureAttemptTimeout = 2 * time.Second
)

// StreamOptions tune the streams created by [EnsureStreams].
type StreamOptions struct {
	// Replicas per stream. If 0, 1. Production clusters use 3.
	Replicas int
	// Storage type. The zero value is file storage, the only sensible
	// choice for the record.
	Storage jetstream.StorageType
	// Duplicates is the Nats-Msg-Id dedupe window. If 0, 2 minutes.
	Duplicates time.Duration
}

// Validate reports invalid options, wrapped with jetstream.ErrInvalidOption.
func (o StreamOptions) Validate() error {
	if o.Replicas < 0 || o.Replicas > 5 {
		return fmt.Errorf("%w: Replicas %d not in 0..5", jetstream.ErrInvalidOption, o.Replicas)
	}
	if o.Duplicates < 0 {
		return fmt.Errorf("%w: Duplicates must not be negative", jetstream.ErrInvalidOption)
	}
	if o.Storage != jetstream.FileStorage && o.Storage != jetstream.MemoryStorage {
		return fmt.Errorf("%w: unknown Storage %d", jetstream.ErrInvalidOption, o.Storage)
	}
	return nil
}

// StreamConfigs returns the configuration of the event stream and of the
// dead-letter stream for opts (defaults applied).
func StreamConfigs(opts StreamOptions) (events, dlq jetstream.StreamConfig) {
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	if opts.Duplicates == 0 {
		opts.Duplicates = DefaultDuplicates
	}
	// Both streams keep what they are sent, on the same storage and
	// replicas, and let any replica answer reads without a consumer.
	stream := func(name, description, subject string) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name:        name,
			Description: description,
			Subjects:    []string{subject},
			Retention:   jetstream.LimitsPolicy,
			Storage:     opts.Storage,
			Replicas:    opts.Replicas,
			Duplicates:  opts.Duplicates,
			AllowDirect: true,
		}
	}
	events = stream(StreamName, "ddr: every event of every request; the written record", AllEvents)
	// The record is never rewritten: no deletes, no purges, no ageing.
	events.DenyDelete, events.DenyPurge = true, true
	// An append of several events is one atomic batch: all or nothing,
	// one round trip and one sync (batch.go).
	events.AllowAtomicPublish = true
	dlq = stream(DLQStreamName, "ddr: events a reactor gave up on, for an operator to inspect and replay", AllDeadLetters)
	return events, dlq
}

// EnsureStreams creates the event and dead-letter streams, or updates them
// to the configuration of this version. It is safe to call at every start.
//
// On a cluster that has just formed, the first request can time out
// before a meta leader exists; it is retried with a short timeout per
// attempt until ctx ends (or 30 s when ctx has no deadline).
func EnsureStreams(ctx context.Context, js jetstream.JetStream, opts StreamOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	ctx, cancel := withDefaultTimeout(ctx, ensureTimeout)
	defer cancel()
	events, dlq := StreamConfigs(opts)
	for _, cfg := range []jetstream.StreamConfig{events, dlq} {
		if err := ensureStream(ctx, js, cfg); err != nil {
			return err
		}
	}
	return nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	return retryUntilReady(ctx, "stream "+cfg.Name, func(ctx context.Context) error {
		_, err := js.CreateOrUpdateStream(ctx, cfg)
		return err
	})
}

// EnsureStream creates or updates a stream of another kind than the DDR
// streams (a KV bucket that needs a setting KeyValueConfig lacks), with
// the same patience as [EnsureStreams].
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	ctx, cancel := withDefaultTimeout(ctx, ensureTimeout)
	defer cancel()
	return ensureStream(ctx, js, cfg)
}

// EnsureKeyValue creates or updates a KV bucket, retrying like
// [EnsureStreams] while a freshly formed cluster has no meta leader: every
// service's bucket needs the same patience at start-up, or a service exits
// on a cluster that is seconds away from ready.
//
// Every service bucket is durable: the zero Storage is file storage, and a
// Replicas below one (a single server's "0 or unset") means one, so the
// callers pass the stream's replica count as it is configured.
func EnsureKeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	ctx, cancel := withDefaultTimeout(ctx, ensureTimeout)
	defer cancel()
	cfg.Replicas = max(cfg.Replicas, 1)
	var kv jetstream.KeyValue
	err := retryUntilReady(ctx, "bucket "+cfg.Bucket, func(ctx context.Context) (err error) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	})
	return kv, err
}

// retryUntilReady runs create with a short timeout per attempt until it
// succeeds, fails for a reason retrying would only hide, or ctx ends.
func retryUntilReady(ctx context.Context, what string, create func(context.Context) error) error {
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, ensureAttemptTimeout)
		err := create(attemptCtx)
		cancel()
		if err == nil {
			return nil
		}
		if !retryableEnsure(err) {
			return fmt.Errorf("eventstore: ensure %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("eventstore: ensure %s: %w (last error: %w)", what, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// retryableEnsure tells a cluster that is not ready yet from a real
// configuration problem, which retrying would only hide.
func retryableEnsure(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// 503 / 10008: JetStream cluster not available (no meta leader yet).
		return apiErr.Code == 503 || apiErr.ErrorCode == 10008
	}
	return false
}
