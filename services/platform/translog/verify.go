package translog

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// CheckInclusion checks that the leaf with record hash leaf is at index in
// the tree c commits to.
func CheckInclusion(c Checkpoint, index int64, leaf tlog.Hash, proof tlog.RecordProof) error {
	if err := tlog.CheckRecord(proof, c.Size, c.Hash, index, leaf); err != nil {
		return fmt.Errorf("%w: leaf %d in tree of %d: %w", ErrNotIncluded, index, c.Size, err)
	}
	return nil
}

// CheckConsistency checks that the tree of newer extends the tree of older:
// nothing logged by older's time was changed or removed since.
func CheckConsistency(older, newer Checkpoint, proof tlog.TreeProof) error {
	if older.Origin != newer.Origin {
		return fmt.Errorf("%w: checkpoints of two logs (%q, %q)", ErrInconsistent, older.Origin, newer.Origin)
	}
	if newer.Size < older.Size {
		return fmt.Errorf("%w: %d < %d", ErrCheckpointOrder, newer.Size, older.Size)
	}
	if older.Size == 0 {
		return nil // every tree extends the empty one
	}
	if err := tlog.CheckTree(proof, newer.Size, newer.Hash, older.Size, older.Hash); err != nil {
		return fmt.Errorf("%w: tree of %d vs tree of %d: %w", ErrInconsistent, older.Size, newer.Size, err)
	}
	return nil
}

// RootOf computes the tree hash over the given leaves, for a verifier that
// holds every leaf (the public log's statements are all published).
func RootOf(leaves [][]byte) (tlog.Hash, error) {
	l := NewLog()
	for _, d := range leaves {
		if _, err := l.Append(d); err != nil {
			return tlog.Hash{}, err
		}
	}
	return l.Root(l.Size())
}
