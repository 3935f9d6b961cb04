package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// sealedRecord is a record of 7 entries with seals written at index 3
// (covering 0..2) and index 6 (covering 0..5), as the seal reactor writes
// them.
func sealedRecord(t *testing.T) ([]domain.Entry, []domain.Seal) {
	t.Helper()
	c := sampleChain(t, 7)
	e, h := c.Entries(), c.Hashes()
	return e, []domain.Seal{
		{Index: 3, LastSeq: e[2].Seq, EntryCount: 3, Head: h[2]},
		{Index: 6, LastSeq: e[5].Seq, EntryCount: 6, Head: h[5]},
	}
}

func TestClause4_2_2_SealsHoldOverAnIntactRecord(t *testing.T) {
	e, s := sealedRecord(t)
	if err := domain.VerifySeals(e, s); err != nil {
		t.Fatal(err)
	}
}

// The stream keeps no per-entry hashes, only the seals: a changed stored
// entry is located between the last intact seal and the first broken one.
func TestClause4_2_2_ChangedStoredEntryBreaksTheSealCoveringIt(t *testing.T) {
	for _, tc := range []struct {
		changed, wantIndex int
	}{{changed: 1, wantIndex: 0}, {changed: 4, wantIndex: 3}, {changed: 5, wantIndex: 3}} {
		e, s := sealedRecord(t)
		e[tc.changed].Actor = "spiffe://ddr.local/staff/someone-else"
		err := domain.VerifySeals(e, s)
		var b *domain.ChainBreakError
		if !errors.As(err, &b) || !errors.Is(err, domain.ErrChainBroken) {
			t.Fatalf("entry %d changed: %v, want a chain break", tc.changed, err)
		}
		if b.Index != tc.wantIndex || b.Seq != e[tc.wantIndex].Seq || !strings.Contains(b.Reason, "changed") {
			t.Errorf("entry %d changed: break at %d (seq %d) %q, want index %d", tc.changed, b.Index, b.Seq, b.Reason, tc.wantIndex)
		}
	}
	// A change after the last seal is not covered yet: nothing vouches for it.
	e, s := sealedRecord(t)
	e[6].Actor = "x"
	if err := domain.VerifySeals(e, s); err != nil {
		t.Errorf("change after the last seal: %v", err)
	}
}

func TestRecord_SealThatDoesNotFitTheRecordBreaks(t *testing.T) {
	e, s := sealedRecord(t)
	s[1].LastSeq++
	if err := domain.VerifySeals(e, s); !errors.Is(err, domain.ErrChainBroken) {
		t.Errorf("seal naming the wrong last sequence: %v", err)
	}
	e, s = sealedRecord(t)
	s[0].EntryCount = 5 // more than precede it
	if err := domain.VerifySeals(e, s); !errors.Is(err, domain.ErrChainBroken) {
		t.Errorf("seal covering entries after itself: %v", err)
	}
	e, s = sealedRecord(t)
	if err := domain.VerifySeals(e[:2], s); !errors.Is(err, domain.ErrChainBroken) {
		t.Errorf("seal over a truncated record: %v", err)
	}
}
