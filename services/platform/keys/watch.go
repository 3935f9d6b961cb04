package keys

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// WatchBucket follows every write to the data-key bucket from now on, in
// order (an ordered consumer of the bucket's stream): apply gets each
// write, trouble each error the consumer reports (missed heartbeats, a
// consumer recreated), after which nothing says the watcher is current
// until it delivers again. headersOnly leaves the values out, for a
// watcher that needs to know only which key was written.
//
// Whatever keeps something a data key opened must forget it when the key
// is written (an erasure's tombstone above all): the keyring's key cache
// and the staff's view caches (platform/viewcache) both watch with it.
func WatchBucket(js jetstream.JetStream, headersOnly bool, apply func(jetstream.Msg), trouble func(error)) (jetstream.ConsumeContext, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, "KV_"+Bucket, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"$KV." + Bucket + ".>"},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		HeadersOnly:    headersOnly,
	})
	if err != nil {
		return nil, err
	}
	return cons.Consume(apply, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		trouble(err)
	}))
}

// BucketKey returns the bucket key a watched write's subject names
// ("<request id>" or "<request id>.<kind>").
func BucketKey(subject string) (string, bool) {
	return strings.CutPrefix(subject, "$KV."+Bucket+".")
}

// Continuity tells a watcher whether its watch may have missed a write:
// while the connection is down nothing is delivered, and across a
// reconnect a delivery may have been lost, so what the watch taught must
// be forgotten then. It is not safe for concurrent use: the watcher calls
// it under its own lock.
type Continuity struct{ reconnects uint64 }

// Reset starts counting from nc's reconnects now (the watch just began).
func (c *Continuity) Reset(nc *nats.Conn) { c.reconnects = nc.Stats().Reconnects }

// Check reports whether nc is up, and whether the watcher must forget what
// it learned: the connection is down, or it reconnected since the last
// Reset or Check.
func (c *Continuity) Check(nc *nats.Conn) (up, forget bool) {
	if nc.Status() != nats.CONNECTED {
		return false, true
	}
	if r := nc.Stats().Reconnects; r != c.reconnects {
		c.reconnects = r
		return true, true
	}
	return true, false
}

// writeLogSize is how many recent writes a [WriteLog] remembers.
const writeLogSize = 4096

// WriteLog remembers the last writes a watcher saw (by bucket key), so
// that what a read began before a write returns is not kept after it: an
// erasure's tombstone delivered while a key, or a view opened with it,
// was being read must not be overwritten by what that read returns. It
// also counts how often the watcher forgot everything (an epoch), since
// a read begun before that cannot be judged. Not safe for concurrent
// use: the watcher calls it under its own lock.
type WriteLog struct {
	ring   [writeLogSize]loggedWrite
	writes uint64
	epoch  uint64
}

type loggedWrite struct {
	key string
	seq uint64
}

// Ticket is the state of a [WriteLog] when a read began; the zero Ticket
// admits nothing.
type Ticket struct {
	valid  bool
	epoch  uint64
	writes uint64
}

// Note records a write of key at stream sequence seq.
func (l *WriteLog) Note(key string, seq uint64) {
	l.ring[l.writes%writeLogSize] = loggedWrite{key, seq}
	l.writes++
}

// Forget starts a new epoch: every read begun before is refused.
func (l *WriteLog) Forget() { l.epoch++ }

// Ticket returns the state a read beginning now is judged against.
func (l *WriteLog) Ticket() Ticket { return Ticket{valid: true, epoch: l.epoch, writes: l.writes} }

// Admits reports whether what a read begun at t returned may be kept:
// the log can still tell (same epoch, not too many writes since) and no
// write since t is one that written reports as concerning the read.
func (l *WriteLog) Admits(t Ticket, written func(key string, seq uint64) bool) bool {
	if !t.valid || l.epoch != t.epoch || l.writes-t.writes > writeLogSize {
		return false
	}
	for w := t.writes; w < l.writes; w++ {
		if it := l.ring[w%writeLogSize]; written(it.key, it.seq) {
			return false
		}
	}
	return true
}
