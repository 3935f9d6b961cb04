package consumer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// TracerName is the instrumentation scope of the spans of this package.
const TracerName = "github.com/ddrsuite/ddr/services/platform/consumer"

const (
	// fetchWait bounds one pull request; the loop re-pulls right after.
	fetchWait = 30 * time.Second
	// settleTimeout bounds acks and dead-letter publishes, which must
	// finish even while the runner is being stopped.
	settleTimeout = 5 * time.Second
	// maxRetryPause caps the pause after a failing fetch.
	maxRetryPause = 5 * time.Second
)

// Runner is a started reactor. Stop it with [Runner.Stop].
type Runner struct {
	cfg    Config
	js     jetstream.JetStream
	h      Handler
	log    *slog.Logger
	cons   jetstream.Consumer
	cancel context.CancelFunc
	done   chan struct{}
	// opener is the one of the service that started it (from Start's
	// ctx), for replays, whose ctx is the operator's call.
	opener eventstore.Opener
}

// Start creates or updates the durable consumer, then handles events in
// the background until ctx ends or [Runner.Stop] is called. When Start
// returns without error the consumer exists on the server, so no event
// published from then on can be missed (nor any earlier one: new consumers
// start at the beginning of the stream).
func Start(ctx context.Context, js jetstream.JetStream, cfg Config, h Handler) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrInvalidConfig)
	}
	cfg = cfg.withDefaults()
	r := &Runner{cfg: cfg, js: js, h: h, log: cfg.Logger.With("consumer", cfg.Name), done: make(chan struct{}), opener: eventstore.OpenerFrom(ctx)}
	if err := r.ensureConsumer(ctx); err != nil {
		return nil, err
	}
	lag, err := r.observeLag()
	if err != nil {
		r.log.Warn("consumer lag not observable", "error", err)
	}
	// The series exist from the start, so rate() and alerts see the first
	// redelivery as a change.
	instruments().redelivered.Add(ctx, 0, metric.WithAttributes(attribute.String("consumer", cfg.Name)))
	untrack := track(cfg.Name)
	ctx, r.cancel = context.WithCancel(ctx)
	register(ctx, r)
	go func() {
		defer untrack()
		if lag != nil {
			defer func() { _ = lag.Unregister() }()
		}
		r.loop(ctx)
	}()
	return r, nil
}

// Run starts a reactor and blocks until ctx ends. It returns nil once ctx
// has ended (also during the start), or the error of a failed start.
func Run(ctx context.Context, js jetstream.JetStream, cfg Config, h Handler) error {
	r, err := Start(ctx, js, cfg, h)
	if err != nil {
		if ctx.Err() != nil {
			return nil //nolint:nilerr // documented: a start cut short by ctx ending is a normal stop, not a failure.
		}
		return err
	}
	return r.Wait()
}

// Stop ends the loop after the event in hand is settled, and waits for it.
func (r *Runner) Stop() {
	r.cancel()
	<-r.done
}

// Wait blocks until the runner has stopped. The consumer runs until its
// context ends, so the result is always nil; the error is for symmetry
// with errgroup.
func (r *Runner) Wait() error {
	<-r.done
	return nil
}

// Done is closed when the runner has stopped.
func (r *Runner) Done() <-chan struct{} { return r.done }

// Name is the durable consumer name.
func (r *Runner) Name() string { return r.cfg.Name }

func (r *Runner) ensureConsumer(ctx context.Context) error {
	c, err := r.js.CreateOrUpdateConsumer(ctx, eventstore.StreamName, r.cfg.consumerConfig())
	if err != nil {
		return fmt.Errorf("consumer %s: create or update: %w", r.cfg.Name, err)
	}
	r.cons = c
	return nil
}

