package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Header names of the envelope. CloudEvents binary-mode names are
// lowercase, and so are the W3C trace headers; NATS headers are
// case-sensitive, so these exact spellings are the contract.
const (
	HeaderID          = "ce-id"
	HeaderType        = "ce-type"
	HeaderSource      = "ce-source"
	HeaderTime        = "ce-time"
	HeaderSpecVersion = "ce-specversion"
	HeaderActor       = "ddr-actor"
	HeaderContentType = "content-type"
	HeaderMsgID       = jetstream.MsgIDHeader
	// HeaderPart is "k/n" on the k-th of n events of one decision that
	// were appended one by one ([Event.Part]). Not in the record's hash:
	// it tells other writers to let the decision finish (Store.Update).
	HeaderPart = "ddr-part"

	SpecVersion         = "1.0"
	ContentTypeProtobuf = "application/protobuf"
)

// Event is one fact about a request. Payload is a message of the emitting
// service's proto package; its full name is the event type.
type Event struct {
	// ID is unique per event and doubles as Nats-Msg-Id, so a retried
	// publish is deduplicated. If empty on append, a UUIDv7 is generated;
	// reactors should set a deterministic one (see [DerivedID]).
	ID        string
	RequestID string
	// Service is the emitting service, e.g. "intake", and Name the event
	// name within it, e.g. "received". Leave both empty: on append they are
	// taken from the payload's declared subject (see [Kind]); if set, they
	// must match it.
	Service string
	Name    string
	// Source defaults to "ddr/<Service>".
	Source string
	// Type is proto.MessageName(Payload); set on append and decode.
	Type string
	// Time defaults to now (UTC) on append.
	Time time.Time
	// Actor is who caused the event (a SPIFFE-style URI); may be empty.
	Actor   string
	Payload proto.Message
	// Sequence is the stream sequence; set when loaded or appended.
	Sequence uint64
	// Subject is ddr.req.<RequestID>.<Service>.<Name>; set on append and decode.
	Subject string
	// Part and Parts say that the event is the Part-th (from 1) of the
	// Parts events of one decision appended one by one (HeaderPart); both
	// are 0 for an event appended alone or in an atomic batch. Set on
	// append and decode.
	Part, Parts uint16
}

// Errors of encoding and decoding. Compare with errors.Is.
var (
	// ErrInvalidEvent: the event cannot be written as given.
	ErrInvalidEvent = errors.New("eventstore: invalid event")
	// ErrUnknownType: ce-type names a message this binary does not know.
	ErrUnknownType = errors.New("eventstore: unknown event type")
	// ErrMalformed: headers or payload cannot be decoded.
	ErrMalformed = errors.New("eventstore: malformed event")
)

// DecodeError says which stored message could not be decoded and why. It
// matches [ErrUnknownType], [ErrMalformed] or [ErrForged] with errors.Is.
type DecodeError struct {
	Subject  string
	Sequence uint64
	Type     string // ce-type as found, may be empty
	Kind     error  // ErrUnknownType, ErrMalformed or ErrForged
	Err      error  // cause, may be nil
}

