package transparency_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/translog"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

const recOrigin = "example.com/transparency/record-log"

type seal struct {
	blind, head []byte
	count       int
	last        uint64
}

func sealOf(i int, head string) seal {
	b := sha256.Sum256(fmt.Appendf(nil, "blind %d", i))
	h := sha256.Sum256([]byte(head))
	return seal{blind: b[:], head: h[:], count: 1, last: uint64(i + 1)}
}

func recordLog(t *testing.T, seals []seal) *translog.Log {
	t.Helper()
	l := translog.NewLog()
	for _, s := range seals {
		if _, err := l.Append(transparency.RecordLeaf(s.blind, s.head, s.count, s.last)); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// proofOf is what reporting gives a DPA for the request whose seal is
// leaf i: its one entry, its seal and a checkpoint of the whole log.
func proofOf(t *testing.T, s *translog.Signer, l *translog.Log, seals []seal, i int) transparency.RecordProof {
	t.Helper()
	n := l.Size()
	root, _ := l.Root(n)
	cp, err := s.SignCheckpoint(translog.Checkpoint{Origin: recOrigin, Size: n, Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	inc, err := l.ProveLeaf(int64(i), n)
	if err != nil {
		t.Fatal(err)
	}
	x := seals[i]
	return transparency.RecordProof{
		RequestID:  "req",
		Entries:    []transparency.ProofEntry{{Seq: x.last, Type: "t", Time: time.Unix(0, 0), ChainHash: x.head}},
		Seals:      []transparency.SealProof{{EntryCount: 1, LastSeq: x.last, Head: x.head, Blind: x.blind, LeafIndex: int64(i), Inclusion: inc}},
		Checkpoint: cp,
	}
}

// A DPA keeps the record-log checkpoint it was given. The record of a
// request sealed before it is later rewritten (its seal's head changed):
// today's log cannot be proven to extend the kept checkpoint.
func TestClause5_1_DPAVerifierDetectsARecordRewrittenBetweenTwoCheckpoints(t *testing.T) {
	k := newSigner(t)
	var seals []seal
	for i := range 6 {
		seals = append(seals, sealOf(i, fmt.Sprint("head ", i)))
	}
	l := recordLog(t, seals)
	kept := proofOf(t, k, l, seals, 2)
	if _, err := transparency.VerifyRecordProof(kept, k.VerifierKey(), recOrigin, nil, nil); err != nil {
		t.Fatal(err)
	}

	grown := append(append([]seal(nil), seals...), sealOf(6, "head 6"), sealOf(7, "head 7"))
	honest := recordLog(t, grown)
	today := proofOf(t, k, honest, grown, 7)
	cons, _ := honest.ProveConsistency(6, 8)
	if _, err := transparency.VerifyRecordProof(today, k.VerifierKey(), recOrigin, kept.Checkpoint, cons); err != nil {
		t.Fatalf("the honest log fails: %v", err)
	}

	rewritten := append([]seal(nil), grown...)
	rewritten[3] = sealOf(3, "head 3, rewritten")
	forged := recordLog(t, rewritten)
	today = proofOf(t, k, forged, rewritten, 7)
	if _, err := transparency.VerifyRecordProof(today, k.VerifierKey(), recOrigin, nil, nil); err != nil {
		t.Fatalf("the rewritten log is not even self-consistent: %v", err)
	}
	cons, _ = forged.ProveConsistency(6, 8)
	if _, err := transparency.VerifyRecordProof(today, k.VerifierKey(), recOrigin, kept.Checkpoint, cons); !errors.Is(err, translog.ErrInconsistent) {
		t.Fatalf("a rewritten record passed against the kept checkpoint: %v", err)
	}
}

func TestDPAVerifierChecksSealsAndSignature(t *testing.T) {
	k := newSigner(t)
	seals := []seal{sealOf(0, "a"), sealOf(1, "b"), sealOf(2, "c")}
	l := recordLog(t, seals)

	p := proofOf(t, k, l, seals, 1)
	p.Entries[0].ChainHash = bytes.Repeat([]byte{1}, 32)
	if _, err := transparency.VerifyRecordProof(p, k.VerifierKey(), recOrigin, nil, nil); !errors.Is(err, transparency.ErrChanged) {
		t.Fatalf("entry not matching its seal: %v", err)
	}
	p = proofOf(t, k, l, seals, 1)
	p.Seals[0].Blind = bytes.Repeat([]byte{2}, 32)
	if _, err := transparency.VerifyRecordProof(p, k.VerifierKey(), recOrigin, nil, nil); !errors.Is(err, translog.ErrNotIncluded) {
		t.Fatalf("seal not in the log: %v", err)
	}
	p = proofOf(t, newSigner(t), l, seals, 1)
	if _, err := transparency.VerifyRecordProof(p, k.VerifierKey(), recOrigin, nil, nil); !errors.Is(err, translog.ErrSignature) {
		t.Fatalf("checkpoint by another key: %v", err)
	}
}