func (r *Runner) loop(ctx context.Context) {
	defer close(r.done)
	w := r.startWorkers(ctx)
	// After the pull has stopped: the workers settle what they hold.
	defer w.stop()
	pause := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := r.pull(ctx, w)
		if err == nil || ctx.Err() != nil {
			pause = 100 * time.Millisecond
			continue
		}
		// Transient (disconnected, server restarting) or the consumer was
		// removed: log, recreate if needed, and try again without spinning.
		r.log.Warn("fetch failed", "error", err)
		if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
			if cerr := r.ensureConsumer(ctx); cerr != nil {
				r.log.Error("recreate consumer failed", "error", cerr)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(pause*2, maxRetryPause)
	}
}

// pull hands the consumer's events to the workers as they arrive, until
// ctx ends or the pull fails. The pull is continuous: the client asks for
// more while the workers are busy, so no worker waits for the slowest
// one of a batch, nor for a round trip, before its next event. A reaction
// is a load and an append (an fsync); one batch at a time, a reactor
// could not keep up with intake, whose submits arrive many at once.
//
// What is pulled but not yet handled stays small (a few events per
// worker): each is unacknowledged and its AckWait runs from delivery, so a
// long local queue would have the server redeliver events still waiting
// here.
func (r *Runner) pull(ctx context.Context, w *workers) error {
	it, err := r.cons.Messages(jetstream.PullMaxMessages(r.cfg.fetchSize()), jetstream.PullExpiry(fetchWait))
	if err != nil {
		return err
	}
	defer it.Stop()
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				r.handBack(it)
				return nil
			}
			return err
		}
		w.dispatch(msg)
	}
}

// handBack stops the pull and hands back the events already pulled, so
// the next run (this replica after a restart, or another) gets them now
// rather than after AckWait.
func (r *Runner) handBack(it jetstream.MessagesContext) {
	it.Drain()
	for {
		msg, err := it.Next(jetstream.NextMaxWait(settleTimeout))
		if err != nil {
			return
		}
		_ = msg.Nak()
	}
}

// workers handle each request's events by one worker, in the order
// delivered, different requests in parallel.
type workers struct {
	queues []chan jetstream.Msg
	wg     sync.WaitGroup
}

func (r *Runner) startWorkers(ctx context.Context) *workers {
	w := &workers{queues: make([]chan jetstream.Msg, r.cfg.Workers)}
	for i := range w.queues {
		w.queues[i] = make(chan jetstream.Msg, fetchPerWorker)
		w.wg.Go(func() {
			for msg := range w.queues[i] {
				if ctx.Err() != nil {
					// Stopping: not started, so handed back untouched.
					_ = msg.Nak()
					continue
				}
				r.handle(ctx, msg)
			}
		})
	}
	return w
}

// dispatch queues msg for its request's worker; it blocks while that
// worker's queue is full, which holds back the pull.
func (w *workers) dispatch(msg jetstream.Msg) {
	requestID, _ := eventstore.DescribeSubject(msg.Subject())
	w.queues[workerOf(requestID, len(w.queues))] <- msg
}

// stop lets the workers finish what they hold and waits for them.
func (w *workers) stop() {
	for _, q := range w.queues {
		close(q)
	}
	w.wg.Wait()
}

// workerOf assigns a request to one of n workers, always the same one.
func workerOf(requestID string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(requestID))
	return int(h.Sum32() % uint32(n)) //nolint:gosec // G115: n is a small positive worker count.
}

