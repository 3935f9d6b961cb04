package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// BenchmarkQueue measures what the team and the clocks read of the queue
// every few seconds (the default page of 50, the review-overdue scan, the
// legal clocks' scan and their metrics) with 200 cases needing work beside
// 1,000 and 100,000 that ended (withdrawn), as a record that grows for
// years holds: the cost must not follow the ended cases (issue 19). The
// cases are the histories of two real cases, opened and withdrawn through
// the app, folded again under other request ids.
func BenchmarkQueue(b *testing.B) {
	ctx := context.Background()
	store := newStore(b)
	a := newApp(b, store, func() time.Time { return t0 })
	fbi := authority.Requester{Name: "FBI", Country: "US", Kind: "police", Sender: authority.Sender{Channel: authority.Email, Address: "agent@fbi.gov"}}
	for _, id := range []string{"open", "ended"} {
		if err := a.OpenReceivedCase(ctx, "ev-"+id, codec.FactsFromReceived(richRequest(id)), fbi, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	h, err := store.Load(ctx, "ended")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Append(ctx, "ended", h.LastSeq, eventstore.Event{ID: "withdrawn", RequestID: "ended", Payload: &intakev1.RequestWithdrawn{RequestId: "ended", Reason: "withdrawn", WithdrawTime: timestamppb.New(t0)}}); err != nil {
		b.Fatal(err)
	}
	history := func(id string) []eventstore.Event {
		h, err := store.Load(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		return h.Events
	}
	open, ended := history("open"), history("ended")
	for _, n := range []int{1_000, 100_000} {
		q := app.NewQueue()
		seq := uint64(0)
		add := func(id string, evs []eventstore.Event) {
			for _, ev := range evs {
				seq++
				ev.RequestID, ev.Sequence = id, seq
				if err := q.Apply(ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		for i := range n {
			add(fmt.Sprintf("ended-%d", i), ended)
		}
		for i := range 200 {
			add(fmt.Sprintf("open-%d", i), open)
		}
		now := t0.Add(72 * time.Hour)
		b.Run(fmt.Sprintf("ended=%d/List", n), func(b *testing.B) {
			for b.Loop() {
				rows := 0
				if _, err := q.List(app.ListFilter{}, "", 50, func(*app.CaseState) { rows++ }); err != nil || rows != 50 {
					b.Fatalf("a page of %d rows (%v), want 50", rows, err)
				}
			}
		})
		b.Run(fmt.Sprintf("ended=%d/Overdue", n), func(b *testing.B) {
			for b.Loop() {
				_ = q.Overdue(now)
				_ = q.OverdueCount(now)
			}
		})
		b.Run(fmt.Sprintf("ended=%d/Clocks", n), func(b *testing.B) {
			for b.Loop() {
				if len(q.Owed(now)) != 200 {
					b.Fatal("the open cases' clocks do not run")
				}
				_ = q.ClockStats(now)
			}
		})
	}
}
