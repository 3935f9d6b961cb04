package adapters

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/notification/app"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// LeaseBucket is the KV bucket of delivery leases.
const LeaseBucket = "ddr_notification_delivery_leases"

// Leases are exclusive, expiring claims on delivery ids in a JetStream KV
// bucket: Create succeeds for one claimant only, and the bucket's TTL frees
// a lease whose holder died.
type Leases struct {
	kv    jetstream.KeyValue
	owner string
	revs  sync.Map // key -> revision of our lease
}

var _ app.Leaser = (*Leases)(nil)

// EnsureLeases creates or opens the lease bucket; ttl bounds how long a
// dead holder blocks a retry, and must exceed one send.
func EnsureLeases(ctx context.Context, js jetstream.JetStream, replicas int, ttl time.Duration, owner string) (*Leases, error) {
	kv, err := eventstore.EnsureKeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      LeaseBucket,
		Description: "notification delivery leases: delivery id -> instance sending it",
		History:     1,
		TTL:         ttl,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("lease bucket: %w", err)
	}
	return &Leases{kv: kv, owner: owner}, nil
}

// Acquire implements app.Leaser.
func (l *Leases) Acquire(ctx context.Context, key string) (bool, error) {
	rev, err := l.kv.Create(ctx, key, []byte(l.owner))
	switch {
	case err == nil:
		l.revs.Store(key, rev)
		return true, nil
	case errors.Is(err, jetstream.ErrKeyExists):
		return false, nil
	}
	return false, fmt.Errorf("lease %s: %w", key, err)
}

// Release implements app.Leaser. It deletes only our own lease: one that
// expired and was taken by another instance stays theirs.
func (l *Leases) Release(ctx context.Context, key string) {
	rev, ok := l.revs.LoadAndDelete(key)
	if !ok {
		return
	}
	r, ok := rev.(uint64)
	if !ok {
		return
	}
	// Best effort: a lease not released expires with the bucket's TTL.
	_ = l.kv.Delete(ctx, key, jetstream.LastRevision(r))
}
