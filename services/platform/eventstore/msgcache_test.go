package eventstore_test

import (
	"context"
	"testing"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/seal"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// The store keeps the messages it read through its index, sealed as the
// stream holds them: a request loaded before its data key was erased
// loads again, from that cache, with its personal data gone; and a reader
// that changes what it was handed changes nothing for the next one.
func TestIndex_CachedMessagesStaySealedAndErasureHolds(t *testing.T) {
	js := newJS(t)
	ctx := context.Background()
	kr := testkit.Keyring(t, js)
	store := eventstore.NewStore(js, eventstore.WithIndex(0), eventstore.WithSealer(seal.New(kr)))
	received := eventstore.Kind[*intakev1.RequestReceived]()
	const id = "req-cached"
	target := "subject@example.org"
	if _, err := store.Append(ctx, id, 0, eventstore.Event{Service: received.Service, Name: received.Name, Payload: &intakev1.RequestReceived{
		RequestId: id, GroupMember: "member-a",
		Request: &intakev1.DataDisclosureRequest{Targets: []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: target}}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(ctx, id); err != nil { // starts the index
		t.Fatal(err)
	}
	head := lastSeq(t, js)
	testkit.Eventually(t, "the index to catch up", func() bool {
		applied, ok := store.IndexedThrough()
		return ok && applied == head
	})
	valueOf := func() string {
		t.Helper()
		h, err := store.Load(ctx, id)
		if err != nil || len(h.Events) != 1 {
			t.Fatalf("load: %v, %d events", err, len(h.Events))
		}
		p, ok := h.Events[0].Payload.(*intakev1.RequestReceived)
		if !ok {
			t.Fatalf("payload %T", h.Events[0].Payload)
		}
		return p.GetRequest().GetTargets()[0].GetValue()
	}
	if got := valueOf(); got != target { // read through the index: now cached
		t.Fatalf("target = %q", got)
	}
	err := store.ScanRequest(ctx, id, func(m eventstore.RawMsg) error {
		for i := range m.Data {
			m.Data[i] = 0
		}
		m.Header.Set("Nats-Msg-Id", "changed")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := valueOf(); got != target {
		t.Fatalf("after a reader changed its copy, target = %q", got)
	}
	if err := kr.Erase(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := valueOf(); got != "" {
		t.Errorf("after erasure a cached message opens to %q", got)
	}
}
