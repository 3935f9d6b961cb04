package keys

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

// streamKeyring is a keyring over a new bucket on env with a random KEK,
// its cache fed by the bucket's watch (WithJetStream), as a service runs
// it; the bucket and the KEK are returned for the tests that look behind
// the keyring.
func streamKeyring(tb testing.TB, env *natstest.Env) (*Keyring, jetstream.KeyValue, []byte) {
	tb.Helper()
	kv, err := EnsureBucket(tb.Context(), env.JS, 1)
	if err != nil {
		tb.Fatal(err)
	}
	kek := make([]byte, KEKSize)
	_, _ = rand.Read(kek)
	kr, err := New(kv, kek)
	if err != nil {
		tb.Fatal(err)
	}
	return kr.WithJetStream(env.JS), kv, kek
}

// waitCacheRunning waits until kr's cache serves (its watch starts in the
// background on first use).
func waitCacheRunning(tb testing.TB, kr *Keyring) {
	tb.Helper()
	for !kr.CacheRunning(tb.Context()) {
		select {
		case <-tb.Context().Done():
			tb.Fatal(tb.Context().Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// The cache holds data keys as the bucket does, wrapped under the KEK: no
// entry's value holds a raw data key, every entry unwraps to one with the
// KEK (so the check is not blind), and an erased request's entry is the
// tombstone, with no unwrapped key kept beside it (the others keep theirs,
// see "Unwrapped keys" in cache.go).
func TestCachedKeysStayWrappedInMemory(t *testing.T) {
	env := natstest.Start(t)
	ctx := t.Context()
	kr, kv, _ := streamKeyring(t, env)
	waitCacheRunning(t, kr)
	for i := range 10 {
		id := fmt.Sprintf("req-%d", i)
		s, err := kr.Seal(ctx, id, "l", []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kr.Open(ctx, id, "l", s); err != nil {
			t.Fatal(err)
		}
	}
	if err := kr.Erase(ctx, "req-0"); err != nil {
		t.Fatal(err)
	}
	c := kr.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) != 10 {
		t.Fatalf("the cache holds %d keys, want 10", len(c.entries))
	}
	for key, e := range c.entries {
		if key == "req-0" {
			if !bytes.Equal(e.value, tombstone) {
				t.Errorf("the erased request's entry is %x, not the tombstone", e.value)
			}
			if e.aead != nil || e.opened != nil {
				t.Error("the erased request's entry keeps its key unwrapped")
			}
			continue
		}
		if e.aead == nil {
			t.Errorf("the entry of %s, opened, keeps no unwrapped key", key)
		}
		stored, err := kv.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		dk, err := kr.unwrapRaw(key, stored.Value())
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(e.value, dk) {
			t.Errorf("the cache holds the raw data key of %s", key)
		}
		if got, err := kr.unwrapRaw(key, e.value); err != nil || !bytes.Equal(got, dk) {
			t.Errorf("the cached entry of %s does not unwrap to its key: %v", key, err)
		}
	}
}

// A read of the bucket that raced a newer write of the same key (an
// erasure delivered by the watch, or made here, while the read was on the
// way) does not put the older key it read in the cache, even when the
// newer entry was evicted meanwhile; a read that raced nothing does.
func TestAReadThatRacedANewerWriteIsNotCached(t *testing.T) {
	env := natstest.Start(t)
	if _, err := EnsureBucket(t.Context(), env.JS, 1); err != nil {
		t.Fatal(err)
	}
	c := newKeyCache(1)
	c.start(env.JS)
	for !c.stats().Running {
		select {
		case <-t.Context().Done():
			t.Fatalf("cache not running: %+v", c.stats())
		case <-time.After(time.Millisecond):
		}
	}

	_, hit, tk := c.lookup("req-1")
	if hit || tk == (Ticket{}) {
		t.Fatalf("lookup of an empty cache: hit %v, ticket %+v", hit, tk)
	}
	c.observe("req-1", 7, tombstone)       // the erasure lands during the read
	c.observe("req-2", 8, []byte("other")) // and evicts it (size 1)
	c.admit(tk, "req-1", 5, []byte("old wrapped key"))
	if v, hit, _ := c.lookup("req-1"); hit {
		t.Fatalf("the cache serves %q for a key erased during the read", v)
	}

	_, _, tk = c.lookup("req-3")
	c.observe("req-2", 9, []byte("unrelated"))
	c.admit(tk, "req-3", 4, []byte("wrapped"))
	if v, hit, _ := c.lookup("req-3"); !hit || string(v) != "wrapped" {
		t.Errorf("a read that raced no write of its key is not cached: %q, %v", v, hit)
	}
	// An older revision delivered late does not replace a newer one.
	c.observe("req-3", 3, tombstone)
	if v, _, _ := c.lookup("req-3"); string(v) != "wrapped" {
		t.Errorf("an older write replaced the cached key: %q", v)
	}
}

// The unwrapped keys are bounded apart from the wrapped ones: opening more
// requests than the bound keeps the most recently used ones unwrapped, and
// the others wrapped, still opening (unwrapped again for the call).
func TestUnwrappedKeysAreBounded(t *testing.T) {
	env := natstest.Start(t)
	ctx := t.Context()
	kr, _, _ := streamKeyring(t, env)
	kr.WithCacheSize(8)
	kr.cache.openSize = 3
	waitCacheRunning(t, kr)
	const n = 12
	sealed := make([][]byte, n)
	var err error
	for i := range n {
		if sealed[i], err = kr.Seal(ctx, fmt.Sprintf("req-%d", i), "l", []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 2 {
		for i := range n {
			if pt, err := kr.Open(ctx, fmt.Sprintf("req-%d", i), "l", sealed[i]); err != nil || string(pt) != "v" {
				t.Fatalf("round %d: open req-%d = %q, %v", round, i, pt, err)
			}
			st := kr.CacheStats()
			if st.OpenKeys > 3 || st.Keys > 8 {
				t.Fatalf("round %d, after req-%d: %d keys, %d unwrapped; bounds 8 and 3", round, i, st.Keys, st.OpenKeys)
			}
		}
	}
	c := kr.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	var kept []string
	for e := c.opened.Front(); e != nil; e = e.Next() {
		ce, _ := e.Value.(*cacheEntry)
		if ce.aead == nil || c.entries[ce.key] != ce {
			t.Errorf("the unwrapped list holds %s, which is not an entry with a key", ce.key)
		}
		kept = append(kept, ce.key)
	}
	if want := []string{"req-11", "req-10", "req-9"}; fmt.Sprint(kept) != fmt.Sprint(want) {
		t.Errorf("unwrapped keys kept: %v, want the last three opened %v", kept, want)
	}
	n2 := 0
	for _, e := range c.entries {
		if e.aead != nil {
			n2++
		}
	}
	if n2 != c.opened.Len() {
		t.Errorf("%d entries hold an unwrapped key, the list %d", n2, c.opened.Len())
	}
}
