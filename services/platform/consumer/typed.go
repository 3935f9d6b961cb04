package consumer

import (
	"context"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// TypedHandler is one event type's handler, made by [On]. Its subject
// pattern is derived from the type's declaration in the proto contract, so
// renaming or removing the event breaks the build of the handler instead
// of silently stopping the flow.
type TypedHandler struct {
	kind eventstore.EventKind
	h    Handler
}

// On makes the handler of the event type T:
//
//	consumer.On(func(ctx context.Context, ev eventstore.Event, p *intakev1.RequestReceived) error {
//		return a.OpenCase(ctx, ev.ID, p)
//	})
//
// It panics when T is not a declared event (a programming error the first
// test finds).
func On[T proto.Message](f func(ctx context.Context, ev eventstore.Event, payload T) error) TypedHandler {
	k := eventstore.Kind[T]()
	return TypedHandler{kind: k, h: func(ctx context.Context, ev eventstore.Event) error {
		p, ok := ev.Payload.(T)
		if !ok {
			// The subject filter and the authenticity check make this
			// unreachable; if it is reached, retrying will not help.
			return Permanent(fmt.Errorf("consumer: event %s carries %s, want %s", ev.Subject, ev.Type, k.Type))
		}
		return f(ctx, ev, p)
	}}
}

// Pattern is the subject pattern the handler's events arrive on.
func (t TypedHandler) Pattern() string { return t.kind.Pattern() }

// Handler returns the untyped [Handler].
func (t TypedHandler) Handler() Handler { return t.h }

// Reactor combines typed handlers into one consumer: its FilterSubjects are
// the handlers' patterns, and each event goes to the handler of its type.
// An event of another type (it cannot arrive through the filters) is
// dead-lettered as permanent.
//
//	r := consumer.Reactor(
//		consumer.On(func(ctx context.Context, ev eventstore.Event, p *notificationv1.RequestCleared) error { ... }),
//		consumer.On(func(ctx context.Context, ev eventstore.Event, p *intakev1.RequestWithdrawn) error { ... }),
//	)
//	cfg := consumer.Config{Name: "reporting-seal", FilterSubjects: r.FilterSubjects()}
//	runner, err := consumer.Start(ctx, js, cfg, r.Handler())
type ReactorHandlers struct {
	byType   map[string]Handler
	patterns []string
}

// Reactor builds a [ReactorHandlers] from typed handlers. It panics on two
// handlers of one type (a programming error).
func Reactor(hs ...TypedHandler) ReactorHandlers {
	r := ReactorHandlers{byType: make(map[string]Handler, len(hs))}
	for _, h := range hs {
		if _, dup := r.byType[h.kind.Type]; dup {
			panic("consumer: two handlers for " + h.kind.Type)
		}
		r.byType[h.kind.Type] = h.h
		r.patterns = append(r.patterns, h.kind.Pattern())
	}
	return r
}

// FilterSubjects are the subject patterns of the handlers' types, for
// [Config.FilterSubjects].
func (r ReactorHandlers) FilterSubjects() []string { return slices.Clone(r.patterns) }

// Handles reports whether one of the handlers takes events of ev's type.
func (r ReactorHandlers) Handles(ev eventstore.Event) bool {
	_, ok := r.byType[ev.Type]
	return ok
}

// Handler dispatches each event to the handler of its type.
func (r ReactorHandlers) Handler() Handler {
	return func(ctx context.Context, ev eventstore.Event) error {
		h, ok := r.byType[ev.Type]
		if !ok {
			return Permanent(fmt.Errorf("consumer: no handler for %s on %s", ev.Type, ev.Subject))
		}
		return h(ctx, ev)
	}
}

// Start runs the reactor as the durable consumer cfg describes, with
// cfg.FilterSubjects set to the handlers' patterns (any given are
// replaced).
func (r ReactorHandlers) Start(ctx context.Context, js jetstream.JetStream, cfg Config) (*Runner, error) {
	cfg.FilterSubjects = r.FilterSubjects()
	return Start(ctx, js, cfg, r.Handler())
}
