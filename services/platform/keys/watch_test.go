package keys_test

import (
	"testing"

	"github.com/ddrsuite/ddr/services/platform/keys"
)

// The rule both caches of opened data rely on (the keyring's key cache and
// platform/viewcache): what a read returns is kept only if no write that
// concerns it arrived while it ran, and only while the log can still tell.
func TestWriteLogAdmitsAReadOnlyIfNoWriteOfItsKeyCameMeanwhile(t *testing.T) {
	never := func(string, uint64) bool { return false }
	ofA := func(k string, _ uint64) bool { return k == "a" }
	var l keys.WriteLog

	tk := l.Ticket()
	l.Note("b", 4)
	if !l.Admits(tk, ofA) {
		t.Fatal("a write of another key refused the read")
	}
	l.Note("a", 5) // an erasure's tombstone while "a" was read
	if l.Admits(tk, ofA) {
		t.Fatal("a read across a write of its key was admitted")
	}
	if !l.Admits(l.Ticket(), ofA) {
		t.Fatal("a read begun after the write was refused")
	}

	tk = l.Ticket()
	l.Forget() // the watcher emptied itself: it cannot judge older reads
	if l.Admits(tk, never) {
		t.Fatal("a read begun before the cache was emptied was admitted")
	}
	if l.Admits(keys.Ticket{}, never) {
		t.Fatal("the zero ticket was admitted")
	}

	tk = l.Ticket()
	for range 4097 { // more writes than the log remembers
		l.Note("c", 1)
	}
	if l.Admits(tk, never) {
		t.Fatal("a read across more writes than the log holds was admitted")
	}
}
