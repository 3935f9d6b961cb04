package keys

import (
	"bytes"
	"container/list"
	"crypto/cipher"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultCacheSize is how many data keys a keyring keeps by default (both
// kinds count): about 150-250 bytes each, so at most some 10-16 MiB per
// keyring (one per service; the all-in-one has one per service it hosts),
// enough for the requests a service touches in a busy hour.
const DefaultCacheSize = 1 << 16

// DefaultOpenKeys is how many of the cached data keys a keyring also keeps
// unwrapped, as ready ciphers (see "Unwrapped keys" below): about 1.3 KiB
// each (the AES key schedule and the GCM tables), so some 5 MiB per
// keyring, enough for every row of a few hundred List pages at once.
const DefaultOpenKeys = 1 << 12

// Why a cache: without one every sealed value opened costs a read of its
// request's data key from the bucket, one round trip each, in sequence: a
// load of ten sealed events is ten round trips on top of the load, a List
// page of fifty requests fifty, and a projection rebuilt over a million
// events a million. The cache keeps a bounded number of keys (least
// recently used out), and a watch of the bucket keeps it current.
//
// What it keeps is the wrapped key, as the bucket holds it (sealed under
// the KEK), and a tombstone for an erased request, so that its reads are
// answered without a round trip.
//
// Unwrapped keys: of the most recently used keys (at most [DefaultOpenKeys])
// the cache also keeps the cipher the unwrapped key makes. Unwrapping (a
// GCM open under the KEK) and building the data key's cipher (AES key
// expansion, GCM tables) cost far more than the open of a small sealed
// value itself, and a List page opens fifty requests' targets at every
// call: without it, unwrapping was most of the cost of opening. The cipher
// lives in the key's entry and goes with it: when the watch delivers a
// newer write of the key (an erasure's tombstone, a re-wrapping), when
// this keyring erases it, when it is evicted, and when the cache is
// emptied (connection lost, watch interrupted, KEK rotated).
//
// What a memory dump of the process gains from the unwrapped keys: the
// data keys of the requests opened recently, and with them their sealed
// values in the stream. It gained that already: the KEK is in the same
// memory (the keyring holds it to unwrap), and so are the wrapped keys of
// this very cache, so the dump unwrapped them before. The ciphers add
// nothing the dump did not hold; they keep no plaintext. An erased key's
// cipher is dropped when the tombstone arrives, and its bytes stay in freed
// memory until reused, as the per-call cipher's did before the cache.
//
// Erasure: the keyring that erases updates its own cache at once; every
// other keyring (the other services, the other instances) learns of the
// tombstone from the watch, an ordered consumer of the bucket's stream,
// within the time the server takes to deliver a message. The cache is
// only used while that watch is known to deliver everything: it starts
// serving once the watch is running, and it is emptied (and reads go to
// the bucket until it is running again) when the connection drops,
// reconnects, or the watch reports an error. A key read from the bucket
// is cached only if no write of that key was delivered while it was read
// (admit): otherwise an erasure delivered during the read could be
// overwritten by the older key the read returned.

type cacheEntry struct {
	key     string // bucket key
	value   []byte // wrapped data key or tombstone; nil: deleted
	rev     uint64
	element *list.Element
	// aead is the data key of value, unwrapped, for revision rev only;
	// nil until it is first used (and for a tombstone). While set, the
	// entry is in keyCache.opened, at opened.
	aead   cipher.AEAD
	opened *list.Element
}

type keyCache struct {
	size int
	// openSize bounds how many entries keep their key unwrapped.
	openSize int
	js       jetstream.JetStream

	once sync.Once

	mu sync.Mutex
	// running: the watch is delivering; the cache may serve and fill.
	running bool
	stopped bool
	cont    Continuity
	entries map[string]*cacheEntry
	lru     *list.List // front: most recently used
	// opened lists the entries that hold an unwrapped key (aead), most
	// recently used first; at most openSize.
	opened *list.List
	// applied is the stream sequence of the last write the watch delivered.
	applied uint64
	// log holds the last writes (delivered by the watch or made by this
	// keyring), and a new epoch whenever the cache is emptied: a read
	// begun before either may not fill it.
	log      WriteLog
	cc       jetstream.ConsumeContext
	hits     uint64
	misses   uint64
	watchErr error
}

func newKeyCache(size int) *keyCache {
	return &keyCache{size: size, openSize: min(size, DefaultOpenKeys), entries: map[string]*cacheEntry{}, lru: list.New(), opened: list.New()}
}

// start begins the watch, once, in the background: reads go to the bucket
// until it runs, so none waits for it. A keyring that cannot watch (no
// JetStream handle, or no permission to consume the bucket's stream) does
// without a cache: every read goes to the bucket, as before.
func (c *keyCache) start(js jetstream.JetStream) {
	c.once.Do(func() {
		if js == nil {
			return
		}
		c.mu.Lock()
		c.js = js
		c.mu.Unlock()
		go c.watch(js)
	})
}

func (c *keyCache) watch(js jetstream.JetStream) {
	cc, err := WatchBucket(js, false, c.apply, c.interrupted)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.watchErr = err
		slog.Default().Warn("data-key cache not started; every sealed value is opened with a read of its key from the bucket", "error", err)
		return
	}
	if c.stopped {
		cc.Stop()
		return
	}
	c.cc = cc
	c.cont.Reset(js.Conn())
	c.clearLocked() // what was observed before the watch ran is not known current
	c.running = true
}

// stop ends the watch; the cache serves nothing afterwards.
func (c *keyCache) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cc != nil {
		c.cc.Stop()
	}
	c.running, c.stopped = false, true
	c.clearLocked()
}

