// Package consumer runs reactors: durable, explicit-ack JetStream consumers
// that turn events into new events. Delivery is at least once, so handlers
// must be idempotent (re-read the request's history and append only what is
// missing, with deterministic event ids). Redelivery is bounded, and an
// event a handler gives up on is parked in the dead-letter stream where an
// operator can see and replay it, instead of blocking or vanishing.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// Defaults for [Config].
const (
	DefaultMaxDeliver = 5
	DefaultAckWait    = 30 * time.Second
	// DefaultWorkers: enough requests in flight for a reactor's appends to
	// get their share of the stream's writes beside intake's. The server
	// stores (and, with sync always, fsyncs) one message at a time in
	// arrival order, so under load a reactor's rate is its share of that
	// queue; with 16 a case-opening reactor (three appends per request)
	// fell further behind a 32-client submit burst (bench: lag).
	DefaultWorkers = 64
	// fetchPerWorker events are pulled per worker at a time.
	fetchPerWorker = 4
)

// DefaultBackoff are the Nak delays after the 1st, 2nd, ... failed attempt;
// the last one repeats.
var DefaultBackoff = []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second}

// ErrInvalidConfig is wrapped by every [Config.Validate] error.
var ErrInvalidConfig = errors.New("consumer: invalid config")

// Handler reacts to one event. It is called again for the same event after
// an error, after a crash, or when an ack was lost, so it must be
// idempotent. Its error text is logged and stored with a dead letter:
// never put personal data (targets of a request) in it.
type Handler func(ctx context.Context, ev eventstore.Event) error

// ErrPermanent matches errors made by [Permanent]; it is
// [ddrerr.ErrPermanent].
var ErrPermanent = ddrerr.ErrPermanent

// Permanent marks err as one that retrying cannot fix (e.g. the event
// breaks an invariant): the event goes to the dead-letter stream at once.
// Permanent(nil) is nil. It is [ddrerr.Permanent]: what is retried, what is
// dead-lettered at once and what is a client error is decided in one place,
// [ddrerr.Classify], for reactors and gRPC alike.
func Permanent(err error) error { return ddrerr.Permanent(err) }

// Config describes a reactor's durable consumer on the DDR stream.
type Config struct {
	// Name of the durable consumer; also the dead-letter subject
	// ddr.dlq.<Name>. One subject token: no dots, spaces or wildcards.
	Name string
	// FilterSubjects select the events, e.g. "ddr.req.*.intake.received".
	// If empty, every event.
	FilterSubjects []string
	// MaxDeliver bounds the attempts per event. If 0, [DefaultMaxDeliver].
	MaxDeliver int
	// AckWait is how long the server waits for an ack before redelivering.
	// If 0, [DefaultAckWait]. A running handler extends it automatically.
	AckWait time.Duration
	// Backoff are the redelivery delays after the 1st, 2nd, ... failure;
	// the last repeats. If empty, [DefaultBackoff].
	Backoff []time.Duration
	// MaxAckPending limits unacknowledged events. If 0, the server default.
	// 1 handles events one at a time and keeps a retried event ahead of
	// later ones (at the cost of stalling them).
	MaxAckPending int
	// Workers is how many events are handled at once, each request's
	// events by one worker in stream order, so order per request holds
	// while different requests proceed side by side. If 0,
	// [DefaultWorkers]; 1 handles one event at a time.
	Workers int
	// Logger, if nil slog.Default.
	Logger *slog.Logger
}

// Validate reports invalid settings, wrapped with [ErrInvalidConfig]. Zero
// values are valid and mean the defaults.
func (c Config) Validate() error {
	var errs []error
	if err := eventstore.ValidateToken(c.Name); err != nil {
		errs = append(errs, fmt.Errorf("Name: %w", err))
	}
	for _, f := range c.FilterSubjects {
		if f != eventstore.AllEvents && !strings.HasPrefix(f, eventstore.SubjectPrefix+".") {
			errs = append(errs, fmt.Errorf("FilterSubjects: %q is not within %s", f, eventstore.AllEvents))
		}
	}
	if c.MaxDeliver < 0 {
		errs = append(errs, errors.New("MaxDeliver must not be negative"))
	}
	if c.AckWait < 0 {
		errs = append(errs, errors.New("AckWait must not be negative"))
	}
	for _, d := range c.Backoff {
		if d < 0 {
			errs = append(errs, errors.New("backoff delays must not be negative"))
			break
		}
	}
	if c.Workers < 0 {
		errs = append(errs, errors.New("the number of Workers must not be negative"))
	}
	if c.MaxAckPending < 0 {
		errs = append(errs, errors.New("MaxAckPending must not be negative"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

func (c Config) withDefaults() Config {
	if len(c.FilterSubjects) == 0 {
		c.FilterSubjects = []string{eventstore.AllEvents}
	}
	c.FilterSubjects = slices.Clone(c.FilterSubjects)
	if c.MaxDeliver == 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if len(c.Backoff) == 0 {
		c.Backoff = DefaultBackoff
	}
	c.Backoff = slices.Clone(c.Backoff)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	return c
}

// fetchSize is how many events one pull asks for: a few per worker, so
// workers do not wait on round trips, and never more than may be pending.
func (c Config) fetchSize() int {
	n := fetchPerWorker * c.Workers
	if c.MaxAckPending > 0 {
		n = min(n, c.MaxAckPending)
	}
	return n
}

// delay is the Nak delay after the given failed attempt (1-based).
func (c Config) delay(attempt uint64) time.Duration {
	i := min(int(attempt)-1, len(c.Backoff)-1)
	return c.Backoff[max(i, 0)]
}

func (c Config) consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        c.Name,
		Description:    "ddr reactor " + c.Name,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        c.AckWait,
		MaxDeliver:     c.MaxDeliver,
		FilterSubjects: c.FilterSubjects,
		MaxAckPending:  c.MaxAckPending,
	}
}
