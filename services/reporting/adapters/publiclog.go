package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/translog"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// TransparencyBucket holds the public log of published reports: its
// origin and first key, each leaf (the signed statement, the checkpoint
// signed when it was added and the report's files, as published) and
// each key rotation. Every key of the public log is written once (Create),
// so a published report can be neither overwritten nor published twice at
// one place; "record.checkpoint" alone grows, the largest record-log tree
// given to a DPA (app.Checkpoints).
const TransparencyBucket = "ddr_reporting_transparency"

const (
	keyOrigin     = "log.origin"
	keyInitialKey = "log.initial_key"
	prefixLeaf    = "leaf."
	prefixRotate  = "rotation."
)

// PublicLog implements app.PublicLog on a JetStream KV bucket.
type PublicLog struct{ KV jetstream.KeyValue }

// EnsurePublicLog creates the bucket (file storage, replicas as the
// stream's, history 1: values are never updated).
func EnsurePublicLog(ctx context.Context, js jetstream.JetStream, replicas int) (*PublicLog, error) {
	kv, err := eventstore.EnsureKeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      TransparencyBucket,
		Description: "ddr: the public log of published transparency reports (written once per key)",
		Replicas:    replicas,
	})
	if err != nil {
		return nil, err
	}
	return &PublicLog{KV: kv}, nil
}

func leafKey(i int) string     { return fmt.Sprintf("%s%08d", prefixLeaf, i) }
func rotationKey(n int) string { return fmt.Sprintf("%s%04d", prefixRotate, n) }

// Load reads the whole log. Keys sort as written (zero-padded), so leaves
// and rotations come back in order; a gap means a damaged bucket.
func (l *PublicLog) Load(ctx context.Context) (transparency.State, error) {
	var st transparency.State
	lister, err := l.KV.ListKeys(ctx)
	if err != nil {
		return st, err
	}
	var leaves, rots []string
	for k := range lister.Keys() {
		switch {
		case strings.HasPrefix(k, prefixLeaf):
			leaves = append(leaves, k)
		case strings.HasPrefix(k, prefixRotate):
			rots = append(rots, k)
		}
	}
	if o, err := l.get(ctx, keyOrigin); err == nil {
		st.Origin = string(o)
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, err
	}
	if k, err := l.get(ctx, keyInitialKey); err == nil {
		st.InitialKey = string(k)
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, err
	}
	for i := range leaves {
		b, err := l.get(ctx, leafKey(i))
		if err != nil {
			return st, fmt.Errorf("public log leaf %d: %w", i, err)
		}
		var e transparency.Published
		if err := json.Unmarshal(b, &e); err != nil {
			return st, fmt.Errorf("public log leaf %d: %w", i, err)
		}
		st.Entries = append(st.Entries, e)
	}
	for n := range rots {
		b, err := l.get(ctx, rotationKey(n+1))
		if err != nil {
			return st, fmt.Errorf("public log rotation %d: %w", n+1, err)
		}
		st.Rotations = append(st.Rotations, b)
	}
	return st, nil
}

func (l *PublicLog) get(ctx context.Context, key string) ([]byte, error) {
	e, err := l.KV.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return e.Value(), nil
}

func (l *PublicLog) create(ctx context.Context, key string, v []byte) error {
	_, err := l.KV.Create(ctx, key, v)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("%w: public log %s was written meanwhile", ddrerr.ErrConflict, key)
	}
	return err
}

// Init records the origin and the first key.
func (l *PublicLog) Init(ctx context.Context, origin, initialKey string) error {
	if err := l.create(ctx, keyOrigin, []byte(origin)); err != nil {
		return err
	}
	return l.create(ctx, keyInitialKey, []byte(initialKey))
}

// Add stores leaf index.
func (l *PublicLog) Add(ctx context.Context, index int, e transparency.Published) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return l.create(ctx, leafKey(index), b)
}

// AddRotation stores the nth rotation statement.
func (l *PublicLog) AddRotation(ctx context.Context, n int, statement []byte) error {
	return l.create(ctx, rotationKey(n), statement)
}

const keyRecordCheckpoint = "record.checkpoint"

// RecordCheckpoints implements app.Checkpoints in the transparency bucket:
// the largest record-log tree handed to a DPA, as its checkpoint text.
type RecordCheckpoints struct{ KV jetstream.KeyValue }

// Last returns the largest tree handed out.
func (r RecordCheckpoints) Last(ctx context.Context) (translog.Checkpoint, bool, error) {
	e, err := r.KV.Get(ctx, keyRecordCheckpoint)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return translog.Checkpoint{}, false, nil
	}
	if err != nil {
		return translog.Checkpoint{}, false, err
	}
	c, err := translog.ParseCheckpoint(string(e.Value()))
	return c, err == nil, err
}

// Put records c as the largest tree handed out.
func (r RecordCheckpoints) Put(ctx context.Context, c translog.Checkpoint) error {
	_, err := r.KV.Put(ctx, keyRecordCheckpoint, c.Text())
	return err
}
