package eventstore

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	optionsv1 "github.com/ddrsuite/ddr/gen/ddr/options/v1"
)

// The event registry: which message is published under which subject. It is
// read from the (ddr.options.v1.event) option declared beside each event
// message in proto/ddr/<service>/v1/events.proto, through the protobuf
// registry of the binary, so the subject of an event is written once, in the
// contract, and code asks for it by type:
//
//	eventstore.PatternOf[*intakev1.RequestReceived]()  // "ddr.req.*.intake.received"
//	eventstore.SubjectOf(id, &intakev1.RequestReceived{}) // "ddr.req.<id>.intake.received"
//	eventstore.Event{Payload: &intakev1.RequestReceived{...}} // Service, Name filled on append
//
// Renaming an event in Go (or deleting it) then breaks the build of every
// consumer that names it, instead of silently stopping its flow.

// EventKind is the declared subject of an event type.
type EventKind struct {
	// Type is the message's full name, the ce-type, e.g. "ddr.intake.v1.RequestReceived".
	Type string
	// Service is the emitting service: the second token of the proto
	// package ddr.<service>.v1.
	Service string
	// Name is the declared event name, the subject's last token.
	Name string
}

// Pattern is the subject pattern of the kind: ddr.req.*.<service>.<name>.
func (k EventKind) Pattern() string { return SubjectPattern(k.Service, k.Name) }

// Subject is the subject of the kind for one request.
func (k EventKind) Subject(requestID string) string { return Subject(requestID, k.Service, k.Name) }

// QualifiedName is "<service>.<name>", e.g. "intake.received".
func (k EventKind) QualifiedName() string { return k.Service + "." + k.Name }

// Source is the ce-source the kind's service writes: ddr/<service>.
func (k EventKind) Source() string { return "ddr/" + k.Service }

// ErrNotEvent: a message is not declared as an event (it has no
// (ddr.options.v1.event) option).
var ErrNotEvent = errors.New("eventstore: message is not a declared event")

var kinds sync.Map // protoreflect.FullName -> kindEntry

type kindEntry struct {
	kind EventKind
	err  error
	// source is kind.Source(), made once: the ce-source every decoded
	// event of the kind shares (see FromMsg).
	source string
}

// KindOf returns the declared subject of the message type d. Messages
// outside the ddr.* packages (well-known types, used by the platform's own
// tests) and messages without the option give [ErrNotEvent].
func KindOf(d protoreflect.MessageDescriptor) (EventKind, error) {
	if e, ok := kinds.Load(d.FullName()); ok {
		if ent, ok := e.(kindEntry); ok {
			return ent.kind, ent.err
		}
	}
	k, err := kindOf(d)
	ent := kindEntry{kind: k, err: err}
	if err == nil {
		ent.source = k.Source()
	}
	kinds.Store(d.FullName(), ent)
	return k, err
}

// sourceOf returns source, the ce-source of an event of type d, as a
// string of its own: the one its kind's events share for a declared
// event, a copy for another.
func sourceOf(d protoreflect.MessageDescriptor, source string) string {
	if _, err := KindOf(d); err == nil {
		if e, ok := kinds.Load(d.FullName()); ok {
			if ent, ok := e.(kindEntry); ok && ent.source == source {
				return ent.source
			}
		}
	}
	return strings.Clone(source)
}

func kindOf(d protoreflect.MessageDescriptor) (EventKind, error) {
	opts := d.Options()
	if opts == nil || !proto.HasExtension(opts, optionsv1.E_Event) {
		return EventKind{}, fmt.Errorf("%w: %s", ErrNotEvent, d.FullName())
	}
	eo, _ := proto.GetExtension(opts, optionsv1.E_Event).(*optionsv1.EventOptions)
	pkg := strings.Split(string(d.ParentFile().Package()), ".")
	if len(pkg) != 3 || pkg[0] != "ddr" {
		return EventKind{}, fmt.Errorf("%w: %s: package is not ddr.<service>.<version>", ErrNotEvent, d.FullName())
	}
	k := EventKind{Type: string(d.FullName()), Service: pkg[1], Name: eo.GetName()}
	if err := ValidateToken(k.Name); err != nil {
		return EventKind{}, fmt.Errorf("%w: %s: name: %w", ErrNotEvent, d.FullName(), err)
	}
	return k, nil
}

// KindOfMessage is [KindOf] for a message value.
func KindOfMessage(m proto.Message) (EventKind, error) {
	if m == nil {
		return EventKind{}, fmt.Errorf("%w: nil message", ErrNotEvent)
	}
	return KindOf(m.ProtoReflect().Descriptor())
}

// Kind returns the declared subject of the event type T. It panics when T
// is not a declared event: that is a programming error found by the first
// test that runs the code, and it lets Kind be used in package-level vars.
func Kind[T proto.Message]() EventKind {
	var zero T
	k, err := KindOfMessage(zero)
	if err != nil {
		panic(err)
	}
	return k
}

// PatternOf is the subject pattern of the event type T,
// ddr.req.*.<service>.<name>, for consumer filters and span names.
func PatternOf[T proto.Message]() string { return Kind[T]().Pattern() }

// SubjectOf is the subject msg is published under for requestID. It panics
// when msg is not a declared event (see [Kind]).
func SubjectOf(requestID string, msg proto.Message) string {
	k, err := KindOfMessage(msg)
	if err != nil {
		panic(err)
	}
	return k.Subject(requestID)
}

// ServicePattern selects every event a service emits: ddr.req.*.<service>.>.
func ServicePattern(service string) string { return SubjectPrefix + ".*." + service + ".>" }

// Kinds lists every declared event type linked into the binary, in no
// particular order: the registry as data, e.g. for docs and tests.
func Kinds() []EventKind {
	var out []EventKind
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		if k, err := KindOf(mt.Descriptor()); err == nil {
			out = append(out, k)
		}
		return true
	})
	return out
}

// ErrForged: a stored event claims to be what it is not. Its ce-type is an
// event of another service than the subject's, or its subject name is not
// its type's declared name, or its ce-source is not the subject's service.
// Such an event can only come from a publisher that may write on the
// subject but not emit the type (another service's credentials); it is
// refused wherever events are read (decode fails with a [*DecodeError]
// whose Kind is ErrForged).
var ErrForged = errors.New("eventstore: forged event")

// authentic checks a decoded event against the registry (see [ErrForged]).
// Payload types outside ddr.* (the platform's own tests use well-known
// types) are not events of any service: only their ce-source is checked.
// A ddr.* message that is not a declared event is refused: no service
// publishes one.
func authentic(svc, name, source string, d protoreflect.MessageDescriptor) error {
	if want := "ddr/" + svc; source != want {
		return fmt.Errorf("ce-source %q is not %q", source, want)
	}
	k, err := KindOf(d)
	if err != nil {
		if strings.HasPrefix(string(d.FullName()), "ddr.") {
			return fmt.Errorf("type %s is not a declared event", d.FullName())
		}
		return nil
	}
	if k.Service != svc {
		return fmt.Errorf("type %s belongs to service %s, not %s", k.Type, k.Service, svc)
	}
	if k.Name != name {
		return fmt.Errorf("type %s is published as %s, not %s", k.Type, k.Name, name)
	}
	return nil
}
