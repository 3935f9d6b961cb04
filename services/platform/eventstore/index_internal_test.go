package eventstore

import (
	"slices"
	"testing"
)

// Requests whose ids share a hash are told apart by their ids: each finds
// its own events, in order, and an id never added finds nothing.
func TestIndex_RequestsSharingAHashKeepTheirOwnEvents(t *testing.T) {
	x := &seqIndex{limit: DefaultIndexLimit, heads: map[uint64]uint32{}}
	const h = 7 // every id below hashes here
	want := map[string][]uint64{}
	seq := uint64(0)
	for round := range 4 {
		for _, id := range []string{"req-a", "req-b", "req-c"} {
			if id == "req-b" && round%2 == 1 {
				continue // not every request has an event in every round
			}
			seq += 3
			if !x.addLocked(h, id, seq) {
				t.Fatal("the index outgrew its limit")
			}
			want[id] = append(want[id], seq)
		}
	}
	for id, seqs := range want {
		e := x.findLocked(h, id)
		if e == nil {
			t.Fatalf("%s not found", id)
		}
		if got := x.seqsLocked(e); !slices.Equal(got, seqs) {
			t.Errorf("%s: sequences %v, want %v", id, got, seqs)
		}
	}
	if e := x.findLocked(h, "req-d"); e != nil {
		t.Errorf("req-d, never added, found with %v", x.seqsLocked(e))
	}
	if e := x.findLocked(h+1, "req-a"); e != nil {
		t.Error("req-a found under another hash")
	}
}

// The index's estimate of its memory stops it at its limit.
func TestIndex_AddStopsAtTheLimit(t *testing.T) {
	x := &seqIndex{limit: 3 * (indexRequestBytes + len("req-1") + indexEventBytes), heads: map[uint64]uint32{}}
	for i := range 3 {
		if !x.addLocked(uint64(i), "req-"+string(rune('1'+i)), uint64(i+1)) {
			t.Fatalf("event %d: the index stopped below its limit", i)
		}
	}
	if x.addLocked(9, "req-9", 4) {
		t.Error("the index grew past its limit")
	}
}
