package translog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// A signing key is rotated by a statement both keys sign:
//
//	ddr transparency key rotation v1
//	old <verifier key>
//	new <verifier key>
//	size <S>
//
// The old key signs the log's trees of fewer than S leaves (and the
// statements of leaves below index S-1), the new key those of S leaves and
// more. Signed by both, the statement carries trust either way: a verifier
// that holds any key of the chain trusts every key in it, each only for
// its range, so a retired key's signature on a later tree is refused.
const rotationHeader = "ddr transparency key rotation v1\n"

// RotationText is the body of the statement that moves signing from old to
// next at tree size size.
func RotationText(old, next string, size int64) []byte {
	return fmt.Appendf(nil, "%sold %s\nnew %s\nsize %d\n", rotationHeader, old, next, size)
}

// Rotate returns the rotation statement signed by both keys. size is the
// first tree size next signs: the current size plus one, as the current
// tree's checkpoint is already signed by old.
func Rotate(old, next *Signer, size int64) ([]byte, error) {
	if old.vkey == next.vkey {
		return nil, errors.New("translog: rotation to the same key")
	}
	return note.Sign(&note.Note{Text: string(RotationText(old.vkey, next.vkey, size))}, old.s, next.s)
}

type trustedKey struct {
	vkey        string
	v           note.Verifier
	from, until int64 // tree sizes [from, until); until 0: no end
}

// Trust is the chain of a log's signing keys, each with the tree sizes it
// may sign.
type Trust struct{ keys []trustedKey }

// NewTrust builds the key chain from the rotation statements, in order,
// and trusts it if anchor (a verifier key the caller holds from elsewhere:
// the website, a DPA's letter) is one of its keys.
func NewTrust(anchor string, rotations ...[]byte) (*Trust, error) {
	anchor = strings.TrimSpace(anchor)
	first := anchor
	if len(rotations) > 0 {
		old, _, _, err := parseRotation(NoteText(rotations[0]))
		if err != nil {
			return nil, fmt.Errorf("rotation 1: %w", err)
		}
		first = old
	}
	v, err := note.NewVerifier(first)
	if err != nil {
		return nil, fmt.Errorf("translog: verifier key: %w", err)
	}
	t := &Trust{keys: []trustedKey{{vkey: first, v: v}}}
	for i, msg := range rotations {
		old, next, size, err := parseRotation(NoteText(msg))
		if err != nil {
			return nil, fmt.Errorf("rotation %d: %w", i+1, err)
		}
		cur := &t.keys[len(t.keys)-1]
		if old != cur.vkey {
			return nil, fmt.Errorf("translog: rotation %d: retires a key that is not the current one", i+1)
		}
		if size <= cur.from {
			return nil, fmt.Errorf("translog: rotation %d: size %d does not follow %d", i+1, size, cur.from)
		}
		nv, err := note.NewVerifier(next)
		if err != nil {
			return nil, fmt.Errorf("translog: rotation %d: new key: %w", i+1, err)
		}
		n, err := note.Open(msg, note.VerifierList(cur.v, nv))
		if err != nil {
			return nil, fmt.Errorf("translog: rotation %d: %w", i+1, err)
		}
		if !signedBy(n, cur.v) || !signedBy(n, nv) {
			return nil, fmt.Errorf("%w: rotation %d is not signed by both keys", ErrSignature, i+1)
		}
		cur.until = size
		t.keys = append(t.keys, trustedKey{vkey: next, v: nv, from: size})
	}
	for _, k := range t.keys {
		if k.vkey == anchor {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%w: the given public key is not in the log's key chain", ErrSignature)
}

func signedBy(n *note.Note, v note.Verifier) bool {
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return true
		}
	}
	return false
}

func parseRotation(text string) (old, next string, size int64, err error) {
	rest, ok := strings.CutPrefix(text, rotationHeader)
	lines := strings.Split(strings.TrimSuffix(rest, "\n"), "\n")
	if !ok || len(lines) != 3 {
		return "", "", 0, errors.New("translog: not a key rotation statement")
	}
	old, ok1 := strings.CutPrefix(lines[0], "old ")
	next, ok2 := strings.CutPrefix(lines[1], "new ")
	s, ok3 := strings.CutPrefix(lines[2], "size ")
	size, err = strconv.ParseInt(s, 10, 64)
	if !ok1 || !ok2 || !ok3 || err != nil || size < 1 {
		return "", "", 0, errors.New("translog: malformed key rotation statement")
	}
	return old, next, size, nil
}

// Current is the verifier key that signs new trees.
func (t *Trust) Current() string { return t.keys[len(t.keys)-1].vkey }

// Open checks a signed note made for tree size size: it must carry a valid
// signature by the key of the chain that signs that size. A signature that
// does not verify under a key of the chain is ErrSignature (a forgery); a
// note signed only by a key retired before size is ErrRetiredKey.
func (t *Trust) Open(msg []byte, size int64) (string, error) {
	vs := make([]note.Verifier, len(t.keys))
	for i, k := range t.keys {
		vs[i] = k.v
	}
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSignature, err)
	}
	retired := ""
	for _, k := range t.keys {
		if !signedBy(n, k.v) {
			continue
		}
		if size >= k.from && (k.until == 0 || size < k.until) {
			return n.Text, nil
		}
		retired = fmt.Sprintf("%s+%08x", k.v.Name(), k.v.KeyHash())
	}
	return "", fmt.Errorf("%w: key %s, tree size %d", ErrRetiredKey, retired, size)
}

// OpenCheckpoint checks a signed checkpoint of the log named origin.
func (t *Trust) OpenCheckpoint(msg []byte, origin string) (Checkpoint, error) {
	c, err := ParseCheckpoint(NoteText(msg))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != origin {
		return Checkpoint{}, fmt.Errorf("translog: checkpoint of log %q, want %q", c.Origin, origin)
	}
	if _, err := t.Open(msg, c.Size); err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}