// interrupted empties the cache when the watch reports trouble (missed
// heartbeats, a consumer that had to be recreated): until it delivers
// again nothing says the cache is current. The ordered consumer resumes
// after the last write it delivered, so nothing is missed once it does.
func (c *keyCache) interrupted(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watchErr = err
	c.clearLocked()
}

func (c *keyCache) clearLocked() {
	c.entries = map[string]*cacheEntry{}
	c.lru.Init()
	c.opened.Init()
	c.log.Forget()
}

// usableLocked reports whether the cache may serve now: the watch runs and
// the connection has stayed up since the cache was last emptied.
func (c *keyCache) usableLocked() bool {
	if !c.running {
		return false
	}
	up, forget := c.cont.Check(c.js.Conn())
	if forget {
		c.clearLocked()
	}
	return up
}

// apply is the watch: every write to the bucket, in stream order.
func (c *keyCache) apply(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	key, ok := BucketKey(m.Subject())
	if !ok {
		return
	}
	value := m.Data()
	if op := m.Headers().Get("KV-Operation"); op != "" {
		value = nil // deleted or purged: no key to cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if meta.Sequence.Stream > c.applied {
		c.applied = meta.Sequence.Stream
	}
	c.observeLocked(key, meta.Sequence.Stream, value)
}

// observe records a write this keyring made itself (a new key, a
// tombstone), so that its own reads see it at once.
func (c *keyCache) observe(key string, rev uint64, value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observeLocked(key, rev, value)
}

func (c *keyCache) observeLocked(key string, rev uint64, value []byte) {
	c.log.Note(key, rev)
	if !c.running {
		return
	}
	if e, ok := c.entries[key]; ok {
		if rev <= e.rev {
			return // older than what the cache holds
		}
		if value == nil {
			c.removeLocked(e)
			return
		}
		c.replaceLocked(e, rev, value)
		c.lru.MoveToFront(e.element)
		return
	}
	if value == nil {
		return
	}
	c.insertLocked(key, rev, value)
}

func (c *keyCache) insertLocked(key string, rev uint64, value []byte) {
	// A copy: the value may share the buffer of the whole message.
	e := &cacheEntry{key: key, value: bytes.Clone(value), rev: rev}
	e.element = c.lru.PushFront(e)
	c.entries[key] = e
	for c.lru.Len() > c.size {
		if old, ok := c.lru.Back().Value.(*cacheEntry); ok {
			c.removeLocked(old)
		}
	}
}

func (c *keyCache) removeLocked(e *cacheEntry) {
	c.lru.Remove(e.element)
	c.forgetKeyLocked(e)
	delete(c.entries, e.key)
}

