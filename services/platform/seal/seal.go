// Package seal keeps personal data out of the stream in clear. The stream
// can never be rewritten, so a personal datum in an event can only be
// forgotten by destroying the key it was sealed with (crypto-shredding).
//
// The contract says which fields hold personal data: the field option
// ddr.options.v1.personal (proto/ddr/options/v1/personal.proto), of kind
// SUBJECT (whom the request is about; shredded at the end of retention) or
// RECORD (the company's written record of what it did; kept longer). A
// [Sealer] walks a message reflectively (nested messages and repeated
// fields included), takes every marked field out, and seals them, per
// kind, with the request's data key of that kind (package keys). [Sealer.Open]
// puts them back for authorised reads. Erasing the SUBJECT key leaves the
// RECORD fields readable.
//
// # Where the envelope lives
//
// The sealed fields travel inside the event's own payload, as one extra
// field with the number [EnvelopeField] that no message declares (an
// unknown field to every decoder). Not in a header, because:
//   - the payload is what reporting's hash chain digests, so the sealed
//     fields are covered by the tamper-evident record; the ciphertext never
//     changes, so the chain still verifies after a key is shredded;
//   - the event stays one self-contained protobuf value: whatever copies
//     the payload (dead letters, replays, exports) copies its sealed part;
//   - decoders that know nothing of sealing skip an unknown field, and
//     proto keeps it, so a message passes through untouched.
//
// An event written before sealing (the golden corpus) has no envelope:
// Open leaves it as it is.
//
// The envelope (protobuf wire format) holds field 1, the format version;
// field 2, the SUBJECT ciphertext; field 3, the RECORD ciphertext. Each
// ciphertext seals a message of the event's own type that holds only the
// marked fields of that kind, on the same paths (repeated elements keep
// their index), under the label "seal/<kind>/<message full name>".
package seal

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	optionsv1 "github.com/ddrsuite/ddr/gen/ddr/options/v1"
	"github.com/ddrsuite/ddr/services/platform/keys"
)

// EnvelopeField is the field number of the envelope in a sealed message.
// No ddr message may declare it (a test checks every registered one).
const EnvelopeField protowire.Number = 536870000

const envelopeVersion = 1

// Keyring is what a Sealer needs of package keys.
type Keyring interface {
	SealKind(ctx context.Context, requestID string, kind keys.Kind, label string, plaintext []byte) ([]byte, error)
	OpenKind(ctx context.Context, requestID string, kind keys.Kind, label string, sealed []byte) ([]byte, error)
}

// Sealer seals and opens the marked fields of messages.
type Sealer struct{ keys Keyring }

// New returns a Sealer over k.
func New(k Keyring) *Sealer { return &Sealer{keys: k} }

// Kinds in the order they are sealed.
var kinds = []optionsv1.PersonalKind{optionsv1.PersonalKind_PERSONAL_KIND_SUBJECT, optionsv1.PersonalKind_PERSONAL_KIND_RECORD}

func keyKind(k optionsv1.PersonalKind) keys.Kind {
	if k == optionsv1.PersonalKind_PERSONAL_KIND_RECORD {
		return keys.Record
	}
	return keys.Subject
}

func label(k optionsv1.PersonalKind, md protoreflect.MessageDescriptor) string {
	return "seal/" + keyKind(k).String() + "/" + string(md.FullName())
}

// Seal takes every marked field out of msg, in place, and adds the sealed
// envelope to it. A message without marked fields set is left alone. msg
// must not already hold an envelope. In place means every message msg
// shares (a request the caller still holds, say) loses its marked fields
// too; [Sealer.Sealed] works on a copy.
func (s *Sealer) Seal(ctx context.Context, requestID string, msg proto.Message) error {
	m := msg.ProtoReflect()
	if _, ok := envelopeOf(m); ok {
		return errors.New("seal: message is sealed already")
	}
	var env []byte
	for _, k := range kinds {
		shadow, ok := take(m, k)
		if !ok {
			continue
		}
		pt, err := proto.MarshalOptions{Deterministic: true}.Marshal(shadow.Interface())
		if err != nil {
			return fmt.Errorf("seal: %w", err)
		}
		ct, err := s.keys.SealKind(ctx, requestID, keyKind(k), label(k, m.Descriptor()), pt)
		if err != nil {
			return fmt.Errorf("seal %s fields: %w", keyKind(k), err)
		}
		if env == nil {
			env = protowire.AppendTag(env, 1, protowire.VarintType)
			env = protowire.AppendVarint(env, envelopeVersion)
		}
		env = protowire.AppendTag(env, envelopeNumber(k), protowire.BytesType)
		env = protowire.AppendBytes(env, ct)
	}
	if env == nil {
		return nil
	}
	u := m.GetUnknown()
	u = protowire.AppendTag(u, EnvelopeField, protowire.BytesType)
	u = protowire.AppendBytes(u, env)
	m.SetUnknown(u)
	return nil
}

