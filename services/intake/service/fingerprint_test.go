package service_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/adapters"
	"github.com/ddrsuite/ddr/services/intake/app"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

const intakeUser = "spiffe://ddr.local/service/intake"

// intakeStores are the stream and the idempotency bucket as intake sees them.
func intakeStores(t *testing.T, p *runnertest.Proc) (*eventstore.Store, jetstream.KeyValue) {
	t.Helper()
	js, err := jetstream.New(p.NATS(t, intakeUser))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctxT(t), adapters.IdempotencyBucket)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.NewStore(js), kv
}

// openedStore is the stream as intake reads it, sealed values opened.
func openedStore(t *testing.T, p *runnertest.Proc, kr *keys.Keyring) *eventstore.Store {
	t.Helper()
	js, err := jetstream.New(p.NATS(t, intakeUser))
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.NewStore(js, eventstore.WithSealer(seal.New(kr)))
}

// intakeKeys is the keyring intake opens sealed values with.
func intakeKeys(t *testing.T, p *runnertest.Proc) *keys.Keyring {
	t.Helper()
	js, err := jetstream.New(p.NATS(t, intakeUser))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := keys.LoadKEKFile(filepath.Join(string(p.PKI), runner.KEKFileName))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keys.Lazy(js, kek)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// Issue 14: a plain SHA-256 of a request is undone by guessing its target.
// What intake stores (the event's content fingerprint, the idempotency
// record's key and fingerprint) is keyed, so a guess of the whole content
// reproduces none of it; and the content fingerprints are sealed with the
// request's SUBJECT key, so that even with the fingerprint key in hand
// none is there to confirm a guess once the targets are erased.
func TestSubmit_StoredFingerprintsAreKeyedNotPlainDigests(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	req := oral(time.Now().Add(-time.Hour), "x@example.org")
	const key = "letter-2026-501"
	res, err := client(t, p, memberA).Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: key, Request: req})
	if err != nil {
		t.Fatal(err)
	}
	store, kv := intakeStores(t, p)
	raw, err := store.Load(ctxT(t), res.GetRequestId())
	if err != nil || len(raw.Events) != 1 {
		t.Fatalf("load: %d events, %v", len(raw.Events), err)
	}
	if fp := raw.Events[0].Payload.(*intakev1.RequestReceived).GetContentFingerprint(); fp != "" {
		t.Errorf("the event holds its content fingerprint in clear: %q", fp)
	}
	kr := intakeKeys(t, p)
	h, err := openedStore(t, p, kr).Load(ctxT(t), res.GetRequestId())
	if err != nil || len(h.Events) != 1 {
		t.Fatalf("load opened: %d events, %v", len(h.Events), err)
	}
	guess := app.DecodeRequest(memberA, key, req).ContentDigest().LegacyHex()
	fp := h.Events[0].Payload.(*intakev1.RequestReceived).GetContentFingerprint()
	if fp == "" || fp == guess {
		t.Errorf("content fingerprint %q is empty or the plain digest of the content", fp)
	}
	if _, ok := domain.ParseLegacyHex(fp); ok {
		t.Errorf("content fingerprint %q has the form of a plain digest", fp)
	}
	if _, err := kv.Get(ctxT(t), domain.IdempotencyDigest(memberA, key).LegacyHex()); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("the idempotency record is under the plain digest of (member, key): %v", err)
	}
	// The keyed key, computed as intake does with the key file beside the KEK.
	f, err := keys.LoadFingerprintKeyFile(filepath.Join(string(p.PKI), keys.FingerprintKeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	d := domain.IdempotencyDigest(memberA, key)
	e, err := kv.Get(ctxT(t), f.Fingerprint("intake.idempotency/v1", d[:]))
	if err != nil {
		t.Fatalf("no idempotency record under the keyed digest of (member, key): %v", err)
	}
	var rec struct{ Fingerprint string }
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		t.Fatal(err)
	}
	sealed, ok := strings.CutPrefix(rec.Fingerprint, "sealed1:")
	if !ok {
		t.Fatalf("idempotency record fingerprint %q is not sealed", rec.Fingerprint)
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := kr.Open(ctxT(t), res.GetRequestId(), "intake.idempotency/content_fingerprint", b); err != nil || string(pt) != fp {
		t.Errorf("idempotency record fingerprint opens to %q (%v), want the event's keyed %q", pt, err, fp)
	}
}

// Events are forever: a submission recorded before keyed fingerprints keeps
// its plain fingerprint in its event and its record under the plain digest
// of its key. Its retry must still be the same submission (same id, nothing
// appended), the record moves to its keyed key, and the key still refuses
// other content.
func TestSubmit_RetryOfASubmissionFromBeforeKeyedFingerprintsIsRecognised(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	store, kv := intakeStores(t, p)
	req := oral(time.Now().Add(-time.Hour), "x@example.org")
	const key = "letter-2025-042"
	id := uuid.NewString()
	at := time.Now().Add(-30 * time.Minute).UTC()
	plain := app.DecodeRequest(memberA, key, req).ContentDigest().LegacyHex()

	// As intake wrote them before: the record under the plain key digest...
	legacyKey := domain.IdempotencyDigest(memberA, key).LegacyHex()
	b, _ := json.Marshal(map[string]any{"request_id": id, "fingerprint": plain, "submit_time": at})
	if _, err := kv.Create(ctxT(t), legacyKey, b); err != nil {
		t.Fatal(err)
	}
	// ...and the event with the plain content fingerprint (targets left
	// out: only the fingerprint is compared).
	content := proto.CloneOf(req)
	content.Targets = nil
	if _, err := store.Append(ctxT(t), id, 0, eventstore.Event{
		ID: eventstore.DerivedID(id, "intake.received"), RequestID: id, Time: at, Actor: memberA,
		Payload: &intakev1.RequestReceived{RequestId: id, GroupMember: memberA, Request: content, SubmitTime: timestamppb.New(at), ContentFingerprint: plain},
	}); err != nil {
		t.Fatal(err)
	}

	c := client(t, p, memberA)
	again, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: key, Request: req})
	if err != nil {
		t.Fatal(err)
	}
	if again.GetRequestId() != id || !again.GetReplayed() {
		t.Errorf("retry got %s (replayed %v), want the recorded %s, replayed", again.GetRequestId(), again.GetReplayed(), id)
	}
	if n := streamMessages(t, p); n != 1 {
		t.Errorf("stream holds %d messages, want only the old RequestReceived", n)
	}
	if _, err := kv.Get(ctxT(t), legacyKey); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("the record under the plain digest is still there: %v", err)
	}
	other := &intakev1.SubmitRequest{IdempotencyKey: key, Request: oral(time.Now().Add(-time.Hour), "y@example.org")}
	if _, err := c.Submit(ctxT(t), other); status.Code(err) != codes.AlreadyExists {
		t.Errorf("the old key for another demand: %v, want AlreadyExists", err)
	}
}
