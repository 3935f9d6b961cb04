package translog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is a log's size and root hash under the log's origin (its
// name), in the C2SP tlog-checkpoint text form:
//
//	<origin>
//	<size>
//	<base64 root hash>
//
// The origin keeps a checkpoint of one log from passing for another's.
type Checkpoint struct {
	Origin string
	Size   int64
	Hash   tlog.Hash
}

// Text is the checkpoint's signed body.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash[:]))
}

// ParseCheckpoint reads what [Checkpoint.Text] writes; lines after the
// third (extensions) are refused, as nothing here writes them.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return Checkpoint{}, errors.New("translog: checkpoint: want three lines")
	}
	origin := strings.TrimSuffix(lines[0], "\n")
	n, err := strconv.ParseInt(strings.TrimSuffix(lines[1], "\n"), 10, 64)
	if err != nil || n < 0 || origin == "" {
		return Checkpoint{}, errors.New("translog: checkpoint: bad origin or size")
	}
	h, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(lines[2], "\n"))
	if err != nil || len(h) != tlog.HashSize {
		return Checkpoint{}, errors.New("translog: checkpoint: bad root hash")
	}
	c := Checkpoint{Origin: origin, Size: n}
	copy(c.Hash[:], h)
	return c, nil
}

// Signer signs checkpoints and statements with an Ed25519 note key. Every
// signature line carries the key's name and id (note's key hash), so a
// verifier knows which key made it.
type Signer struct {
	s    note.Signer
	vkey string
}

// NewSigner reads a note private key ("PRIVATE+KEY+<name>+<id>+<key>", as
// note.GenerateKey writes it).
func NewSigner(skey string) (*Signer, error) {
	skey = strings.TrimSpace(skey)
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("translog: signing key: %w", err)
	}
	// note keeps the public half to itself; derive it from the seed so the
	// verifier key is published from the same file the signer reads.
	parts := strings.SplitN(skey, "+", 5) // the key itself is base64 and may hold "+"
	raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("translog: signing key: not an Ed25519 note key")
	}
	priv := ed25519.NewKeyFromSeed(raw[1:])
	vkey, err := note.NewEd25519VerifierKey(s.Name(), ed25519.PublicKey(priv[ed25519.SeedSize:]))
	if err != nil {
		return nil, err
	}
	return &Signer{s: s, vkey: vkey}, nil
}

// VerifierKey is the public key, in note's verifier key form.
func (s *Signer) VerifierKey() string { return s.vkey }

// KeyID is the key's name and note key hash, as its signature lines show it.
func (s *Signer) KeyID() string { return fmt.Sprintf("%s+%08x", s.s.Name(), s.s.KeyHash()) }

// Sign returns text as a signed note. Ed25519 is deterministic: the same
// text signed twice gives the same bytes.
func (s *Signer) Sign(text []byte) ([]byte, error) {
	return note.Sign(&note.Note{Text: string(text)}, s.s)
}

// SignCheckpoint returns c as a signed note.
func (s *Signer) SignCheckpoint(c Checkpoint) ([]byte, error) { return s.Sign(c.Text()) }

// Errors of verification. Compare with errors.Is.
var (
	ErrSignature       = errors.New("translog: no valid signature by a trusted key")
	ErrRetiredKey      = errors.New("translog: signed by a key retired for this log size")
	ErrInconsistent    = errors.New("translog: log is not an extension of the earlier checkpoint")
	ErrNotIncluded     = errors.New("translog: leaf is not in the tree the checkpoint commits to")
	ErrCheckpointOrder = errors.New("translog: checkpoint is older than the one it is compared with")
)

// NoteText returns the text of a signed note without checking it.
func NoteText(msg []byte) string {
	i := bytes.Index(msg, []byte("\n\n"))
	if i < 0 {
		return ""
	}
	return string(msg[:i+1])
}
