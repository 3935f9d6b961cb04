// Package viewcache keeps what the staff's per-request queries fold from
// a request's history (assessment's case, notification's plan, reporting's
// record), so that reading the same request again costs a freshness check
// instead of loading, decoding, opening and folding its events.
//
// Why: a query used to do all of that on every call. The CPU profile of
// the suite serving GetCase at 32 clients (bench/RESULTS.md, issue 19) had
// half of the process's time in eventstore.Store.Load: copying the cached
// messages out of the message cache, decoding the payloads and opening
// their sealed fields; the staff read the same open requests over and
// over.
//
// A view is kept with the sequence of the last event it was folded from
// ([eventstore.History.LastSeq]) and served again only after
// [eventstore.Store.Unchanged] has confirmed, for this call, that the
// request has no event after it: the same check a Load makes (the index,
// the stream's tail, the leader on a replicated stream), so a write
// acknowledged before the read began is always seen (read-your-writes,
// issue 20) and a forged event, which changes the last sequence, makes
// the view be folded again by the caller's fold, which leaves it out.
//
// Erasure: a view holds personal data opened with the request's data key.
// A cache over a store that opens sealed data watches the data-key bucket
// (platform/keys) the way the keyring's own key cache does, an ordered
// consumer of its stream, and drops a request's views on any write to its
// keys (a tombstone, a deletion, a new key). It serves only while that
// watch is known to deliver: not before it runs, and it empties itself
// when the watch reports trouble or the connection reconnects. A view
// folded while a key of its request was written is not kept (the same
// ticket rule as the key cache's). So an erased request's data is served
// from here no longer than from the keyring's cache, which learns of the
// tombstone through the same kind of watch.
//
// Memory: at most a fixed number of views ([DefaultEntries]), least
// recently used out.
//
// A view is shared by every caller that reads it: callers must treat it
// as read-only. The services use it for queries only; their commands fold
// their own state from the record (platform/command), so no command ever
// changes a cached view.
package viewcache

import (
	"container/list"
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/keys"
)

// DefaultEntries bounds a cache: views of the requests the staff are
// working on (a case or a plan is a few kilobytes; a record with its
// entries and timeline some more), so some megabytes per service.
const DefaultEntries = 2048

// Source is the event store a cache checks freshness with
// (*eventstore.Store).
type Source interface {
	// Unchanged reports whether the request's last event is still at
	// lastSeq ([eventstore.Store.Unchanged]).
	Unchanged(ctx context.Context, requestID string, lastSeq uint64) (bool, error)
	// JetStream is the connection the erasure watch runs on.
	JetStream() jetstream.JetStream
	// OpensSealed tells whether views hold opened personal data, and so
	// need the erasure watch.
	OpensSealed() bool
}

// Cache keeps views of type T by request id. A nil *Cache keeps nothing:
// [Cache.Get] builds every time.
type Cache[T any] struct {
	src   Source
	limit int
	watch bool

	once sync.Once

	mu      sync.Mutex
	entries map[string]*list.Element // of *entry[T]
	lru     *list.List               // front: most recently used
	// running: views may be served and kept (the erasure watch
	// delivers, or none is needed).
	running bool
	cont    keys.Continuity
	// log holds the request ids of the last key writes, and a new epoch
	// whenever the cache is emptied: a view built before either of its
	// request is not kept.
	log    keys.WriteLog
	cc     jetstream.ConsumeContext
	hits   uint64
	misses uint64
}

type entry[T any] struct {
	requestID string
	lastSeq   uint64
	view      T
}

// For returns a cache of at most limit views (0: [DefaultEntries]) over
// store when store is a [Source], else nil (a store without an index, or
// a test's fake: every read builds).
func For[T any](store any, limit int) *Cache[T] {
	src, ok := store.(Source)
	if !ok {
		return nil
	}
	if limit <= 0 {
		limit = DefaultEntries
	}
	return &Cache[T]{src: src, limit: limit, watch: src.OpensSealed(), entries: map[string]*list.Element{}, lru: list.New()}
}

// Build folds a request's view from the record and returns it with the
// sequence of the last event it read ([eventstore.History.LastSeq]).
type Build[T any] func(ctx context.Context) (view T, lastSeq uint64, err error)

