package service

import (
	"context"
	"testing"
)

// The legal-deadline counter counts each deadline recorded overdue once
// and carries only the deadline's id: nothing about whom the request is on.
func TestDeadlineOverdueCounterCarriesOnlyTheDeadlineID(t *testing.T) {
	total := counted(t, "ddr.assessment.deadlines_overdue", "ddr.deadline", func(ctx context.Context) {
		countDeadlineOverdue(ctx, "epoc/transmit")
		countDeadlineOverdue(ctx, "authority")
	})
	if total != 2 {
		t.Fatalf("deadlines_overdue counted %d, want 2", total)
	}
}
