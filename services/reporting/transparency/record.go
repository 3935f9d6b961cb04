package transparency

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/ddrsuite/ddr/services/platform/translog"
)

// The record log has one leaf per seal of any request's record (a
// RecordSealed event), in stream order. A leaf commits to the seal's chain
// head through a keyed blinding value, so the leaves say nothing and cannot
// be guessed; only a DPA given a request's copy gets its blinding values.
// Its checkpoints and proofs go to DPAs only: a public log of every seal
// would show exact counts and timing that the law requires to be banded or
// delayed.
const recordLeafTag = "ddr.record-log.leaf.v1\x00"

// RecordLeaf is the leaf data of one seal.
func RecordLeaf(blind, head []byte, entryCount int, lastSeq uint64) []byte {
	b := append([]byte(recordLeafTag), blind...)
	b = append(b, head...)
	b = binary.BigEndian.AppendUint64(b, uint64(entryCount))
	return binary.BigEndian.AppendUint64(b, lastSeq)
}

// RecordOrigin is the record log's origin beside the public log's.
func RecordOrigin(publicOrigin string) string { return publicOrigin + "/record-log" }

// ProofEntry is one entry of the record copy a DPA gets: no payload, no
// subject, no person.
type ProofEntry struct {
	Seq           uint64
	Type          string
	Time          time.Time
	Actor         string // role and keyed pseudonym, e.g. "staff:3kq1x0p2"
	PayloadDigest []byte
	ChainHash     []byte
}

// SealProof places one seal of the record in the record log.
type SealProof struct {
	EntryCount int
	LastSeq    uint64
	Head       []byte
	Blind      []byte
	LeafIndex  int64
	Inclusion  tlog.RecordProof
}

// RecordProof is what a DPA is given for a request in its remit.
type RecordProof struct {
	RequestID  string
	Entries    []ProofEntry
	Seals      []SealProof
	Checkpoint []byte // signed record-log checkpoint
}

// VerifyRecordProof checks a DPA's record copy offline with the public key
// vkey: the checkpoint's signature, that each seal's head is the chain hash
// of the entry it says it covers, and that each seal is a leaf of the
// signed record log. With previous (a record-log checkpoint the DPA kept)
// and consistency (the proof GetRecordLogConsistency gave for it), it
// checks that the log today extends what the DPA saw before: a record
// rewritten in between fails.
func VerifyRecordProof(p RecordProof, vkey, origin string, previous []byte, consistency tlog.TreeProof) (translog.Checkpoint, error) {
	trust, err := translog.NewTrust(vkey)
	if err != nil {
		return translog.Checkpoint{}, err
	}
	cp, err := trust.OpenCheckpoint(p.Checkpoint, origin)
	if err != nil {
		return translog.Checkpoint{}, err
	}
	for i := 1; i < len(p.Entries); i++ {
		if p.Entries[i].Seq <= p.Entries[i-1].Seq {
			return cp, fmt.Errorf("%w: entries out of order at %d", ErrLog, i)
		}
	}
	for i, s := range p.Seals {
		if s.EntryCount < 1 || s.EntryCount > len(p.Entries) {
			return cp, fmt.Errorf("%w: seal %d covers %d entries of %d", ErrLog, i, s.EntryCount, len(p.Entries))
		}
		last := p.Entries[s.EntryCount-1]
		if last.Seq != s.LastSeq || !bytes.Equal(last.ChainHash, s.Head) {
			return cp, fmt.Errorf("%w: seal %d does not match the chain hash of entry seq %d", ErrChanged, i, last.Seq)
		}
		leaf := tlog.RecordHash(RecordLeaf(s.Blind, s.Head, s.EntryCount, s.LastSeq))
		if err := translog.CheckInclusion(cp, s.LeafIndex, leaf, s.Inclusion); err != nil {
			return cp, fmt.Errorf("seal %d: %w", i, err)
		}
	}
	if previous != nil {
		prev, err := trust.OpenCheckpoint(previous, origin)
		if err != nil {
			return cp, fmt.Errorf("previous checkpoint: %w", err)
		}
		if err := translog.CheckConsistency(prev, cp, consistency); err != nil {
			return cp, err
		}
	}
	return cp, nil
}
