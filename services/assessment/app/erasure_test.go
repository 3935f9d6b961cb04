package app_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/codec"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

// subjectLeft reports whether any SUBJECT-marked field is set in what the
// case state shows (found from the marks, on copies).
func subjectLeft(st *app.CaseState) bool {
	msgs := []proto.Message{st.Opening(), st.RecordedFacts(), st.Decision()}
	for _, f := range st.RecordedFlags() {
		msgs = append(msgs, f)
	}
	for _, d := range st.EarlierDecisions() {
		msgs = append(msgs, d)
	}
	left := false
	for _, m := range msgs {
		if m != nil && m.ProtoReflect().IsValid() {
			left = seal.Forget(proto.Clone(m), keys.Subject) || left
		}
	}
	return left
}

// queued is the queue's case of the request, as its list shows it.
func queued(t *testing.T, q *app.Queue, id string) (*app.CaseState, bool) {
	t.Helper()
	var got *app.CaseState
	if _, err := q.List(app.ListFilter{}, "", 100, func(st *app.CaseState) {
		if st.Case.RequestID() == id {
			got = st
		}
	}); err != nil {
		t.Fatal(err)
	}
	return got, got != nil
}

// Issue 14 (shredding that holds): the review queue folds the case's
// events opened and lives as long as the process; once intake records the
// erasure of the request's SUBJECT key, the queue's case holds no SUBJECT
// value (the customer id in its facts), as a restarted assessment, which
// can no longer open them, would show; the case itself stays.
func TestIssue14_TheQueueForgetsTheCustomerOnceTheTargetsAreErased(t *testing.T) {
	ctx := context.Background()
	store := newStore(t)
	a := newApp(t, store, func() time.Time { return t0 })
	fbi := authority.Requester{Name: "FBI", Country: "US", Kind: "police", Sender: authority.Sender{Channel: authority.Email, Address: "agent@fbi.gov"}}
	if err := a.OpenReceivedCase(ctx, "ev-1", codec.FactsFromReceived(richRequest("req-1")), fbi, time.Time{}); err != nil {
		t.Fatal(err)
	}
	q := app.NewQueue()
	h, err := store.Load(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range h.Events {
		if err := q.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	st, ok := queued(t, q, "req-1")
	if !ok || st.RecordedFacts().GetCustomerId() != "cust-7" || !subjectLeft(st) {
		t.Fatalf("before the erasure the queue's case is %v (found %v)", st.RecordedFacts(), ok)
	}

	seq, err := store.Append(ctx, "req-1", h.LastSeq, eventstore.Event{ID: "erased-1", RequestID: "req-1", Payload: &intakev1.TargetsErased{RequestId: "req-1", Reason: "retention", EraseTime: timestamppb.New(t0)}})
	if err != nil {
		t.Fatal(err)
	}
	h, err = store.Load(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Apply(h.Events[len(h.Events)-1]); err != nil {
		t.Fatal(err)
	}
	st, ok = queued(t, q, "req-1")
	if !ok || st.Version != seq {
		t.Fatalf("the case left the queue, or did not move to the erasure (%v)", ok)
	}
	if subjectLeft(st) {
		t.Errorf("after the erasure the queue's case still holds a SUBJECT value: %v", st.RecordedFacts())
	}
	if st.RecordedFacts().GetAuthorityCountry() != "US" || st.RecordedFacts().GetTargetCount() != 3 {
		t.Errorf("the erasure took more than the SUBJECT values: %v", st.RecordedFacts())
	}
}
