package keys_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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

// twoInstances is two service instances' keyrings over one bucket with
// one KEK, their caches serving.
func twoInstances(t *testing.T) (a, b *keys.Keyring, env *natstest.Env) {
	t.Helper()
	a, kek, env := keyring(t)
	b = instance(t, env, kek)
	waitRunning(t, a)
	waitRunning(t, b)
	return a, b, env
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

// sealSubjectAndRecord seals subject under the target label "t1" and a
// RECORD value "what we did" for request id as kr, the pair of values the
// erasure tests watch: the first must stop opening, the second must not.
func sealSubjectAndRecord(t *testing.T, kr *keys.Keyring, id, subject string) (subj, rec []byte) {
	t.Helper()
	subj, err := kr.Seal(t.Context(), id, keys.TargetLabel("t1"), []byte(subject))
	if err != nil {
		t.Fatal(err)
	}
	rec, err = kr.SealKind(t.Context(), id, keys.Record, "record", []byte("what we did"))
	if err != nil {
		t.Fatal(err)
	}
	return subj, rec
}

// heldUnwrapped seals a subject value and a RECORD value of request id as
// a, and opens them as kr (the subject's three times, the record's
// recordOpens times, each to its plaintext) until kr holds both keys
// unwrapped.
func heldUnwrapped(t *testing.T, a, kr *keys.Keyring, id, subject string, recordOpens int) (subj, rec []byte) {
	t.Helper()
	subj, rec = sealSubjectAndRecord(t, a, id, subject)
	opens(t, kr, id, keys.Subject, keys.TargetLabel("t1"), subj, subject, 3)
	opens(t, kr, id, keys.Record, "record", rec, "what we did", recordOpens)
	if st := kr.CacheStats(); st.OpenKeys != 2 {
		t.Fatalf("the keyring holds %d keys unwrapped, want both of the request's: %+v", st.OpenKeys, st)
	}
	return subj, rec
}

// waitTombstone waits until kr's watch has delivered the bucket's latest
// revision of request id's key (its tombstone, once erased).
func waitTombstone(t *testing.T, env *natstest.Env, kr *keys.Keyring, id string) {
	t.Helper()
	kv, err := keys.EnsureBucket(t.Context(), env.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	waitApplied(t, kr, e.Revision())
}

// A request's data key erased by one instance is not served by another
// instance's cache that holds it: the other instance had opened the
// request's values (the second open came from its cache, no read of the
// bucket), and once its watch delivered the tombstone its cache answers
// erased, without asking the bucket either. The request's RECORD key,
// cached beside it, still opens.
func TestErasureReachesAnotherInstanceWhoseCacheHoldsTheKey(t *testing.T) {
	a, b, env := twoInstances(t)
	ctx := t.Context()
	const id = "req-erased"
	subj, rec := sealSubjectAndRecord(t, a, id, "+49 151 23456789")
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
	waitTombstone(t, env, b, id)
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

// opens opens sealed as kr n times and fails the test unless each gives want.
func opens(t *testing.T, kr *keys.Keyring, id string, kind keys.Kind, label string, sealed []byte, want string, n int) {
	t.Helper()
	for range n {
		if pt, err := kr.OpenKind(t.Context(), id, kind, label, sealed); err != nil || string(pt) != want {
			t.Fatalf("open %s of %s = %q, %v", kind, id, pt, err)
		}
	}
}

// The keyring that erases a request's key stops opening its values at
// once, although it held the key unwrapped (it had opened them, and the
// later opens used the kept cipher, without unwrapping again); the
// request's RECORD key, held unwrapped beside it, still opens.
func TestErasureDropsTheUnwrappedKeyOfTheErasingKeyring(t *testing.T) {
	a, _, _ := keyring(t)
	waitRunning(t, a)
	ctx := t.Context()
	const id = "req-1"
	subj, rec := heldUnwrapped(t, a, a, id, "alice@example.org", 3)

	if err := a.Erase(ctx, id); err != nil {
		t.Fatal(err)
	}
	if pt, err := a.Open(ctx, id, keys.TargetLabel("t1"), subj); !errors.Is(err, keys.ErrErased) {
		t.Fatalf("the erasing keyring opens %q, %v after the erasure", pt, err)
	}
	if st := a.CacheStats(); st.OpenKeys != 1 {
		t.Errorf("after the erasure the keyring holds %d keys unwrapped, want the record's only", st.OpenKeys)
	}
	opens(t, a, id, keys.Record, "record", rec, "what we did", 1)
}

// Another instance that held the key unwrapped stops opening the request's
// values once its watch delivered the tombstone, without asking the bucket
// (the tombstone in its cache answers), and its RECORD key still opens.
func TestErasureDropsTheUnwrappedKeyOfAnotherInstance(t *testing.T) {
	a, b, env := twoInstances(t)
	ctx := t.Context()
	const id = "req-2"
	subj, rec := heldUnwrapped(t, a, b, id, "+49 151 23456789", 1)

	if err := a.Erase(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitTombstone(t, env, b, id)
	misses := b.CacheStats().Misses
	if pt, err := b.Open(ctx, id, keys.TargetLabel("t1"), subj); !errors.Is(err, keys.ErrErased) {
		t.Fatalf("b opens the erased value: %q, %v", pt, err)
	}
	if st := b.CacheStats(); st.Misses != misses || st.OpenKeys != 1 {
		t.Errorf("b after the tombstone: %d reads of the bucket, %d keys unwrapped; want 0 and 1 (the record's)", st.Misses-misses, st.OpenKeys)
	}
	opens(t, b, id, keys.Record, "record", rec, "what we did", 1)
}

// Opens of many requests from many goroutines, with erasures among them,
// share the kept ciphers safely (run with -race): every value opens to its
// own plaintext until its request is erased, and no open that starts after
// Erase returned succeeds, on the erasing keyring or (once its watch
// delivered the tombstone) on another.
func TestUnwrappedKeysUnderConcurrentOpensAndErasures(t *testing.T) {
	a, b, env := twoInstances(t)
	ctx := t.Context()
	const n = 16
	sealed := make([][]byte, n)
	for i := range n {
		s, err := a.Seal(ctx, fmt.Sprintf("req-%d", i), "l", fmt.Appendf(nil, "value %d", i))
		if err != nil {
			t.Fatal(err)
		}
		sealed[i] = s
	}
	var erased [n]atomic.Bool
	var wg sync.WaitGroup
	for g := range 8 {
		kr := []*keys.Keyring{a, b}[g%2]
		wg.Go(func() {
			for round := range 200 {
				i := (g + round) % n
				was := erased[i].Load()
				pt, err := kr.Open(ctx, fmt.Sprintf("req-%d", i), "l", sealed[i])
				switch {
				case errors.Is(err, keys.ErrErased):
				case err != nil:
					t.Errorf("open req-%d: %v", i, err)
					return
				case was && kr == a:
					t.Errorf("a opened req-%d after erasing it", i)
					return
				case string(pt) != fmt.Sprintf("value %d", i):
					t.Errorf("req-%d opened to %q", i, pt)
					return
				}
			}
		})
	}
	for i := 0; i < n; i += 2 {
		id := fmt.Sprintf("req-%d", i)
		if err := a.Erase(ctx, id); err != nil {
			t.Fatal(err)
		}
		erased[i].Store(true)
	}
	wg.Wait()
	for i := 0; i < n; i += 2 {
		id := fmt.Sprintf("req-%d", i)
		waitTombstone(t, env, b, id)
		for _, kr := range []*keys.Keyring{a, b} {
			if pt, err := kr.Open(ctx, id, "l", sealed[i]); !errors.Is(err, keys.ErrErased) {
				t.Errorf("%s opens after its erasure: %q, %v", id, pt, err)
			}
		}
	}
	for i := 1; i < n; i += 2 {
		opens(t, b, fmt.Sprintf("req-%d", i), keys.Subject, "l", sealed[i], fmt.Sprintf("value %d", i), 1)
	}
}
