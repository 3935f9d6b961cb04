// Package translog keeps signed, append-only transparency logs on the Go
// ecosystem's own packages: golang.org/x/mod/sumdb/tlog for the Merkle
// tree, inclusion proofs and consistency proofs, and
// golang.org/x/mod/sumdb/note for Ed25519-signed checkpoints. Proofs made
// here check with those packages alone, so whoever verifies (the public, a
// data protection authority) needs nothing of the suite.
//
// The package is pure: it holds the tree in memory and hands every new
// stored hash to the caller, which persists it (an adapter over JetStream)
// or rebuilds the log from the record it is derived from.
package translog

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// Log is an append-only Merkle tree of leaves (RFC 6962 hashing, as
// tlog does it). It is safe for concurrent use.
type Log struct {
	mu     sync.RWMutex
	size   int64
	hashes []tlog.Hash // stored hashes, in tlog.StoredHashIndex order
}

// ErrLeafDiffers is returned when a leaf given again at an index the log
// already holds is not the leaf stored there: the record it is derived from
// was rewritten.
var ErrLeafDiffers = errors.New("translog: leaf differs from the one logged at its index")

// NewLog returns an empty log.
func NewLog() *Log { return &Log{} }

// Size is the number of leaves.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.size
}

func (l *Log) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(l.hashes)) {
				return nil, fmt.Errorf("translog: stored hash %d not held (log has %d)", x, len(l.hashes))
			}
			out[i] = l.hashes[x]
		}
		return out, nil
	})
}

// Append adds a leaf and returns its index.
func (l *Log) Append(data []byte) (int64, error) {
	return l.AppendHash(tlog.RecordHash(data))
}

// AppendHash adds a leaf by its record hash (tlog.RecordHash) and returns
// its index.
func (l *Log) AppendHash(h tlog.Hash) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hs, err := tlog.StoredHashesForRecordHash(l.size, h, l.reader())
	if err != nil {
		return 0, err
	}
	l.hashes = append(l.hashes, hs...)
	l.size++
	return l.size - 1, nil
}

// Put places the leaf with record hash h at index: appended when index is
// the log's size, checked against the stored leaf when it is below (a
// replay of the record the log is derived from), refused when above.
func (l *Log) Put(index int64, h tlog.Hash) error {
	if index == l.Size() {
		_, err := l.AppendHash(h)
		return err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if index > l.size || index < 0 {
		return fmt.Errorf("translog: leaf %d given to a log of %d leaves", index, l.size)
	}
	if l.hashes[tlog.StoredHashIndex(0, index)] != h {
		return fmt.Errorf("%w: leaf %d", ErrLeafDiffers, index)
	}
	return nil
}

// LeafHash returns the record hash of leaf index.
func (l *Log) LeafHash(index int64) (tlog.Hash, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if index < 0 || index >= l.size {
		return tlog.Hash{}, fmt.Errorf("translog: leaf %d outside %d leaves", index, l.size)
	}
	return l.hashes[tlog.StoredHashIndex(0, index)], nil
}

// Root returns the tree hash of the first n leaves.
func (l *Log) Root(n int64) (tlog.Hash, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if n < 0 || n > l.size {
		return tlog.Hash{}, fmt.Errorf("translog: tree of %d leaves asked of a log of %d", n, l.size)
	}
	return tlog.TreeHash(n, l.reader())
}

// ProveLeaf returns the inclusion proof of leaf index in the tree of the
// first n leaves.
func (l *Log) ProveLeaf(index, n int64) (tlog.RecordProof, error) {
	return within(l, n, func(r tlog.HashReader) (tlog.RecordProof, error) { return tlog.ProveRecord(n, index, r) })
}

// ProveConsistency returns the proof that the tree of the first oldN
// leaves is a prefix of the tree of the first n.
func (l *Log) ProveConsistency(oldN, n int64) (tlog.TreeProof, error) {
	if oldN > n {
		return nil, fmt.Errorf("%w: %d > %d", ErrCheckpointOrder, oldN, n)
	}
	if oldN == 0 {
		return tlog.TreeProof{}, nil // every tree extends the empty one
	}
	return within(l, n, func(r tlog.HashReader) (tlog.TreeProof, error) { return tlog.ProveTree(n, oldN, r) })
}

// within runs fn under the read lock once n is known to be a tree the log
// holds.
func within[P any](l *Log, n int64, fn func(tlog.HashReader) (P, error)) (P, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if n < 0 || n > l.size {
		var zero P
		return zero, fmt.Errorf("translog: tree of %d leaves asked of a log of %d", n, l.size)
	}
	return fn(l.reader())
}