// Sealed returns a sealed copy of msg and leaves msg as it is.
func (s *Sealer) Sealed(ctx context.Context, requestID string, msg proto.Message) (proto.Message, error) {
	c := proto.Clone(msg)
	if err := s.Seal(ctx, requestID, c); err != nil {
		return nil, err
	}
	return c, nil
}

func envelopeNumber(k optionsv1.PersonalKind) protowire.Number {
	if k == optionsv1.PersonalKind_PERSONAL_KIND_RECORD {
		return 3
	}
	return 2
}

// Opened says what [Sealer.Open] could not restore.
type Opened struct {
	// Erased lists the kinds whose key was erased: their fields stay empty.
	Erased []keys.Kind
}

// Open restores the marked fields of msg from its envelope, in place, and
// removes the envelope. A message without an envelope (written before
// sealing) is left as it is. A kind whose key was erased stays empty and is
// reported in Opened.Erased; the other kind is still restored.
func (s *Sealer) Open(ctx context.Context, requestID string, msg proto.Message) (Opened, error) {
	var res Opened
	m := msg.ProtoReflect()
	env, ok := envelopeOf(m)
	if !ok {
		return res, nil
	}
	parts, err := parseEnvelope(env)
	if err != nil {
		return res, err
	}
	for _, k := range kinds {
		ct, ok := parts[envelopeNumber(k)]
		if !ok {
			continue
		}
		pt, err := s.keys.OpenKind(ctx, requestID, keyKind(k), label(k, m.Descriptor()), ct)
		if errors.Is(err, keys.ErrErased) {
			res.Erased = append(res.Erased, keyKind(k))
			continue
		}
		if err != nil {
			return res, fmt.Errorf("open %s fields: %w", keyKind(k), err)
		}
		shadow := m.New()
		if err := proto.Unmarshal(pt, shadow.Interface()); err != nil {
			return res, fmt.Errorf("seal: %s fields: %w", keyKind(k), err)
		}
		if err := restore(m, shadow); err != nil {
			return res, err
		}
	}
	m.SetUnknown(withoutEnvelope(m.GetUnknown()))
	return res, nil
}

// IsSealed reports whether msg carries an envelope.
func IsSealed(msg proto.Message) bool {
	_, ok := envelopeOf(msg.ProtoReflect())
	return ok
}

func envelopeOf(m protoreflect.Message) ([]byte, bool) {
	b := m.GetUnknown()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		if num == EnvelopeField && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, false
			}
			return v, true
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
	}
	return nil, false
}

func withoutEnvelope(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return out
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return out
		}
		if num != EnvelopeField {
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return out
}

func parseEnvelope(b []byte) (map[protowire.Number][]byte, error) {
	out := map[protowire.Number][]byte{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, errors.New("seal: malformed envelope")
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 || v != envelopeVersion {
				return nil, fmt.Errorf("seal: envelope version %d unknown", v)
			}
			b = b[n:]
		case typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, errors.New("seal: malformed envelope")
			}
			out[num] = v
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, errors.New("seal: malformed envelope")
			}
			b = b[n:]
		}
	}
	return out, nil
}

// KindOf is the personal-data kind a field is marked with, or
// PERSONAL_KIND_UNSPECIFIED.
func KindOf(fd protoreflect.FieldDescriptor) optionsv1.PersonalKind {
	if v, ok := kindCache.Load(fd); ok {
		if k, ok := v.(optionsv1.PersonalKind); ok {
			return k
		}
	}
	k := optionsv1.PersonalKind_PERSONAL_KIND_UNSPECIFIED
	if o := fd.Options(); o != nil && proto.HasExtension(o, optionsv1.E_Personal) {
		if pk, ok := proto.GetExtension(o, optionsv1.E_Personal).(optionsv1.PersonalKind); ok {
			k = pk
		}
	}
	kindCache.Store(fd, k)
	return k
}

var kindCache sync.Map // protoreflect.FieldDescriptor -> PersonalKind

// take moves the fields of m marked k into a new message of m's type (on
// the same paths) and reports whether it moved any.
func take(m protoreflect.Message, k optionsv1.PersonalKind) (protoreflect.Message, bool) {
	shadow := m.New()
	moved := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case KindOf(fd) == k:
			shadow.Set(fd, copyValue(shadow, fd, v))
			m.Clear(fd)
			moved = true
		case fd.IsMap():
			// No map holds personal data today; a marked field inside a map
			// value would not be found. The descriptor test refuses that.
		case fd.Message() != nil && fd.IsList():
			src := v.List()
			dst := shadow.Mutable(fd).List()
			found := false
			for i := range src.Len() {
				sub, ok := take(src.Get(i).Message(), k)
				found = found || ok
				dst.Append(protoreflect.ValueOfMessage(sub))
			}
			if found {
				moved = true
			} else {
				shadow.Clear(fd)
			}
		case fd.Message() != nil:
			if sub, ok := take(v.Message(), k); ok {
				shadow.Set(fd, protoreflect.ValueOfMessage(sub))
				moved = true
			}
		}
		return true
	})
	return shadow, moved
}

