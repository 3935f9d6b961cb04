package domain

import (
	"crypto/sha256"
	"errors"
	"fmt"
)

// The Merkle tree follows RFC 6962 (Certificate Transparency): leaves and
// nodes are hashed with different prefixes, so a node can never pass for a
// leaf, and an unpaired node is carried up unchanged. Using a published
// construction lets a data protection authority check a proof with tools of
// its own.

// MerkleLeaf hashes leaf data as RFC 6962 does: SHA-256(0x00 || data).
func MerkleLeaf(data []byte) Digest {
	var stack [256]byte
	b := append(append(stack[:0], 0), data...)
	return sha256.Sum256(b)
}

func merkleNode(left, right Digest) Digest {
	var b [1 + 2*sha256.Size]byte
	b[0] = 1
	copy(b[1:], left[:])
	copy(b[1+sha256.Size:], right[:])
	return sha256.Sum256(b[:])
}

// MerkleRoot returns the root over leaf hashes in order; the root of no
// leaves is SHA-256 of the empty string.
func MerkleRoot(leaves []Digest) Digest {
	if len(leaves) == 0 {
		return sha256.Sum256(nil)
	}
	level := append([]Digest(nil), leaves...)
	for len(level) > 1 {
		level = reduce(level)
	}
	return level[0]
}

// reduce hashes one level into the next, in place, carrying an odd node up.
func reduce(level []Digest) []Digest {
	n := 0
	for i := 0; i < len(level); i += 2 {
		if i+1 < len(level) {
			level[n] = merkleNode(level[i], level[i+1])
		} else {
			level[n] = level[i]
		}
		n++
	}
	return level[:n]
}

// MerkleProof shows that the leaf at Index is in a tree of Size leaves: Path
// holds the sibling hashes from the leaf up.
type MerkleProof struct {
	Index uint64   `json:"index"`
	Size  uint64   `json:"size"`
	Path  []Digest `json:"path"`
}

// ProveMerkle returns the inclusion proof of leaves[index].
func ProveMerkle(leaves []Digest, index int) (MerkleProof, error) {
	if index < 0 || index >= len(leaves) {
		return MerkleProof{}, fmt.Errorf("merkle proof: index %d outside %d leaves", index, len(leaves))
	}
	p := MerkleProof{Index: uint64(index), Size: uint64(len(leaves))}
	level := append([]Digest(nil), leaves...)
	for i := index; len(level) > 1; i /= 2 {
		if sib := i ^ 1; sib < len(level) {
			p.Path = append(p.Path, level[sib])
		}
		level = reduce(level)
	}
	return p, nil
}

// ErrMerkleProof matches every failed proof check.
var ErrMerkleProof = errors.New("merkle proof does not verify")

// VerifyMerkle checks that leaf is at p.Index in the tree of p.Size leaves
// with the given root (the algorithm of RFC 9162, section 2.1.3.2).
func VerifyMerkle(root, leaf Digest, p MerkleProof) error {
	if p.Index >= p.Size {
		return fmt.Errorf("%w: index %d outside %d leaves", ErrMerkleProof, p.Index, p.Size)
	}
	fn, sn := p.Index, p.Size-1
	r := leaf
	for _, sib := range p.Path {
		if sn == 0 {
			return fmt.Errorf("%w: path longer than the tree is high", ErrMerkleProof)
		}
		if fn&1 == 1 || fn == sn {
			r = merkleNode(sib, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = merkleNode(r, sib)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: path shorter than the tree is high", ErrMerkleProof)
	}
	if r != root {
		return fmt.Errorf("%w: computed root %s, want %s", ErrMerkleProof, r, root)
	}
	return nil
}
