package eventstore

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
)

// Personal data is sealed here, in the one place every event passes
// through, so that no service can forget it: [Store.Append] seals the
// payload's marked fields (ddr.options.v1.personal) before the event is
// encoded, and reads by a service entitled to the content ([Store.Load],
// [Store.GetBySequence], consumer deliveries and projections through
// [Decode]) open them again. The sealing itself is package seal's (this
// package cannot import it: seal's keys live in a KV bucket this package
// manages); the runner wires a seal.Sealer per service.

// Opener restores the sealed fields of a payload in place. A payload
// without sealed fields is left as it is; fields whose key was erased
// stay empty.
type Opener interface {
	OpenPayload(ctx context.Context, requestID string, msg proto.Message) error
}

// Sealer seals payloads for the stream and opens them again.
type Sealer interface {
	Opener
	// Sealed returns a copy of msg with its marked fields sealed (msg
	// itself if it has none set), leaving msg as it is.
	Sealed(ctx context.Context, requestID string, msg proto.Message) (proto.Message, error)
}

// WithSealer seals the personal data of every appended event with s and
// opens it on [Store.Load] and [Store.GetBySequence]: the store of a
// service entitled to read the content.
func WithSealer(s Sealer) Option {
	return func(st *Store) { st.sealer, st.opener = s, s }
}

// WithSealOnly seals the personal data of every appended event with s but
// leaves what it reads sealed: the store of a service that records facts
// about requests without being entitled to whom they are about.
func WithSealOnly(s Sealer) Option {
	return func(st *Store) { st.sealer, st.opener = s, nil }
}

type openerKey struct{}

// WithOpener returns ctx carrying o: consumers and projections started
// with it open the events they deliver ([Decode]). The runner sets it per
// component, with the component's own keys.
func WithOpener(ctx context.Context, o Opener) context.Context {
	return context.WithValue(ctx, openerKey{}, o)
}

// OpenerFrom returns the opener ctx carries, or nil.
func OpenerFrom(ctx context.Context) Opener {
	o, _ := ctx.Value(openerKey{}).(Opener)
	return o
}

// Open opens ev's payload, in place, with the opener ctx carries (if
// any): what consumers and projections call on each delivered event.
func Open(ctx context.Context, ev Event) error { return open(ctx, OpenerFrom(ctx), ev) }

func open(ctx context.Context, o Opener, ev Event) error {
	if o == nil || ev.Payload == nil {
		return nil
	}
	if err := o.OpenPayload(ctx, ev.RequestID, ev.Payload); err != nil {
		return fmt.Errorf("eventstore: open sealed fields of %s seq %d: %w", ev.Type, ev.Sequence, err)
	}
	return nil
}

// seal returns ev with its payload sealed, when the store seals.
func (s *Store) seal(ctx context.Context, ev Event) (Event, error) {
	if s.sealer == nil || ev.Payload == nil {
		return ev, nil
	}
	p, err := s.sealer.Sealed(ctx, ev.RequestID, ev.Payload)
	if err != nil {
		return Event{}, fmt.Errorf("eventstore: seal %s: %w", ev.Type, err)
	}
	ev.Payload = p
	return ev, nil
}