// handle runs the handler for one message under a CONSUMER span that
// continues the producer's trace, then settles the message: ack, Nak with
// backoff, or dead-letter and terminate.
func (r *Runner) handle(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		// Not a JetStream delivery; nothing sensible to do but drop it.
		r.log.ErrorContext(ctx, "message without JetStream metadata", "error", err)
		return
	}
	start := time.Now()
	subject, hdr := msg.Subject(), msg.Headers()
	requestID, pattern := eventstore.DescribeSubject(subject)
	attempt := meta.NumDelivered
	outcome := outcomeAcked
	defer func() { r.countDelivery(ctx, subject, attempt, start, outcome) }()
	log := r.log.With("request_id", requestID, "subject", pattern, "event_id", hdr.Get(eventstore.HeaderID),
		"stream_seq", meta.Sequence.Stream, "attempt", attempt)

	sctx, span := otel.Tracer(TracerName).Start(eventstore.ContextFromHeaders(ctx, hdr), pattern+" process",
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(eventstore.MessagingAttributes("process", "process", pattern, hdr.Get(eventstore.HeaderID),
			attribute.String("messaging.consumer.group.name", r.cfg.Name),
			attribute.String("ddr.request_id", requestID),
			attribute.Int64("ddr.sequence", int64(meta.Sequence.Stream)),
			attribute.Int64("ddr.delivery_attempt", int64(attempt)),
		)...))
	defer span.End()
	// Every line logged about this event names its trace and request.
	sctx = telemetry.ContextWithRequestID(sctx, requestID)

	ev, err := eventstore.FromMsg(subject, hdr, msg.Data(), meta.Sequence.Stream)
	if err != nil {
		// A forged event (another service's type on this subject) is
		// refused like an undecodable one, but under its own reason, so an
		// operator tells an attack from a bug.
		reason := "undecodable"
		if errors.Is(err, eventstore.ErrForged) {
			reason = "forged"
		}
		eventstore.CountRefused(sctx, "consumer", err)
		span.SetStatus(codes.Error, reason+" event")
		log.ErrorContext(sctx, reason+" event", "error", err)
		outcome = r.deadLetter(sctx, msg, meta, reason, err, log)
		return
	}

	// The personal data of the event is opened here, with the keys of the
	// service the runner started this reactor for (eventstore.WithOpener),
	// so no handler sees a sealed payload or opens one itself. A key that
	// cannot be read now is retried like a failed handler.
	herr := eventstore.Open(sctx, ev)
	if herr == nil {
		herr = r.call(sctx, msg, ev)
	}
	if herr == nil {
		actx, cancel := settleContext(ctx)
		defer cancel()
		if err := msg.DoubleAck(actx); err != nil {
			// The work is done; a redelivery will find it done.
			log.WarnContext(sctx, "ack not confirmed, event may be redelivered", "error", err)
		}
		return
	}
	span.SetStatus(codes.Error, "handler failed")
	span.RecordError(herr)

	switch {
	case ctx.Err() != nil:
		// Stopping: the failure may be the stop itself, so hand the event
		// back for the next run rather than dead-letter it.
		log.InfoContext(sctx, "stopped while handling, event handed back", "error", herr)
		outcome = outcomeHandedBack
		_ = msg.Nak()
	case ddrerr.Classify(herr) == ddrerr.DeadLetter:
		log.ErrorContext(sctx, "permanent handler failure", "error", herr)
		outcome = r.deadLetter(sctx, msg, meta, "permanent", herr, log)
	case ddrerr.Classify(herr) == ddrerr.ClientError:
		// Invalid, refused by policy, unknown, not allowed: the same event
		// will be refused the same way on every attempt.
		log.Error("handler refused the event", "error", herr)
		outcome = r.deadLetter(sctx, msg, meta, "rejected", herr, log)
	case attempt >= uint64(r.cfg.MaxDeliver):
		log.ErrorContext(sctx, "handler failed on the last allowed attempt", "error", herr, "max_deliver", r.cfg.MaxDeliver)
		outcome = r.deadLetter(sctx, msg, meta, "max_deliver", herr, log)
	default:
		delay := r.cfg.delay(attempt)
		log.WarnContext(sctx, "handler failed, will retry", "error", herr, "retry_in", delay)
		outcome = outcomeRetry
		if err := msg.NakWithDelay(delay); err != nil {
			log.WarnContext(sctx, "nak failed, event comes back after AckWait", "error", err)
		}
	}
}

// call runs the handler, turning a panic into an error, and keeps telling
// the server the event is in progress so a slow handler is not raced by a
// redelivery.
func (r *Runner) call(ctx context.Context, msg jetstream.Msg, ev eventstore.Event) (err error) {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(r.cfg.AckWait / 2)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return r.h(ctx, ev)
}

// settleContext keeps trace values but not the cancellation of ctx.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}
