package translog_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ddrsuite/ddr/services/platform/translog"
)

func signer(t *testing.T, name string) *translog.Signer {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := translog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fill(t *testing.T, l *translog.Log, from, to int, prefix string) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := l.Append(fmt.Appendf(nil, "%s%d", prefix, i)); err != nil {
			t.Fatal(err)
		}
	}
}

func checkpoint(t *testing.T, l *translog.Log, n int64) translog.Checkpoint {
	t.Helper()
	h, err := l.Root(n)
	if err != nil {
		t.Fatal(err)
	}
	return translog.Checkpoint{Origin: "test/log", Size: n, Hash: h}
}

// Every leaf is proven in every later tree, and every tree is consistent
// with every later one, with tlog's own checks.
func TestLogProvesInclusionAndConsistency(t *testing.T) {
	l := translog.NewLog()
	fill(t, l, 0, 37, "leaf")
	for n := int64(1); n <= l.Size(); n += 5 {
		c := checkpoint(t, l, n)
		for i := range n {
			p, err := l.ProveLeaf(i, n)
			if err != nil {
				t.Fatal(err)
			}
			if err := translog.CheckInclusion(c, i, tlog.RecordHash(fmt.Appendf(nil, "leaf%d", i)), p); err != nil {
				t.Fatalf("leaf %d in %d: %v", i, n, err)
			}
			if err := translog.CheckInclusion(c, i, tlog.RecordHash([]byte("other")), p); !errors.Is(err, translog.ErrNotIncluded) {
				t.Fatalf("a leaf never logged is proven: %v", err)
			}
		}
		for m := n; m <= l.Size(); m += 3 {
			p, err := l.ProveConsistency(n, m)
			if err != nil {
				t.Fatal(err)
			}
			if err := translog.CheckConsistency(c, checkpoint(t, l, m), p); err != nil {
				t.Fatalf("%d -> %d: %v", n, m, err)
			}
		}
	}
}

// A log whose fifth leaf was rewritten after a checkpoint of 10 leaves
// cannot prove that it extends that checkpoint: the consistency check
// fails, whatever the log's operator sends.
func TestRewrittenLeafFailsConsistency(t *testing.T) {
	honest := translog.NewLog()
	fill(t, honest, 0, 10, "e")
	old := checkpoint(t, honest, 10)

	forged := translog.NewLog()
	fill(t, forged, 0, 5, "e")
	if _, err := forged.Append([]byte("rewritten")); err != nil {
		t.Fatal(err)
	}
	fill(t, forged, 6, 20, "e")
	p, err := forged.ProveConsistency(10, 20)
	if err != nil {
		t.Fatal(err)
	}
	if err := translog.CheckConsistency(old, checkpoint(t, forged, 20), p); !errors.Is(err, translog.ErrInconsistent) {
		t.Fatalf("a rewritten log passed the consistency check: %v", err)
	}
	if p, err := honest.ProveConsistency(0, 10); err != nil || translog.CheckConsistency(translog.Checkpoint{Origin: "test/log"}, old, p) != nil {
		t.Fatalf("the empty tree is not extended: %v", err)
	}
	fill(t, honest, 10, 20, "e")
	p, _ = honest.ProveConsistency(10, 20)
	if err := translog.CheckConsistency(old, checkpoint(t, honest, 20), p); err != nil {
		t.Fatalf("the honest log fails: %v", err)
	}
}

