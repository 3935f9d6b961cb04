package keys

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// entry is a bucket entry as read.
type entry struct {
	value []byte
	rev   uint64
}

// get reads key from the bucket. A direct get may be answered by a replica
// of the bucket's stream that has not applied the latest writes yet (see
// eventstore/consistent.go): on a cluster, a key another service instance
// has just created, through another server, may be reported missing. So a
// "not found" is asked again of the stream's leader, which has applied
// every acknowledged write; a key that is there, the common case, costs
// nothing more. jetstream.ErrKeyNotFound when the leader has none either.
func (k *Keyring) get(ctx context.Context, kv jetstream.KeyValue, key string) (entry, error) {
	e, err := kv.Get(ctx, key)
	if err == nil {
		return entry{value: e.Value(), rev: e.Revision()}, nil
	}
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return entry{}, err
	}
	js := k.jetStream()
	if js == nil {
		return entry{}, err
	}
	v, rev, lerr := eventstore.LeaderKVGet(ctx, js, Bucket, key)
	if errors.Is(lerr, eventstore.ErrNotFound) {
		return entry{}, err
	}
	if lerr != nil {
		return entry{}, lerr
	}
	return entry{value: v, rev: rev}, nil
}
