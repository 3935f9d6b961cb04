package domain

import "fmt"

// Seal is a chain head written into the record itself (a RecordSealed
// event) when the request reached a terminal point. The stream is
// append-only, so a later change to an earlier entry shows as a seal whose
// head no longer matches the recomputed chain.
type Seal struct {
	Index      int    // position of the sealing event in the record
	LastSeq    uint64 // stream sequence of the last entry the head covers
	EntryCount int    // number of entries the head covers
	Head       Digest
}

// VerifySeals recomputes the chain over entries and checks every seal
// against it. It returns nil when all hold, or a *ChainBreakError at the
// first entry not vouched for by an earlier intact seal: the seal only
// carries a head, so the break is known to lie between that entry and the
// seal's last covered entry (both are in Reason).
func VerifySeals(entries []Entry, seals []Seal) error {
	hashes := make([]Digest, len(entries))
	var prev Digest
	for i, e := range entries {
		prev = EntryHash(prev, e)
		hashes[i] = prev
	}
	good := 0 // entries before this index are covered by an intact seal
	for _, s := range seals {
		last := s.EntryCount - 1
		switch {
		case s.EntryCount < 1 || last >= len(entries) || last >= s.Index && s.Index >= 0:
			return &ChainBreakError{Index: good, Seq: seqAt(entries, good), Found: s.Head,
				Reason: fmt.Sprintf("seal at index %d covers %d entries, which the record does not have before it", s.Index, s.EntryCount)}
		case entries[last].Seq != s.LastSeq:
			return &ChainBreakError{Index: good, Seq: seqAt(entries, good), Expected: hashes[last], Found: s.Head,
				Reason: fmt.Sprintf("seal at index %d says its last entry is seq %d, the record has seq %d there", s.Index, s.LastSeq, entries[last].Seq)}
		case hashes[last] != s.Head:
			return &ChainBreakError{Index: good, Seq: seqAt(entries, good), Expected: hashes[last], Found: s.Head,
				Reason: fmt.Sprintf("seal at index %d (over seq %d..%d) does not match the recomputed chain: an entry from index %d to %d changed",
					s.Index, seqAt(entries, good), s.LastSeq, good, last)}
		}
		good = max(good, last+1)
	}
	return nil
}

func seqAt(entries []Entry, i int) uint64 {
	if i < len(entries) {
		return entries[i].Seq
	}
	return 0
}
