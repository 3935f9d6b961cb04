package seal_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	optionsv1 "github.com/ddrsuite/ddr/gen/ddr/options/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsx"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/seal"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// Every service's events, linked so that the registry holds them all.
var _ = []protoreflect.FileDescriptor{
	intakev1.File_ddr_intake_v1_events_proto, assessmentv1.File_ddr_assessment_v1_events_proto,
	notificationv1.File_ddr_notification_v1_events_proto, reportingv1.File_ddr_reporting_v1_events_proto,
}

// eventTypes are the messages of proto/ddr/*/v1/events.proto.
func eventTypes(t *testing.T) []protoreflect.MessageType {
	t.Helper()
	var out []protoreflect.MessageType
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if p := fd.Path(); strings.HasPrefix(p, "ddr/") && strings.HasSuffix(p, "/events.proto") {
			for i := range fd.Messages().Len() {
				mt, err := protoregistry.GlobalTypes.FindMessageByName(fd.Messages().Get(i).FullName())
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, mt)
			}
		}
		return true
	})
	if len(out) < 20 {
		t.Fatalf("only %d event types registered", len(out))
	}
	slices.SortFunc(out, func(a, b protoreflect.MessageType) int {
		return strings.Compare(string(a.Descriptor().FullName()), string(b.Descriptor().FullName()))
	})
	return out
}

// withCanaries returns a message of type mt with a distinct canary in
// every marked field (nested and repeated ones included), found from the
// descriptors so that a newly marked field is covered without a change
// here, and the canaries by kind.
func withCanaries(mt protoreflect.MessageType) (proto.Message, map[string]optionsv1.PersonalKind) {
	canaries := map[string]optionsv1.PersonalKind{}
	name := mt.Descriptor().Name()
	var fill func(m protoreflect.Message, depth int)
	fill = func(m protoreflect.Message, depth int) {
		fs := m.Descriptor().Fields()
		for i := range fs.Len() {
			fd := fs.Get(i)
			if k := seal.KindOf(fd); k != optionsv1.PersonalKind_PERSONAL_KIND_UNSPECIFIED {
				c := fmt.Sprintf("cnry-%s-%s-%d", name, fd.FullName(), len(canaries))
				canaries[c] = k
				v := protoreflect.ValueOfString(c)
				if fd.Kind() == protoreflect.BytesKind {
					v = protoreflect.ValueOfBytes([]byte(c))
				}
				if fd.IsList() {
					m.Mutable(fd).List().Append(v)
				} else {
					m.Set(fd, v)
				}
				continue
			}
			if fd.Message() == nil || fd.IsMap() || depth > 8 || len(seal.MarkedFields(fd.Message())) == 0 {
				continue
			}
			if fd.IsList() {
				l := m.Mutable(fd).List()
				for range 2 { // two elements: both keep their place
					e := l.NewElement()
					fill(e.Message(), depth+1)
					l.Append(e)
				}
			} else {
				fill(m.Mutable(fd).Message(), depth+1)
			}
		}
	}
	m := mt.New()
	fill(m, 0)
	return m.Interface(), canaries
}

type env struct {
	store    *eventstore.Store // plain: writes and reads as given
	sealing  *eventstore.Store // seals on append, opens on load
	keyring  *keys.Keyring
	sealer   *seal.Sealer
	storeDir string
	stop     func()
}

