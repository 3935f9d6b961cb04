package consumer

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// Registry is the reactors one process hosts, by durable name, so that an
// operator's replay of a dead letter reaches the handler that gave up on it
// in this process (and not a namesake in another process of the same test).
type Registry struct {
	mu      sync.Mutex
	runners map[string]*Runner
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{runners: map[string]*Runner{}} }

type registryKey struct{}

// WithRegistry makes every reactor started with ctx (or a context derived
// from it) register itself in reg while it runs.
func WithRegistry(ctx context.Context, reg *Registry) context.Context {
	return context.WithValue(ctx, registryKey{}, reg)
}

// Lookup returns the running reactor named name.
func (g *Registry) Lookup(name string) (*Runner, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.runners[name]
	return r, ok
}

// Names lists the running reactors, sorted.
func (g *Registry) Names() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(g.runners))
	for n := range g.runners {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// register adds r to the registry of ctx, if any, until r stops.
func register(ctx context.Context, r *Runner) {
	g, _ := ctx.Value(registryKey{}).(*Registry)
	if g == nil {
		return
	}
	g.mu.Lock()
	g.runners[r.cfg.Name] = r
	g.mu.Unlock()
	go func() {
		<-r.done
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.runners[r.cfg.Name] == r {
			delete(g.runners, r.cfg.Name)
		}
	}()
}

// Replay runs the handler once on ev, outside the delivery loop: an
// operator handing back a dead letter after fixing its cause. The event is
// not redelivered and nothing is acked; the handler's idempotency makes a
// replay of an already handled event append nothing.
func (r *Runner) Replay(ctx context.Context, ev eventstore.Event) (err error) {
	requestID, pattern := eventstore.DescribeSubject(ev.Subject)
	ctx, span := otel.Tracer(TracerName).Start(ctx, pattern+" replay",
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.consumer.group.name", r.cfg.Name),
			attribute.String("ddr.request_id", requestID),
			attribute.Int64("ddr.sequence", int64(ev.Sequence)),
		))
	defer span.End()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
		if err != nil {
			span.SetStatus(codes.Error, "replay failed")
			r.log.Error("replay failed", "request_id", requestID, "stream_seq", ev.Sequence, "error", err)
			return
		}
		r.log.Info("dead letter replayed", "request_id", requestID, "stream_seq", ev.Sequence)
	}()
	// The event comes from the admin's store, sealed: open it as this
	// reactor's service, as a delivery would be.
	if err := eventstore.Open(eventstore.WithOpener(ctx, r.opener), ev); err != nil {
		return err
	}
	return r.h(ctx, ev)
}
