// Package projection builds in-memory read models from the event stream.
// Queries read projections, never the stream: a projection is rebuilt from
// the beginning at every start (so it can change shape freely and needs no
// database) and then follows new events. [Projection.WaitFor] lets a
// command's caller read its own write.
package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// Apply folds one event into a read model. It is called from a single
// goroutine, in stream order; the read model must still guard its own data
// against concurrent queries. An error is logged and the event skipped: a
// read model that stopped would silently serve stale data instead.
type Apply func(ev eventstore.Event) error

var (
	// ErrInvalidArgument is wrapped by errors of invalid Start arguments.
	ErrInvalidArgument = errors.New("projection: invalid argument")
	// ErrStopped: the projection stopped before reaching the sequence.
	ErrStopped = errors.New("projection: stopped")
)

// Projection is a running read-model feed.
type Projection struct {
	apply   Apply
	log     *slog.Logger
	iter    jetstream.MessagesContext
	mu      sync.Mutex
	applied uint64
	// changed is closed when applied moves; made only when a waiter
	// needs it (WaitFor), so that a rebuild, with nobody waiting, does not
	// make and close a channel for every event.
	changed chan struct{}
	target  uint64        // last matching sequence when started
	caught  chan struct{} // closed once applied >= target
	cancel  context.CancelFunc
	done    chan struct{}
	// ctx carries the opener of the service that started the projection
	// (eventstore.WithOpener): its read model holds the opened values.
	ctx context.Context
}

// Start replays every event matching filters (all events if none) from the
// beginning of the stream into apply, and returns once the events that
// existed at the call are applied, so queries right after are complete. It
// then keeps following new events until ctx ends or [Projection.Stop].
// Events that cannot be decoded or are forged ([eventstore.ErrForged]) are
// logged, counted and skipped (reactors dead-letter them; a read model just
// cannot show them).
func Start(ctx context.Context, js jetstream.JetStream, filters []string, apply Apply, logger *slog.Logger) (*Projection, error) {
	if apply == nil {
		return nil, fmt.Errorf("%w: nil apply", ErrInvalidArgument)
	}
	if len(filters) == 0 {
		filters = []string{eventstore.AllEvents}
	}
	for _, f := range filters {
		if f != eventstore.AllEvents && !strings.HasPrefix(f, eventstore.SubjectPrefix+".") {
			return nil, fmt.Errorf("%w: filter %q is not within %s", ErrInvalidArgument, f, eventstore.AllEvents)
		}
	}
	if logger == nil {
		logger = slog.Default()
	}
	target, err := lastMatching(ctx, js, filters)
	if err != nil {
		return nil, err
	}
	cons, err := js.OrderedConsumer(ctx, eventstore.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: filters,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("projection: ordered consumer: %w", err)
	}
	iter, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("projection: messages: %w", err)
	}
	p := &Projection{
		apply:  apply,
		log:    logger.With("component", "projection", "filters", filters),
		iter:   iter,
		target: target,
		caught: make(chan struct{}),
		done:   make(chan struct{}),
	}
	if target == 0 {
		close(p.caught)
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.ctx = ctx
	go func() {
		<-ctx.Done()
		iter.Stop()
	}()
	go p.loop()

	select {
	case <-p.caught:
		p.log.Debug("projection caught up", "seq", target)
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("projection: %w before catching up", ErrStopped)
	case <-ctx.Done():
		p.Stop()
		return nil, fmt.Errorf("projection: catching up: %w", ctx.Err())
	}
}

// Run starts a projection and blocks until ctx ends. It returns nil once
// ctx has ended (also during the start), or the error of a failed start.
func Run(ctx context.Context, js jetstream.JetStream, filters []string, apply Apply, logger *slog.Logger) error {
	p, err := Start(ctx, js, filters, apply, logger)
	if err != nil {
		if ctx.Err() != nil {
			return nil //nolint:nilerr // documented: a start cut short by ctx ending is a normal stop, not a failure.
		}
		return err
	}
	<-p.done
	return nil
}

// lastMatching is the sequence of the newest event matching any filter,
// 0 if none: the point Start must reach.
func lastMatching(ctx context.Context, js jetstream.JetStream, filters []string) (uint64, error) {
	st, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		return 0, fmt.Errorf("projection: stream: %w", err)
	}
	var last uint64
	for _, f := range filters {
		m, err := st.GetLastMsgForSubject(ctx, f)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("projection: last event of %s: %w", f, err)
		}
		last = max(last, m.Sequence)
	}
	return last, nil
}

func (p *Projection) loop() {
	defer close(p.done)
	for {
		msg, err := p.iter.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if err != nil {
			// The ordered consumer recreates itself after gaps and
			// reconnects; anything surfacing here is worth a line, not a stop.
			p.log.Warn("projection fetch", "error", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		meta, err := msg.Metadata()
		if err != nil {
			p.log.Error("message without JetStream metadata", "error", err)
			continue
		}
		seq := meta.Sequence.Stream
		ev, err := eventstore.FromMsg(msg.Subject(), msg.Headers(), msg.Data(), seq)
		if err != nil {
			// Forged events (another service's type on a subject) are
			// skipped like undecodable ones: never applied, counted.
			eventstore.CountRefused(p.ctx, "projection", err)
			p.log.Warn("refused event skipped", "seq", seq, "forged", errors.Is(err, eventstore.ErrForged), "error", err)
		} else if err := p.open(ev); err != nil {
			// Applied sealed rather than never: a read model must not stall
			// on one event. Its marked fields read empty.
			p.log.Error("sealed fields not opened, event applied sealed", "seq", seq, "request_id", ev.RequestID, "type", ev.Type, "error", err)
			if err := p.apply(ev); err != nil {
				p.log.Error("apply failed, event skipped", "seq", seq, "request_id", ev.RequestID, "type", ev.Type, "error", err)
			}
		} else if err := p.apply(ev); err != nil {
			p.log.Error("apply failed, event skipped", "seq", seq, "request_id", ev.RequestID, "type", ev.Type, "error", err)
		}
		p.advance(seq)
	}
}

// open opens ev's sealed fields, retrying a key that cannot be read for a
// moment (a NATS hiccup); the loop must go on, so it gives up after a few.
func (p *Projection) open(ev eventstore.Event) error {
	var err error
	for attempt := range 5 {
		if err = eventstore.Open(p.ctx, ev); err == nil || p.ctx.Err() != nil {
			return err
		}
		select {
		case <-p.ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	return err
}

func (p *Projection) advance(seq uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applied = seq
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
	if seq >= p.target {
		select {
		case <-p.caught:
		default:
			close(p.caught)
		}
	}
}

// LastApplied is the stream sequence of the last event handed to apply.
func (p *Projection) LastApplied() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

// WaitFor blocks until the event at stream sequence seq has been applied,
// e.g. the sequence an append just returned. seq should be that of an event
// matching the projection's filters; otherwise it returns only once a
// later matching event arrives (or ctx ends).
func (p *Projection) WaitFor(ctx context.Context, seq uint64) error {
	for {
		p.mu.Lock()
		applied := p.applied
		if applied >= seq {
			p.mu.Unlock()
			return nil
		}
		if p.changed == nil {
			p.changed = make(chan struct{})
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			if p.LastApplied() >= seq {
				return nil
			}
			return ErrStopped
		}
	}
}

// Stop ends the feed and waits for it.
func (p *Projection) Stop() {
	p.cancel()
	<-p.done
}

// Done is closed when the projection has stopped.
func (p *Projection) Done() <-chan struct{} { return p.done }