func (e *DecodeError) Error() string {
	msg := fmt.Sprintf("%v: subject %s seq %d", e.Kind, e.Subject, e.Sequence)
	if e.Type != "" {
		msg += " type " + e.Type
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Permanent reports that retrying cannot decode the event: ddrerr.Classify
// says DeadLetter.
func (e *DecodeError) Permanent() bool { return true }

func (e *DecodeError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// derivedNamespace scopes [DerivedID] so our ids cannot collide with other
// name-based UUIDs.
var derivedNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://ddrsuite.github.io/ddr/event-id"))

// DerivedID returns a stable event id computed from parts, typically the id
// of the event being reacted to and the name of the reaction. A reactor that
// handles the same event twice then produces the same id twice, which both
// the history check and the Nats-Msg-Id dedupe recognise.
func DerivedID(parts ...string) string {
	return uuid.NewSHA1(derivedNamespace, []byte(strings.Join(parts, "\x00"))).String()
}

// normalize fills the defaults of ev and checks that it can be written.
func normalize(ev Event) (Event, error) {
	var errs []error
	if ev.Payload != nil {
		if k, err := KindOfMessage(ev.Payload); err == nil {
			if ev.Service == "" && ev.Name == "" {
				ev.Service, ev.Name = k.Service, k.Name
			} else if ev.Service != k.Service || ev.Name != k.Name {
				errs = append(errs, fmt.Errorf("%s.%s does not match %s, declared as %s.%s", ev.Service, ev.Name, k.Type, k.Service, k.Name))
			}
		} else if strings.HasPrefix(string(proto.MessageName(ev.Payload)), "ddr.") {
			// No service publishes a ddr message that is not an event;
			// readers would refuse it (see [ErrForged]).
			errs = append(errs, err)
		}
	}
	for _, f := range []struct{ field, v string }{
		{"RequestID", ev.RequestID}, {"Service", ev.Service}, {"Name", ev.Name},
	} {
		if err := ValidateToken(f.v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.field, err))
		}
	}
	subject := Subject(ev.RequestID, ev.Service, ev.Name)
	if ev.Subject != "" && ev.Subject != subject {
		errs = append(errs, fmt.Errorf("Subject %q does not match %q", ev.Subject, subject))
	}
	ev.Subject = subject
	if ev.Payload == nil || !ev.Payload.ProtoReflect().IsValid() {
		errs = append(errs, errors.New("payload is required"))
	} else {
		typ := string(proto.MessageName(ev.Payload))
		if ev.Type != "" && ev.Type != typ {
			errs = append(errs, fmt.Errorf("type %q does not match payload %q", ev.Type, typ))
		}
		ev.Type = typ
	}
	if ev.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return Event{}, fmt.Errorf("eventstore: generate id: %w", err)
		}
		ev.ID = id.String()
	} else if !headerSafe(ev.ID) || strings.ContainsRune(ev.ID, ' ') {
		errs = append(errs, errors.New("ID must be printable without spaces"))
	}
	if ev.Source == "" {
		ev.Source = "ddr/" + ev.Service
	} else if ev.Source != "ddr/"+ev.Service {
		// Readers refuse any other source as forged.
		errs = append(errs, fmt.Errorf("Source %q is not ddr/%s", ev.Source, ev.Service))
	}
	if !headerSafe(ev.Actor) {
		errs = append(errs, errors.New("actor must be printable"))
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Time = ev.Time.UTC()
	if len(errs) > 0 {
		return Event{}, fmt.Errorf("%w: %w", ErrInvalidEvent, errors.Join(errs...))
	}
	return ev, nil
}

