package domain_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

func leavesN(n int) []domain.Digest {
	out := make([]domain.Digest, n)
	for i := range out {
		out[i] = domain.MerkleLeaf([]byte(fmt.Sprint("leaf ", i)))
	}
	return out
}

func TestMerkle_RootIsRFC6962TreeHash(t *testing.T) {
	if domain.MerkleRoot(nil) != sha256.Sum256(nil) {
		t.Fatal("empty root")
	}
	for n := 1; n <= 70; n++ {
		l := leavesN(n)
		if got, want := domain.MerkleRoot(l), refRoot(l); got != want {
			t.Fatalf("n=%d: root %s, want %s", n, got, want)
		}
	}
	l := leavesN(5)
	before := append([]domain.Digest(nil), l...)
	domain.MerkleRoot(l)
	if fmt.Sprint(l) != fmt.Sprint(before) {
		t.Fatal("MerkleRoot changed its input")
	}
}

func TestMerkle_ProofVerifiesForEveryLeafAndOnlyThere(t *testing.T) {
	for n := 1; n <= 40; n++ {
		l := leavesN(n)
		root := domain.MerkleRoot(l)
		for i := range n {
			p, err := domain.ProveMerkle(l, i)
			if err != nil {
				t.Fatal(err)
			}
			if err := domain.VerifyMerkle(root, l[i], p); err != nil {
				t.Fatalf("n=%d i=%d: %v", n, i, err)
			}
			other := l[(i+1)%n]
			if n > 1 && domain.VerifyMerkle(root, other, p) == nil {
				t.Fatalf("n=%d i=%d: proof accepts another leaf", n, i)
			}
			moved := p
			moved.Index = uint64((i + 1) % n)
			if n > 1 && domain.VerifyMerkle(root, l[i], moved) == nil {
				t.Fatalf("n=%d i=%d: proof accepts another index", n, i)
			}
			if len(p.Path) > 0 {
				short := p
				short.Path = p.Path[:len(p.Path)-1]
				if err := domain.VerifyMerkle(root, l[i], short); !errors.Is(err, domain.ErrMerkleProof) {
					t.Fatalf("n=%d i=%d: proof accepts a truncated path", n, i)
				}
			}
		}
	}
	if _, err := domain.ProveMerkle(leavesN(3), 3); err == nil {
		t.Fatal("proof outside the tree")
	}
}

func TestClause5_1_AuthorityChecksARequestIsCounted(t *testing.T) {
	facts := toFacts(genRequests(11, 3000, h1))
	r := build(t, facts, h1, cfg250, late)
	checked := map[domain.Restriction]int{}
	for _, f := range facts {
		if !h1.Contains(f.ReceivedAt) || checked[f.Restriction] >= 3 {
			continue
		}
		checked[f.Restriction]++
		p, err := domain.ProveInclusion(facts, r, f.RequestID)
		if f.Restriction == domain.RestrictionExcludedByCourtOrder {
			if !errors.Is(err, ddrerr.ErrNotFound) {
				t.Fatalf("excluded request: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", f.RequestID, err)
		}
		if err := domain.VerifyInclusion(r, f, p); err != nil {
			t.Fatalf("%s (%s): %v", f.RequestID, f.Restriction, err)
		}
		// The proof also pins how the request was counted.
		wrong := f
		wrong.Outcome = (f.Outcome + 1) % domain.Outcome(len(domain.Outcomes()))
		if err := domain.VerifyInclusion(r, wrong, p); !errors.Is(err, domain.ErrMerkleProof) {
			t.Fatalf("proof accepts a different outcome: %v", err)
		}
		wrong = f
		wrong.Restriction = domain.RestrictionNone
		if f.Restriction == domain.RestrictionNone {
			wrong.Restriction = domain.RestrictionNationalSecurity
		}
		if err := domain.VerifyInclusion(r, wrong, p); err == nil {
			t.Fatal("proof accepts the request in the other section")
		}
		// The tree size is part of the report, not the proof's to choose.
		if f.Restriction == domain.RestrictionNone {
			resized := p
			resized.Proof.Size++
			if err := domain.VerifyInclusion(r, f, resized); !errors.Is(err, domain.ErrMerkleProof) {
				t.Fatalf("proof with another tree size: %v", err)
			}
		}
	}
	if checked[domain.RestrictionNone] == 0 || checked[domain.RestrictionNationalSecurity] == 0 || checked[domain.RestrictionExcludedByCourtOrder] == 0 {
		t.Fatalf("generator gave no request of some kind: %v", checked)
	}
	if _, err := domain.ProveInclusion(facts, r, "no-such-request"); !errors.Is(err, ddrerr.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	// Facts that do not reproduce the report cannot be used to prove anything.
	if _, err := domain.ProveInclusion(facts[1:], r, facts[2].RequestID); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("proof from facts that do not match: %v", err)
	}
}
