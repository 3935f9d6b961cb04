package keys_test

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsx"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

// instance is a second service instance: its own connection and keyring
// over the same bucket, with the same KEK.
func instance(t *testing.T, env *natstest.Env, kek []byte) *keys.Keyring {
	t.Helper()
	nc, err := natsx.ConnectInProcess(env.Server, t.Name()+"-b")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keys.Lazy(js, kek)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kr.Close)
	return kr
}

// waitRunning waits until kr's cache serves (its watch starts in the
// background on first use).
func waitRunning(t *testing.T, kr *keys.Keyring) {
	t.Helper()
	for !kr.CacheRunning(t.Context()) {
		select {
		case <-t.Context().Done():
			t.Fatalf("the cache never ran: %+v", kr.CacheStats())
		case <-time.After(time.Millisecond):
		}
	}
}

// waitApplied waits until kr's watch of the bucket has delivered revision
// rev: how long that takes is the server's business, and not asserted.
func waitApplied(t *testing.T, kr *keys.Keyring, rev uint64) {
	t.Helper()
	for kr.CacheStats().Applied < rev {
		select {
		case <-t.Context().Done():
			t.Fatalf("the watch never delivered revision %d: %+v", rev, kr.CacheStats())
		case <-time.After(time.Millisecond):
		}
	}
}

// A request's data key erased by one instance is not served by another
// instance's cache that holds it: the other instance had opened the
// request's values (the second open came from its cache, no read of the
// bucket), and once its watch delivered the tombstone its cache answers
// erased, without asking the bucket either. The request's RECORD key,
// cached beside it, still opens.
func TestErasureReachesAnotherInstanceWhoseCacheHoldsTheKey(t *testing.T) {
	a, kek, env := keyring(t)
	ctx := t.Context()
	b := instance(t, env, kek)
	waitRunning(t, a)
	waitRunning(t, b)
	const id = "req-erased"
	subj, err := a.Seal(ctx, id, keys.TargetLabel("t1"), []byte("+49 151 23456789"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := a.SealKind(ctx, id, keys.Record, "record", []byte("what we did"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if pt, err := b.Open(ctx, id, keys.TargetLabel("t1"), subj); err != nil || string(pt) != "+49 151 23456789" {
			t.Fatalf("b opens %q, %v", pt, err)
		}
		if _, err := b.OpenKind(ctx, id, keys.Record, "record", rec); err != nil {
			t.Fatal(err)
		}
	}
	before := b.CacheStats()
	if !before.Running || before.Hits < 2 || before.Keys < 2 {
		t.Fatalf("b's cache does not hold the keys: %+v", before)
	}

	if err := a.Erase(ctx, id); err != nil {
		t.Fatal(err)
	}
	// The erasing instance's own cache knows at once.
	if _, err := a.Open(ctx, id, keys.TargetLabel("t1"), subj); !errors.Is(err, keys.ErrErased) {
		t.Fatalf("a opens after its own erasure: %v", err)
	}
	kv, err := keys.EnsureBucket(ctx, env.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	waitApplied(t, b, e.Revision())
	hits := b.CacheStats().Hits
	if pt, err := b.Open(ctx, id, keys.TargetLabel("t1"), subj); !errors.Is(err, keys.ErrErased) {
		t.Fatalf("b opens the erased value: %q, %v", pt, err)
	}
	if erased, err := b.Erased(ctx, id); err != nil || !erased {
		t.Errorf("b: Erased = %v, %v", erased, err)
	}
	if got := b.CacheStats().Hits; got != hits+2 {
		t.Errorf("b answered the erasure %d times from its cache, want 2 (the watch put the tombstone there)", got-hits)
	}
	if pt, err := b.OpenKind(ctx, id, keys.Record, "record", rec); err != nil || string(pt) != "what we did" {
		t.Errorf("b: the record key after the subject's erasure: %q, %v", pt, err)
	}
	if _, err := b.Seal(ctx, id, "again", []byte("x")); !errors.Is(err, keys.ErrErased) {
		t.Errorf("b made a new key for an erased request: %v", err)
	}
}

// A keyring without its cache (size 0) reads every key from the bucket and
// behaves the same.
func TestKeyringWithoutCacheReadsTheBucket(t *testing.T) {
	a, kek, env := keyring(t)
	ctx := t.Context()
	b := instance(t, env, kek).WithCacheSize(0)
	s, err := a.Seal(ctx, "req-1", "l", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if pt, err := b.Open(ctx, "req-1", "l", s); err != nil || string(pt) != "v" {
			t.Fatalf("open = %q, %v", pt, err)
		}
	}
	if st := b.CacheStats(); st.Running || st.Hits != 0 {
		t.Errorf("a keyring with cache size 0 cached: %+v", st)
	}
	if err := a.Erase(ctx, "req-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, "req-1", "l", s); !errors.Is(err, keys.ErrErased) {
		t.Errorf("open after erasure: %v", err)
	}
}

// The keyring that rotates the KEK held keys wrapped under the old one in
// its cache; it opens them after the rotation, and so does an instance
// started with the new KEK.
func TestCachedKeysOpenAfterKEKRotation(t *testing.T) {
	kr, _, env := keyring(t)
	ctx := t.Context()
	s, err := kr.Seal(ctx, "req-1", "l", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Open(ctx, "req-1", "l", s); err != nil {
		t.Fatal(err)
	}
	newKEK := make([]byte, keys.KEKSize)
	_, _ = rand.Read(newKEK)
	if _, err := kr.RotateKEK(ctx, newKEK); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*keys.Keyring{kr, instance(t, env, newKEK)} {
		for range 2 {
			if pt, err := k.Open(ctx, "req-1", "l", s); err != nil || string(pt) != "v" {
				t.Errorf("open after rotation = %q, %v", pt, err)
			}
		}
	}
}
