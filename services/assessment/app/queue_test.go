package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/deadline"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// everyStatus asks the queue for every case it holds.
var everyStatus = app.ListFilter{Statuses: []domain.Status{
	domain.StatusOpen, domain.StatusInReview, domain.StatusInformationRequested,
	domain.StatusDecisionPendingApproval, domain.StatusDecided, domain.StatusWithdrawn,
}}

// listed is the request ids of the cases a filter shows, in queue order.
func listed(t *testing.T, q *app.Queue, f app.ListFilter) []string {
	t.Helper()
	var ids []string
	if _, err := q.List(f, "", 1000, func(st *app.CaseState) { ids = append(ids, st.Case.RequestID()) }); err != nil {
		t.Fatal(err)
	}
	return ids
}

// Issue 19 (costs that do not grow with the record): the queue reads only
// the cases needing work for its default page and the review-overdue
// checks, and only the cases with a legal clock running for the clocks;
// every answer must still be what a scan of every case gives, as the case
// moves out of those sets (a withdrawal, a deadline met) and as time goes
// on.
func TestQueue_AnswersAsAScanOfEveryCaseWouldAsCasesEndAndClocksStop(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	a := newApp(t, store, func() time.Time { return t0 })
	fbi := authority.Requester{Name: "FBI", Country: "US", Kind: "police", Sender: authority.Sender{Channel: authority.Email, Address: "agent@fbi.gov"}}
	ids := []string{"req-1", "req-2", "req-3"}
	for _, id := range ids {
		if err := a.OpenReceivedCase(ctx, "ev-"+id, codec.FactsFromReceived(richRequest(id)), fbi, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	q := app.NewQueue()
	fold := func(id string, from int) int {
		t.Helper()
		h, err := store.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range h.Events[from:] {
			if err := q.Apply(ev); err != nil {
				t.Fatal(err)
			}
		}
		return len(h.Events)
	}
	folded := map[string]int{}
	for _, id := range ids {
		folded[id] = fold(id, 0)
	}
	if got := listed(t, q, app.ListFilter{}); len(got) != 3 {
		t.Fatalf("the queue shows %v of three opened cases", got)
	}

	// req-2 is withdrawn by the authority (intake's event); every legal
	// clock of req-3 is met.
	h, err := store.Load(ctx, "req-2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "req-2", h.LastSeq, eventstore.Event{ID: "withdrawn-2", RequestID: "req-2", Payload: &intakev1.RequestWithdrawn{RequestId: "req-2", Reason: "the authority withdrew it", WithdrawTime: timestamppb.New(t0)}}); err != nil {
		t.Fatal(err)
	}
	ds, err := a.Deadlines(ctx, "req-3")
	if err != nil {
		t.Fatal(err)
	}
	met := 0
	for _, d := range ds {
		if d.Kind == deadline.By && d.Status == deadline.Pending && !domain.IsReviewDeadline(d.ID) {
			if _, err := a.MarkDeadlineMet(ctx, alice, "req-3", d.ID); err != nil {
				t.Fatal(err)
			}
			met++
		}
	}
	if met == 0 {
		t.Fatal("req-3 has no legal clock to meet: the test would show nothing")
	}
	for _, id := range ids {
		folded[id] = fold(id, folded[id])
	}

	// The reference: every case the queue holds, scanned.
	var all []*app.CaseState
	if _, err := q.List(everyStatus, "", 1000, func(st *app.CaseState) { all = append(all, st) }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("the queue holds %d cases, want 3", len(all))
	}
	var working []string
	for _, st := range all {
		if st.Case.NeedsWork() {
			working = append(working, st.Case.RequestID())
		}
	}
	if got := listed(t, q, app.ListFilter{}); !cmp.Equal(got, working) || slices.Contains(got, "req-2") {
		t.Errorf("the default page shows %v, a scan of every case %v (req-2 is withdrawn)", got, working)
	}
	if got := listed(t, q, app.ListFilter{Statuses: []domain.Status{domain.StatusWithdrawn}}); !cmp.Equal(got, []string{"req-2"}) {
		t.Errorf("the withdrawn cases are %v, want [req-2]", got)
	}
	for _, now := range []time.Time{t0, t0.Add(72 * time.Hour), t0.AddDate(0, 2, 0)} {
		var overdue, owed []string
		overdueCount := 0
		var stats app.ClockStats
		for _, st := range all {
			id := st.Case.RequestID()
			if st.Case.Overdue(now) {
				overdueCount++
				if !st.Case.OverdueRecorded() {
					overdue = append(overdue, id)
				}
			}
			if len(st.Case.FireDeadlines(now)) > 0 {
				owed = append(owed, id)
			}
			for _, v := range st.Case.Deadlines() {
				if domain.IsReviewDeadline(v.ID) || v.Kind != deadline.By || (v.Status != deadline.Pending && v.Status != deadline.Overdue) {
					continue
				}
				if !now.Before(v.Due.At) {
					stats.Overdue++
				}
				if d := v.Due.At.Sub(now).Seconds(); !stats.HasNearest || d < stats.NearestDue {
					stats.NearestDue, stats.HasNearest = d, true
				}
			}
		}
		slices.Sort(overdue)
		slices.Sort(owed)
		if got := q.Overdue(now); !cmp.Equal(got, overdue) {
			t.Errorf("at %s: overdue %v, a scan of every case %v", now, got, overdue)
		}
		if got := q.OverdueCount(now); got != overdueCount {
			t.Errorf("at %s: %d overdue, a scan of every case %d", now, got, overdueCount)
		}
		if got := q.Owed(now); !cmp.Equal(got, owed) {
			t.Errorf("at %s: owed %v, a scan of every case %v", now, got, owed)
		}
		if got := q.ClockStats(now); got != stats {
			t.Errorf("at %s: clock stats %+v, a scan of every case %+v", now, got, stats)
		}
	}
	if got := q.Owed(t0.Add(72 * time.Hour)); !slices.Contains(got, "req-1") || slices.Contains(got, "req-3") {
		t.Errorf("past the authority's deadline the owed cases are %v: want req-1, whose clock runs, not req-3, whose clocks are met", got)
	}
}