// replaceLocked gives e a newer revision; the key unwrapped from the older
// one goes (an erasure's tombstone has none, a re-wrapping makes its own).
func (c *keyCache) replaceLocked(e *cacheEntry, rev uint64, value []byte) {
	c.forgetKeyLocked(e)
	e.value, e.rev = bytes.Clone(value), rev
}

// forgetKeyLocked drops the unwrapped key of e, if it holds one.
func (c *keyCache) forgetKeyLocked(e *cacheEntry) {
	if e.opened != nil {
		c.opened.Remove(e.opened)
	}
	e.aead, e.opened = nil, nil
}

// lookup returns the cached value of key (wrapped key or tombstone) and,
// on a miss, a ticket for admitting what the caller then reads from the
// bucket.
func (c *keyCache) lookup(key string) (value []byte, hit bool, t Ticket) {
	h, hit, t := c.lookupKey(key)
	return h.value, hit, t
}

// held is what the cache holds of a key: its value at revision rev, and
// the data key unwrapped from it if the cache keeps it (nil otherwise).
type held struct {
	value []byte
	rev   uint64
	aead  cipher.AEAD
}

// lookupKey is lookup with the revision and the unwrapped key.
func (c *keyCache) lookupKey(key string) (h held, hit bool, t Ticket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.usableLocked() {
		return held{}, false, Ticket{}
	}
	if e, ok := c.entries[key]; ok {
		c.lru.MoveToFront(e.element)
		if e.opened != nil {
			c.opened.MoveToFront(e.opened)
		}
		c.hits++
		return held{value: e.value, rev: e.rev, aead: e.aead}, true, Ticket{}
	}
	c.misses++
	return held{}, false, c.log.Ticket()
}

// keepKey keeps aead, the data key unwrapped from revision rev of key, in
// key's entry, if the entry still holds that revision: a newer write (an
// erasure delivered or made while the caller unwrapped) or an eviction
// since leaves nothing to keep it in, and the caller's cipher serves its
// own call only. The least recently used unwrapped key beyond openSize goes.
func (c *keyCache) keepKey(key string, rev uint64, aead cipher.AEAD) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.rev != rev || e.value == nil || bytes.Equal(e.value, tombstone) || c.openSize <= 0 {
		return
	}
	if e.opened != nil {
		c.opened.MoveToFront(e.opened)
		return
	}
	e.aead = aead
	e.opened = c.opened.PushFront(e)
	for c.opened.Len() > c.openSize {
		if old, ok := c.opened.Back().Value.(*cacheEntry); ok {
			c.forgetKeyLocked(old)
		}
	}
}

// admit caches what a read from the bucket returned, unless the cache
// cannot tell that nothing newer of the key arrived while it was read.
func (c *keyCache) admit(t Ticket, key string, rev uint64, value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A newer write of the key that came in during the read: what the
	// watch or the keyring itself put in the cache (or took out) is
	// newer, or was evicted since; either way not this.
	newer := func(k string, seq uint64) bool { return k == key && seq > rev }
	if !c.usableLocked() || !c.log.Admits(t, newer) {
		return
	}
	if e, ok := c.entries[key]; ok {
		if rev > e.rev {
			c.replaceLocked(e, rev, value)
		}
		return
	}
	c.insertLocked(key, rev, value)
}

// drop forgets key (a cached key that no longer unwraps: the KEK was
// rotated and the watch has not delivered the re-wrapped key yet).
func (c *keyCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.removeLocked(e)
	}
}

// reset empties the cache (after a KEK rotation).
func (c *keyCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
}

// CacheStats is what a keyring's data-key cache did so far.
type CacheStats struct {
	// Running: the cache serves (its watch of the bucket runs).
	Running bool
	// Keys held now; Hits and Misses since the start.
	Keys, Hits, Misses int
	// OpenKeys: how many of the Keys are held unwrapped too (at most
	// [DefaultOpenKeys]).
	OpenKeys int
	// Applied is the last bucket revision the watch delivered.
	Applied uint64
	// WatchErr is the last error of the watch, if any.
	WatchErr error
}

func (c *keyCache) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Running: c.running, Keys: len(c.entries), OpenKeys: c.opened.Len(), Hits: int(c.hits), Misses: int(c.misses), Applied: c.applied, WatchErr: c.watchErr}
}