// headerSafe rejects what would break the NATS header block (CR, LF) or
// hide in logs (other control characters).
func headerSafe(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// ToMsg encodes ev as a NATS message: CloudEvents headers, Nats-Msg-Id =
// ce-id, the trace context of ctx, and the protobuf payload. Missing id and
// time are filled in (read them back from the headers).
func ToMsg(ctx context.Context, ev Event) (*nats.Msg, error) {
	ev, err := normalize(ev)
	if err != nil {
		return nil, err
	}
	data, err := marshalOpts.Marshal(ev.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: marshal payload: %w", ErrInvalidEvent, err)
	}
	m := nats.NewMsg(ev.Subject)
	m.Data = data
	h := m.Header
	h.Set(HeaderID, ev.ID)
	h.Set(HeaderMsgID, ev.ID)
	h.Set(HeaderType, ev.Type)
	h.Set(HeaderSource, ev.Source)
	h.Set(HeaderTime, ev.Time.Format(time.RFC3339Nano))
	h.Set(HeaderSpecVersion, SpecVersion)
	h.Set(HeaderContentType, ContentTypeProtobuf)
	h.Set(HeaderActor, ev.Actor)
	if ev.Parts > 1 {
		h.Set(HeaderPart, partHeader(ev.Part, ev.Parts))
	}
	otel.GetTextMapPropagator().Inject(ctx, HeaderCarrier(h))
	return m, nil
}

// FromMsg decodes a stored message. The payload type is resolved from
// ce-type through the global protobuf registry, so the binary must link the
// proto package of every event type it reads. Errors are [*DecodeError].
//
// An event that is not what its subject says (another service's type, a
// name that is not its type's, a foreign ce-source) is refused with
// [ErrForged]: NATS permissions let a service publish on its own subjects,
// and this check makes sure it can only publish its own events there.
func FromMsg(subject string, h nats.Header, data []byte, seq uint64) (Event, error) {
	typ := h.Get(HeaderType)
	fail := func(kind error, err error) (Event, error) {
		return Event{}, &DecodeError{Subject: subject, Sequence: seq, Type: typ, Kind: kind, Err: err}
	}
	reqID, svc, name, err := ParseSubject(subject)
	if err != nil {
		return fail(ErrMalformed, err)
	}
	id := h.Get(HeaderID)
	if id == "" {
		return fail(ErrMalformed, errors.New("missing "+HeaderID))
	}
	if v := h.Get(HeaderSpecVersion); v != SpecVersion {
		return fail(ErrMalformed, fmt.Errorf("%s %q", HeaderSpecVersion, v))
	}
	if ct := h.Get(HeaderContentType); ct != "" && ct != ContentTypeProtobuf {
		return fail(ErrMalformed, fmt.Errorf("%s %q", HeaderContentType, ct))
	}
	ts, err := time.Parse(time.RFC3339Nano, h.Get(HeaderTime))
	if err != nil {
		return fail(ErrMalformed, fmt.Errorf("%s: %w", HeaderTime, err))
	}
	if typ == "" {
		return fail(ErrMalformed, errors.New("missing "+HeaderType))
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typ))
	if err != nil {
		if errors.Is(err, protoregistry.NotFound) {
			return fail(ErrUnknownType, nil)
		}
		return fail(ErrMalformed, err)
	}
	if err := authentic(svc, name, h.Get(HeaderSource), mt.Descriptor()); err != nil {
		return fail(ErrForged, err)
	}
	payload := mt.New().Interface()
	if err := proto.Unmarshal(data, payload); err != nil {
		return fail(ErrMalformed, err)
	}
	// nats.go decodes a message's header block into one string and every
	// header value is a slice of it, so an event keeping any of them
	// would keep the whole block (trace context and all, some 400 bytes)
	// as long as a read model keeps the event: a third of what the
	// projections held per request at start-up over a long record (issue
	// 19). The event keeps copies of its own; type and source, which
	// repeat, share the registry's strings.
	part, parts := parsePart(h.Get(HeaderPart))
	return Event{
		Part:      part,
		Parts:     parts,
		ID:        strings.Clone(id),
		RequestID: reqID,
		Service:   svc,
		Name:      name,
		Source:    sourceOf(mt.Descriptor(), h.Get(HeaderSource)),
		Type:      string(mt.Descriptor().FullName()),
		Time:      ts.UTC(),
		Actor:     strings.Clone(h.Get(HeaderActor)),
		Payload:   payload,
		Sequence:  seq,
		Subject:   subject,
	}, nil
}

// ContextFromHeaders returns ctx carrying the remote trace context found in
// h, so work done for an event joins the trace that produced it.
func ContextFromHeaders(ctx context.Context, h nats.Header) context.Context {
	return otel.GetTextMapPropagator().Extract(ctx, HeaderCarrier(h))
}

// HeaderCarrier adapts nats.Header to the OpenTelemetry propagators while
// keeping keys lowercase ("traceparent"). propagation.HeaderCarrier would
// canonicalise them to "Traceparent", and NATS headers are case-sensitive.
type HeaderCarrier nats.Header

// Get returns the first value of key (matched lowercase).
func (c HeaderCarrier) Get(key string) string {
	if v := c[strings.ToLower(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set stores value under the lowercase key.
func (c HeaderCarrier) Set(key, value string) { c[strings.ToLower(key)] = []string{value} }

// Keys lists the keys present.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

func partHeader(part, parts uint16) string {
	return strconv.Itoa(int(part)) + "/" + strconv.Itoa(int(parts))
}

// parsePart reads HeaderPart; anything but "k/n" with 1 <= k <= n is no
// mark (0, 0): the header is a hint to writers, never a reason to refuse
// an event.
func parsePart(v string) (part, parts uint16) {
	if v == "" {
		return 0, 0
	}
	a, b, ok := strings.Cut(v, "/")
	if !ok {
		return 0, 0
	}
	k, err1 := strconv.ParseUint(a, 10, 16)
	n, err2 := strconv.ParseUint(b, 10, 16)
	if err1 != nil || err2 != nil || k < 1 || k > n {
		return 0, 0
	}
	return uint16(k), uint16(n)
}