func start(t *testing.T) env {
	t.Helper()
	ctx := context.Background()
	n := natstest.Start(t, natstest.Options{SyncAlways: true})
	if err := eventstore.EnsureStreams(ctx, n.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	kr := testkit.Keyring(t, n.JS)
	return env{
		store: eventstore.NewStore(n.JS), keyring: kr, sealer: seal.New(kr),
		sealing:  eventstore.NewStore(n.JS, eventstore.WithSealer(seal.New(kr))),
		storeDir: n.Server.JetStreamConfig().StoreDir,
		stop:     func() { n.Conn.Close(); natsx.Shutdown(n.Server) },
	}
}

// appendAll appends one canary-filled event of every type with marked
// fields, sealed unless sealing is off, and returns the canaries, the
// originals by request id, and the environment (its server still running).
func appendAll(t *testing.T, e env, sealing bool) (map[string]optionsv1.PersonalKind, map[string]proto.Message) {
	t.Helper()
	ctx := context.Background()
	all := map[string]optionsv1.PersonalKind{}
	originals := map[string]proto.Message{}
	covered := 0
	for _, mt := range eventTypes(t) {
		md := mt.Descriptor()
		if len(seal.MarkedFields(md)) == 0 {
			continue
		}
		covered++
		msg, canaries := withCanaries(mt)
		for c, k := range canaries {
			all[c] = k
		}
		id := fmt.Sprintf("req-%02d", covered)
		originals[id] = proto.Clone(msg)
		store := e.store
		if sealing {
			store = e.sealing
		}
		if _, err := store.Append(ctx, id, 0, eventstore.Event{Payload: msg}); err != nil {
			t.Fatalf("append %s: %v", md.FullName(), err)
		}
		if !proto.Equal(msg, originals[id]) {
			t.Fatalf("Append changed its input %s", md.FullName())
		}
	}
	if covered == 0 || len(all) == 0 {
		t.Fatal("no event type has a marked field; the test proves nothing")
	}
	return all, originals
}

// storedCanaries lists the canaries found in clear in any file under dir.
func storedCanaries(t *testing.T, dir string, canaries map[string]optionsv1.PersonalKind) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for c := range canaries {
			if bytes.Contains(b, []byte(c)) && !slices.Contains(found, c) {
				found = append(found, c)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(found)
	return found
}

// A canary in every marked field of every event type, appended through the
// event store, which seals them (eventstore.WithSealer): no canary is in
// any byte JetStream wrote to disk, and the store's load (an authorised
// read) opens every one back. The all-in-one version, through the API,
// is services/allinone/suite's TestPersonalDataIsSealedEndToEnd. Without sealing the
// same scan finds every canary, so the scan is not blind.
func TestMarkedFieldsNeverReachTheStreamInClear(t *testing.T) {
	e := start(t)
	canaries, originals := appendAll(t, e, true)
	ctx := context.Background()
	for id, want := range originals {
		raw, err := e.store.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !seal.IsSealed(raw.Events[0].Payload) {
			t.Errorf("%s: stored without an envelope", id)
		}
		h, err := e.sealing.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got := h.Events[0].Payload
		if !proto.Equal(got, want) {
			t.Errorf("%s: opened %v, want %v", id, got, want)
		}
	}
	e.stop()
	if found := storedCanaries(t, e.storeDir, canaries); len(found) > 0 {
		t.Errorf("%d marked values stored in clear: %v", len(found), found)
	}
	t.Logf("%d canaries in %d event types, none stored in clear", len(canaries), len(originals))

	t.Run("without sealing the canaries are found", func(t *testing.T) {
		e := start(t)
		canaries, _ := appendAll(t, e, false)
		e.stop()
		found := storedCanaries(t, e.storeDir, canaries)
		if len(found) != len(canaries) {
			t.Errorf("unsealed, the scan found %d of %d canaries; it is blind to the rest", len(found), len(canaries))
		}
	})
}

// Two keys per request: erasing the SUBJECT key (the end of retention of
// whom the request is about) leaves the company's RECORD readable.
func TestErasingTheSubjectKeyLeavesTheRecordReadable(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	mt := (&notificationv1.PlanDerived{}).ProtoReflect().Type() // holds both kinds
	msg, canaries := withCanaries(mt)
	kinds := map[optionsv1.PersonalKind]int{}
	for _, k := range canaries {
		kinds[k]++
	}
	if kinds[optionsv1.PersonalKind_PERSONAL_KIND_SUBJECT] == 0 || kinds[optionsv1.PersonalKind_PERSONAL_KIND_RECORD] == 0 {
		t.Fatalf("PlanDerived must hold both kinds for this test: %v", kinds)
	}
	if err := e.sealer.Seal(ctx, "req-erase", msg); err != nil {
		t.Fatal(err)
	}
	sealed, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.keyring.EraseKind(ctx, "req-erase", keys.Subject); err != nil {
		t.Fatal(err)
	}
	got := mt.New().Interface()
	if err := proto.Unmarshal(sealed, got); err != nil {
		t.Fatal(err)
	}
	res, err := e.sealer.Open(ctx, "req-erase", got)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Erased, []keys.Kind{keys.Subject}) {
		t.Errorf("Erased = %v, want [subject]", res.Erased)
	}
	text := fmt.Sprint(got)
	for c, k := range canaries {
		in := strings.Contains(text, c)
		if k == optionsv1.PersonalKind_PERSONAL_KIND_RECORD && !in {
			t.Errorf("record field %s unreadable after the subject key was erased", c)
		}
		if k == optionsv1.PersonalKind_PERSONAL_KIND_SUBJECT && in {
			t.Errorf("subject field %s readable after its key was erased", c)
		}
	}
}

// An event written before sealing existed (the golden corpus) has no
// envelope: opening it changes nothing and needs no key.
func TestOpeningAnEventWrittenBeforeSealingIsANoOp(t *testing.T) {
	msg, _ := withCanaries((&intakev1.RequestReceived{}).ProtoReflect().Type())
	want := proto.Clone(msg)
	res, err := seal.New(nil).Open(context.Background(), "req-old", msg)
	if err != nil || len(res.Erased) > 0 {
		t.Fatalf("Open = %v, %v", res, err)
	}
	if !proto.Equal(msg, want) {
		t.Error("opening an unsealed event changed it")
	}
}

// The envelope's field number is declared by no ddr message, and no marked
// field hides in a map (the walk does not enter maps).
func TestNoMessageDeclaresTheEnvelopeFieldOrMarksAMapValue(t *testing.T) {
	n := 0
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		md := mt.Descriptor()
		if !strings.HasPrefix(string(md.FullName()), "ddr.") {
			return true
		}
		n++
		if md.Fields().ByNumber(seal.EnvelopeField) != nil {
			t.Errorf("%s declares field %d, the seal envelope", md.FullName(), seal.EnvelopeField)
		}
		fs := md.Fields()
		for i := range fs.Len() {
			if fd := fs.Get(i); fd.IsMap() && fd.MapValue().Message() != nil && len(seal.MarkedFields(fd.MapValue().Message())) > 0 {
				t.Errorf("%s: a map holds marked fields; seal does not walk maps", fd.FullName())
			}
		}
		return true
	})
	if n == 0 {
		t.Fatal("no ddr message registered")
	}
}