// Replaying the record a log is derived from finds a leaf that differs.
func TestPutDetectsAChangedReplay(t *testing.T) {
	l := translog.NewLog()
	for i := range 4 {
		if err := l.Put(int64(i), tlog.RecordHash(fmt.Appendf(nil, "%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Put(2, tlog.RecordHash([]byte("2"))); err != nil {
		t.Fatalf("an identical replay is refused: %v", err)
	}
	if err := l.Put(2, tlog.RecordHash([]byte("x"))); !errors.Is(err, translog.ErrLeafDiffers) {
		t.Fatalf("a changed replay: %v", err)
	}
	if err := l.Put(9, tlog.RecordHash([]byte("9"))); err == nil {
		t.Fatal("a leaf beyond the end was placed")
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	l := translog.NewLog()
	fill(t, l, 0, 3, "x")
	c := checkpoint(t, l, 3)
	got, err := translog.ParseCheckpoint(string(c.Text()))
	if err != nil || got != c {
		t.Fatalf("got %+v, %v; want %+v", got, err, c)
	}
	for _, bad := range []string{"", "o\n3\n", "o\nx\nAAAA\n", "o\n3\n" + "AAAA\n", string(c.Text()) + "ext\n"} {
		if _, err := translog.ParseCheckpoint(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The key chain: a checkpoint verifies under the key of its size, a forged
// signature and a retired key's signature do not, and trust from any key
// of the chain reaches the others only through statements both signed.
func TestTrustKeyRotation(t *testing.T) {
	k0, k1 := signer(t, "ddr-test"), signer(t, "ddr-test")
	rot, err := translog.Rotate(k0, k1, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, anchor := range []string{k0.VerifierKey(), k1.VerifierKey()} {
		tr, err := translog.NewTrust(anchor, rot)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Current() != k1.VerifierKey() {
			t.Fatal("current key is not the new one")
		}
		old, _ := k0.SignCheckpoint(translog.Checkpoint{Origin: "o", Size: 4})
		if _, err := tr.OpenCheckpoint(old, "o"); err != nil {
			t.Fatalf("old key within its range: %v", err)
		}
		late, _ := k0.SignCheckpoint(translog.Checkpoint{Origin: "o", Size: 5})
		if _, err := tr.OpenCheckpoint(late, "o"); !errors.Is(err, translog.ErrRetiredKey) {
			t.Fatalf("retired key past its range: %v", err)
		}
		early, _ := k1.SignCheckpoint(translog.Checkpoint{Origin: "o", Size: 4})
		if _, err := tr.OpenCheckpoint(early, "o"); !errors.Is(err, translog.ErrRetiredKey) {
			t.Fatalf("new key before its range: %v", err)
		}
		now, _ := k1.SignCheckpoint(translog.Checkpoint{Origin: "o", Size: 9})
		if _, err := tr.OpenCheckpoint(now, "o"); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.OpenCheckpoint(now, "other"); err == nil {
			t.Fatal("a checkpoint of another log passed")
		}
		forged := append([]byte(nil), now...)
		forged[len(forged)-5] ^= 'A' ^ 'B'
		if _, err := tr.OpenCheckpoint(forged, "o"); !errors.Is(err, translog.ErrSignature) {
			t.Fatalf("forged signature: %v", err)
		}
		stranger := signer(t, "ddr-test")
		bad, _ := stranger.SignCheckpoint(translog.Checkpoint{Origin: "o", Size: 9})
		if _, err := tr.OpenCheckpoint(bad, "o"); !errors.Is(err, translog.ErrSignature) {
			t.Fatalf("unknown key: %v", err)
		}
	}
	// A rotation signed by the old key alone does not extend trust.
	k2 := signer(t, "ddr-test")
	only, _ := k1.Sign(translog.RotationText(k1.VerifierKey(), k2.VerifierKey(), 8))
	if _, err := translog.NewTrust(k0.VerifierKey(), rot, only); !errors.Is(err, translog.ErrSignature) {
		t.Fatalf("one-sided rotation: %v", err)
	}
	if _, err := translog.NewTrust(signer(t, "x").VerifierKey(), rot); !errors.Is(err, translog.ErrSignature) {
		t.Fatalf("anchor outside the chain: %v", err)
	}
}

// Signing is deterministic, so re-publishing signs to the same bytes.
func TestSignDeterministic(t *testing.T) {
	k := signer(t, "ddr-test")
	a, _ := k.Sign([]byte("text\n"))
	b, _ := k.Sign([]byte("text\n"))
	if string(a) != string(b) {
		t.Fatal("two signatures of one text differ")
	}
}
