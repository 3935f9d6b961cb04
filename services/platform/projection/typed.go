package projection

import (
	"google.golang.org/protobuf/proto"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// TypedApply folds one event type into a read model; made by [On].
type TypedApply struct {
	kind  eventstore.EventKind
	apply Apply
}

// On makes the apply function of the event type T, the projection's
// counterpart of consumer.On:
//
//	filters, apply := projection.Dispatch(
//		projection.On(func(ev eventstore.Event, p *intakev1.RequestReceived) error { return v.receive(ev, p) }),
//		projection.On(func(ev eventstore.Event, p *notificationv1.RequestCleared) error { return v.clear(ev, p) }),
//	)
//	p, err := projection.Start(ctx, js, filters, apply, logger)
//
// It panics when T is not a declared event.
func On[T proto.Message](f func(ev eventstore.Event, payload T) error) TypedApply {
	return TypedApply{kind: eventstore.Kind[T](), apply: func(ev eventstore.Event) error {
		p, ok := ev.Payload.(T)
		if !ok {
			return nil // not this type: cannot arrive through the filters
		}
		return f(ev, p)
	}}
}

// Dispatch combines typed apply functions: the filters are their types'
// subject patterns, and each event goes to the function of its type.
func Dispatch(as ...TypedApply) (filters []string, apply Apply) {
	byType := make(map[string]Apply, len(as))
	for _, a := range as {
		if _, dup := byType[a.kind.Type]; dup {
			panic("projection: two apply functions for " + a.kind.Type)
		}
		byType[a.kind.Type] = a.apply
		filters = append(filters, a.kind.Pattern())
	}
	return filters, func(ev eventstore.Event) error {
		if f, ok := byType[ev.Type]; ok {
			return f(ev)
		}
		return nil
	}
}