// A read model that holds opened events forgets the erased kind with
// Forget: every field of that kind, found from the marks (so a field
// marked later is covered), is cleared, and the other kind's are kept:
// the message reads as opening it after the erasure would.
func TestForgetClearsEveryFieldOfTheErasedKindAndKeepsTheOther(t *testing.T) {
	for _, mt := range eventTypes(t) {
		msg, canaries := withCanaries(mt)
		if len(canaries) == 0 {
			if seal.Forget(msg, keys.Subject) {
				t.Errorf("%s: Forget cleared something of a message with nothing marked", mt.Descriptor().FullName())
			}
			continue
		}
		subject := false
		for _, k := range canaries {
			subject = subject || k == optionsv1.PersonalKind_PERSONAL_KIND_SUBJECT
		}
		if got := seal.Forget(msg, keys.Subject); got != subject {
			t.Errorf("%s: Forget reported %v, want %v", mt.Descriptor().FullName(), got, subject)
		}
		text := fmt.Sprint(msg)
		for c, k := range canaries {
			in := strings.Contains(text, c)
			if k == optionsv1.PersonalKind_PERSONAL_KIND_SUBJECT && in {
				t.Errorf("%s: subject field %s kept", mt.Descriptor().FullName(), c)
			}
			if k == optionsv1.PersonalKind_PERSONAL_KIND_RECORD && !in {
				t.Errorf("%s: record field %s cleared", mt.Descriptor().FullName(), c)
			}
		}
	}
	if seal.Forget(nil, keys.Subject) || seal.Forget((*intakev1.RequestReceived)(nil), keys.Subject) {
		t.Error("Forget of nothing cleared something")
	}
}

// Holds says what Forget would do without doing it: true exactly when a
// field of the kind is set, and the message is left as it was.
func TestHoldsTellsWhetherForgetWouldClearAndChangesNothing(t *testing.T) {
	for _, mt := range eventTypes(t) {
		for _, kind := range []keys.Kind{keys.Subject, keys.Record} {
			msg, _ := withCanaries(mt)
			before := proto.Clone(msg)
			got := seal.Holds(msg, kind)
			if !proto.Equal(msg, before) {
				t.Errorf("%s: Holds changed the message", mt.Descriptor().FullName())
			}
			if want := seal.Forget(msg, kind); got != want {
				t.Errorf("%s: Holds(%v) = %v, Forget cleared %v", mt.Descriptor().FullName(), kind, got, want)
			}
			if seal.Holds(msg, kind) {
				t.Errorf("%s: Holds(%v) true after Forget", mt.Descriptor().FullName(), kind)
			}
		}
	}
	if seal.Holds(nil, keys.Subject) || seal.Holds((*intakev1.RequestReceived)(nil), keys.Subject) {
		t.Error("Holds of nothing holds something")
	}
}
