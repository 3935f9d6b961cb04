package deadline_test

import (
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/deadline"
)

// Next orders open deadlines by their due time, not by the order they
// were set in.
func TestLedgerNextIsTheEarliestDue(t *testing.T) {
	start := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	var l deadline.Ledger
	for _, d := range []deadline.Deadline{
		{ID: "later", Kind: deadline.By, Due: deadline.Due{At: start.Add(10 * time.Hour)}},
		{ID: "sooner", Kind: deadline.By, Due: deadline.Due{At: start.Add(2 * time.Hour)}},
	} {
		l.Apply(deadline.Set{Deadline: d, At: start})
	}
	if next, ok := l.Next(); !ok || next.ID != "sooner" {
		t.Fatalf("next = %+v, want the deadline due first", next)
	}
}