func copyValue(shadow protoreflect.Message, fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value {
	switch {
	case fd.IsList():
		l := shadow.NewField(fd).List()
		for i := range v.List().Len() {
			l.Append(v.List().Get(i))
		}
		return protoreflect.ValueOfList(l)
	case fd.Message() != nil:
		return protoreflect.ValueOfMessage(proto.Clone(v.Message().Interface()).ProtoReflect())
	case fd.Kind() == protoreflect.BytesKind:
		return protoreflect.ValueOfBytes(append([]byte(nil), v.Bytes()...))
	}
	return v
}

// restore puts the fields of shadow back into m on the same paths.
func restore(m, shadow protoreflect.Message) error {
	var err error
	shadow.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case KindOf(fd) != optionsv1.PersonalKind_PERSONAL_KIND_UNSPECIFIED:
			m.Set(fd, v)
		case fd.Message() != nil && fd.IsList() && !fd.IsMap():
			src, dst := v.List(), m.Mutable(fd).List()
			if src.Len() != dst.Len() {
				err = fmt.Errorf("seal: %s has %d elements, its sealed fields %d", fd.FullName(), dst.Len(), src.Len())
				return false
			}
			for i := range src.Len() {
				if err = restore(dst.Get(i).Message(), src.Get(i).Message()); err != nil {
					return false
				}
			}
		case fd.Message() != nil && !fd.IsMap():
			if err = restore(m.Mutable(fd).Message(), v.Message()); err != nil {
				return false
			}
		}
		return true
	})
	return err
}

// MarkedFields lists the marked fields reachable from md (through nested
// and repeated messages), each with its kind. Tests use it to cover every
// marked field without naming them.
func MarkedFields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	var out []protoreflect.FieldDescriptor
	seen := map[protoreflect.FullName]bool{}
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] {
			return
		}
		seen[md.FullName()] = true
		fs := md.Fields()
		for i := range fs.Len() {
			fd := fs.Get(i)
			if KindOf(fd) != optionsv1.PersonalKind_PERSONAL_KIND_UNSPECIFIED {
				out = append(out, fd)
			} else if fd.Message() != nil {
				walk(fd.Message())
			}
		}
	}
	walk(md)
	return out
}

// OpenPayload is [Sealer.Open] without the report: what the eventstore
// calls on reads (eventstore.Opener). Erased fields stay empty.
func (s *Sealer) OpenPayload(ctx context.Context, requestID string, msg proto.Message) error {
	_, err := s.Open(ctx, requestID, msg)
	return err
}

// Forget clears, in place, every field of msg marked with kind (nested and
// repeated messages included) and reports whether it cleared any: what a
// read model holding opened values does when the request's key of that
// kind is erased, so that it shows what opening the events again would
// (their fields of that kind empty), at once rather than after a restart.
// Driven by the marks, it covers a field marked later with no change in
// the read model. Unlike [Sealer.Open] it needs no key and leaves an
// envelope, if any, as it is.
func Forget(msg proto.Message, kind keys.Kind) bool {
	if msg == nil {
		return false
	}
	m := msg.ProtoReflect()
	if !m.IsValid() {
		return false
	}
	_, cleared := take(m, personalKind(kind))
	return cleared
}

// Holds reports whether any field of msg marked with kind is set (nested
// and repeated messages included): whether [Forget] would clear anything,
// leaving msg as it is. A read model holding opened values asks it to
// know, at an erasure, whether it holds anything of the erased kind.
func Holds(msg proto.Message, kind keys.Kind) bool {
	if msg == nil {
		return false
	}
	m := msg.ProtoReflect()
	if !m.IsValid() {
		return false
	}
	return holds(m, personalKind(kind))
}

// holds is take without the taking: it walks the same fields.
func holds(m protoreflect.Message, k optionsv1.PersonalKind) bool {
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case KindOf(fd) == k:
			found = true
		case fd.IsMap():
			// Not walked, as in take.
		case fd.Message() != nil && fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = holds(l.Get(i).Message(), k)
			}
		case fd.Message() != nil:
			found = holds(v.Message(), k)
		}
		return !found
	})
	return found
}

func personalKind(kind keys.Kind) optionsv1.PersonalKind {
	if kind == keys.Record {
		return optionsv1.PersonalKind_PERSONAL_KIND_RECORD
	}
	return optionsv1.PersonalKind_PERSONAL_KIND_SUBJECT
}
