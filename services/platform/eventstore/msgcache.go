package eventstore

import (
	"container/list"
	"maps"
	"slices"
	"sync"
)

// DefaultMessageCacheBytes bounds the messages a store with an index keeps
// (see msgCache): some 20,000 events of a typical size, per store (one
// per service).
const DefaultMessageCacheBytes = 8 << 20

// WithMessageCache sets the bound in bytes of the messages a store with an
// index ([WithIndex]) keeps after reading them; 0 turns the cache off.
func WithMessageCache(bytes int) Option {
	return func(s *Store) { s.msgCacheBytes = max(bytes, 0) }
}

// msgCache keeps the stream's messages a store recently read, by sequence,
// least recently used out past its byte bound. A message at a sequence of
// the DDR stream never changes (the record is never rewritten), so a
// cached message is never stale and nothing invalidates it. It saves the
// indexed read its direct gets for the events it already holds: each of
// those may make the server load a whole message block from disk (a
// request's ten events lie in ten blocks of a long stream), which is what
// still made a load of an old request cost more in a longer stream. What
// it holds is what the stream holds: payloads with their personal data
// sealed, opened on every read as before, so erasure still takes effect
// at once.
type msgCache struct {
	limit int

	mu    sync.Mutex
	bySeq map[uint64]*list.Element
	lru   *list.List // of RawMsg, front most recently used
	size  int
}

func newMsgCache(limit int) *msgCache {
	return &msgCache{limit: limit, bySeq: map[uint64]*list.Element{}, lru: list.New()}
}

func msgSize(m RawMsg) int {
	n := 96 + len(m.Subject) + len(m.Data)
	for k, vs := range m.Header {
		n += len(k) + 16
		for _, v := range vs {
			n += len(v) + 16
		}
	}
	return n
}

// split returns the cached messages among seqs and the sequences it does
// not hold.
func (c *msgCache) split(seqs []uint64) (have []RawMsg, missing []uint64) {
	if c == nil {
		return nil, seqs
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, seq := range seqs {
		if e, ok := c.bySeq[seq]; ok {
			c.lru.MoveToFront(e)
			if m, ok := e.Value.(RawMsg); ok {
				have = append(have, cloneMsg(m))
				continue
			}
		}
		missing = append(missing, seq)
	}
	return have, missing
}

func (c *msgCache) put(msgs []RawMsg) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		if _, ok := c.bySeq[m.Sequence]; ok {
			continue
		}
		m = cloneMsg(m)
		c.bySeq[m.Sequence] = c.lru.PushFront(m)
		c.size += msgSize(m)
	}
	for c.size > c.limit && c.lru.Len() > 0 {
		e := c.lru.Back()
		if m, ok := c.lru.Remove(e).(RawMsg); ok {
			delete(c.bySeq, m.Sequence)
			c.size -= msgSize(m)
		}
	}
}

// cloneMsg copies m, so that neither the cache nor a reader can change
// what the other holds.
func cloneMsg(m RawMsg) RawMsg {
	m.Data = slices.Clone(m.Data)
	if m.Header != nil {
		h := maps.Clone(m.Header)
		for k, vs := range h {
			h[k] = slices.Clone(vs)
		}
		m.Header = h
	}
	return m
}
