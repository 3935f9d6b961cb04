package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// Digest is a SHA-256 value. It prints and marshals as lowercase hex.
type Digest [sha256.Size]byte

// String returns the digest in hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText encodes the digest as hex, so JSON and CSV carry a stable form.
func (d Digest) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(d)))
	hex.Encode(out, d[:])
	return out, nil
}

// UnmarshalText decodes a hex digest.
func (d *Digest) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != len(d) {
		return fmt.Errorf("digest: want %d hex characters, got %d", 2*len(d), len(b))
	}
	_, err := hex.Decode(d[:], b)
	return err
}

// PayloadDigest is the digest a record entry keeps instead of the payload.
func PayloadDigest(payload []byte) Digest { return sha256.Sum256(payload) }

// Entry is one event of a request as the record keeps it. It holds who and
// when, and a digest of the payload as stored, never the payload itself: the
// record must prove what happened without copying personal data.
type Entry struct {
	Seq           uint64    // stream sequence
	Subject       string    // ddr.req.<request_id>.<service>.<event>
	Type          string    // event type name, e.g. ddr.intake.v1.RequestReceived
	EventID       string    // ce-id
	Actor         string    // who caused it (SPIFFE-style URI); may be empty
	Time          time.Time // ce-time
	PayloadDigest Digest    // SHA-256 of the payload bytes as stored
}

// entryTag separates entry hashes from every other hash in the suite, so a
// digest of one kind can never be passed off as another.
const entryTag = "ddr.record.entry.v1\x00"

// EntryHash returns the chain hash of e given the hash of the entry before
// it (the zero Digest for the first entry). The encoding is canonical: fixed
// width integers, length-prefixed strings, time as UTC Unix nanoseconds.
func EntryHash(prev Digest, e Entry) Digest {
	var stack [512]byte
	b := append(stack[:0], entryTag...)
	b = append(b, prev[:]...)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = appendString(b, e.Subject)
	b = appendString(b, e.Type)
	b = appendString(b, e.EventID)
	b = appendString(b, e.Actor)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	b = append(b, e.PayloadDigest[:]...)
	return sha256.Sum256(b)
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Chain is the tamper-evident record of one request: entries in stream order,
// each hash committing to the one before. The zero value is an empty chain.
type Chain struct {
	entries []Entry
	hashes  []Digest
}

// Append validates e, adds it to the chain and returns its hash. Entries must
// come in stream order: a sequence not above the last one is refused, since
// the record is append-only.
func (c *Chain) Append(e Entry) (Digest, error) {
	var v ddrerr.Collector
	if e.Seq == 0 {
		v.Add("seq", "must be a stream sequence (above zero)")
	}
	if e.Subject == "" {
		v.Add("subject", "is required")
	}
	if e.Type == "" {
		v.Add("type", "is required")
	}
	if e.EventID == "" {
		v.Add("event_id", "is required")
	}
	if e.Time.IsZero() {
		v.Add("time", "is required")
	}
	if err := v.Err(); err != nil {
		return Digest{}, err
	}
	if n := len(c.entries); n > 0 && e.Seq <= c.entries[n-1].Seq {
		return Digest{}, fmt.Errorf("%w: entry seq %d does not follow seq %d", ddrerr.ErrFailedPrecondition, e.Seq, c.entries[n-1].Seq)
	}
	h := EntryHash(c.Head(), e)
	c.entries = append(c.entries, e)
	c.hashes = append(c.hashes, h)
	return h, nil
}

// Head is the hash of the last entry, the zero Digest for an empty chain. It
// commits to the whole record of the request.
func (c *Chain) Head() Digest {
	if len(c.hashes) == 0 {
		return Digest{}
	}
	return c.hashes[len(c.hashes)-1]
}

// Len is the number of entries.
func (c *Chain) Len() int { return len(c.entries) }

// Entries returns a copy of the entries, in order.
func (c *Chain) Entries() []Entry { return append([]Entry(nil), c.entries...) }

// Hashes returns a copy of the entry hashes, in order.
func (c *Chain) Hashes() []Digest { return append([]Digest(nil), c.hashes...) }

// ErrChainBroken matches every [ChainBreakError].
var ErrChainBroken = errors.New("record hash chain broken")

// ChainBreakError names the first place where a stored record no longer
// matches its hashes: everything before Index is intact.
type ChainBreakError struct {
	Index    int    // position of the first bad entry
	Seq      uint64 // its stream sequence, 0 if there is no entry at Index
	Expected Digest // hash recomputed from the entries
	Found    Digest // hash stored with the record
	Reason   string
}

func (e *ChainBreakError) Error() string {
	return fmt.Sprintf("record hash chain broken at index %d (seq %d): %s: expected %s, found %s",
		e.Index, e.Seq, e.Reason, e.Expected, e.Found)
}

// Unwrap lets callers test with errors.Is(err, ErrChainBroken).
func (e *ChainBreakError) Unwrap() error { return ErrChainBroken }

// Verify recomputes the chain over entries and compares it with the stored
// hashes. It returns nil when they match, or a *ChainBreakError naming the
// first break: a changed, inserted, dropped or reordered entry, or a missing
// or extra hash.
func Verify(entries []Entry, hashes []Digest) error {
	var prev Digest
	for i, e := range entries {
		want := EntryHash(prev, e)
		if i >= len(hashes) {
			return &ChainBreakError{Index: i, Seq: e.Seq, Expected: want, Reason: "no stored hash for this entry"}
		}
		if want != hashes[i] {
			return &ChainBreakError{Index: i, Seq: e.Seq, Expected: want, Found: hashes[i], Reason: "entry does not match its stored hash"}
		}
		if i > 0 && e.Seq <= entries[i-1].Seq {
			// Only reachable if the stored hashes were recomputed over a reordered
			// record; the record is in stream order by construction.
			return &ChainBreakError{Index: i, Seq: e.Seq, Expected: want, Found: hashes[i], Reason: "entry out of stream order"}
		}
		prev = want
	}
	if len(hashes) > len(entries) {
		return &ChainBreakError{Index: len(entries), Found: hashes[len(entries)], Reason: "stored hash without an entry"}
	}
	return nil
}