// Get returns the view of requestID: the kept one when the request has no
// event after it, else build's, which it keeps. The view is shared: the
// caller must not change it.
func (c *Cache[T]) Get(ctx context.Context, requestID string, build Build[T]) (T, error) {
	if c == nil {
		v, _, err := build(ctx)
		return v, err
	}
	c.start()
	e, t, ok := c.lookup(requestID)
	if ok {
		// An error of the check is left to the build to report.
		fresh, err := c.src.Unchanged(ctx, requestID, e.lastSeq)
		// Still kept: no erasure dropped it during the check.
		if err == nil && fresh && c.still(requestID, e) {
			return e.view, nil
		}
	}
	v, seq, err := build(ctx)
	if err == nil {
		c.admit(t, requestID, seq, v)
	}
	return v, err
}

// lookup returns the kept view of requestID, if any, and a ticket for
// keeping what a build then returns.
func (c *Cache[T]) lookup(requestID string) (*entry[T], keys.Ticket, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.usableLocked() {
		return nil, keys.Ticket{}, false
	}
	t := c.log.Ticket()
	if el, ok := c.entries[requestID]; ok {
		c.lru.MoveToFront(el)
		c.hits++
		e, _ := el.Value.(*entry[T])
		return e, t, e != nil
	}
	c.misses++
	return nil, t, false
}

// still reports whether e is still the kept view of requestID.
func (c *Cache[T]) still(requestID string, e *entry[T]) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.usableLocked() {
		return false
	}
	el, ok := c.entries[requestID]
	return ok && el.Value == e
}

// admit keeps view, folded at lastSeq, unless a key of the request was
// written since the build began (or the cache cannot tell).
func (c *Cache[T]) admit(t keys.Ticket, requestID string, lastSeq uint64, view T) {
	if lastSeq == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ofRequest := func(id string, _ uint64) bool { return id == requestID }
	if !c.usableLocked() || !c.log.Admits(t, ofRequest) {
		return
	}
	e := &entry[T]{requestID: requestID, lastSeq: lastSeq, view: view}
	if el, ok := c.entries[requestID]; ok {
		if old, _ := el.Value.(*entry[T]); old != nil && old.lastSeq > lastSeq {
			return // a newer view is kept already
		}
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.entries[requestID] = c.lru.PushFront(e)
	for c.lru.Len() > c.limit {
		c.removeLocked(c.lru.Back())
	}
}

func (c *Cache[T]) removeLocked(el *list.Element) {
	if e, ok := c.lru.Remove(el).(*entry[T]); ok {
		delete(c.entries, e.requestID)
	}
}

// Len returns how many views the cache keeps.
func (c *Cache[T]) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Stats returns the hits and misses of lookups so far (a hit still
// builds again when the request changed).
func (c *Cache[T]) Stats() (hits, misses uint64) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// start begins the erasure watch, once, in the background (or lets the
// cache serve at once when its views hold no personal data). Until it
// runs, reads build every time.
func (c *Cache[T]) start() {
	c.once.Do(func() {
		if !c.watch {
			c.mu.Lock()
			c.running = true
			c.mu.Unlock()
			return
		}
		go c.watchKeys()
	})
}

// watchKeys follows every write to the data-key bucket (platform/keys),
// from now on, and drops the views of the request it is for.
func (c *Cache[T]) watchKeys() {
	js := c.src.JetStream()
	cc, err := keys.WatchBucket(js, true, c.applyKeyWrite, func(error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.clearLocked()
	})
	if err != nil {
		slog.Default().Warn("view cache not started (no watch of the data keys); staff reads fold every time", "error", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cc = cc
	c.cont.Reset(js.Conn())
	c.clearLocked()
	c.running = true
}

// applyKeyWrite drops the views of the request whose key was written.
func (c *Cache[T]) applyKeyWrite(m jetstream.Msg) { c.keyWritten(m.Subject()) }

// keyWritten drops the views of the request whose key the bucket's
// subject names.
func (c *Cache[T]) keyWritten(subject string) {
	key, ok := keys.BucketKey(subject)
	if !ok {
		return
	}
	// "<request id>" or "<request id>.<kind>": a request id has no dot.
	requestID, _, _ := strings.Cut(key, ".")
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log.Note(requestID, 0)
	if el, ok := c.entries[requestID]; ok {
		c.removeLocked(el)
	}
}

func (c *Cache[T]) clearLocked() {
	c.entries = map[string]*list.Element{}
	c.lru.Init()
	c.log.Forget()
}

// usableLocked reports whether the cache may serve and keep views now:
// the watch runs (if needed) and the connection stayed up since the
// cache was last emptied (a reconnect may have lost a delivery).
func (c *Cache[T]) usableLocked() bool {
	if !c.running {
		return false
	}
	if !c.watch {
		return true
	}
	up, forget := c.cont.Check(c.src.JetStream().Conn())
	if forget {
		c.clearLocked()
	}
	return up
}
