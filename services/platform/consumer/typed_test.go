package consumer_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

func TestReactor_FiltersAndDispatchesByType(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	var received, cleared atomic.Int32
	r := consumer.Reactor(
		consumer.On(func(_ context.Context, ev eventstore.Event, p *intakev1.RequestReceived) error {
			if p.GetRequestId() == ev.RequestID {
				received.Add(1)
			}
			return nil
		}),
		consumer.On(func(_ context.Context, _ eventstore.Event, _ *notificationv1.RequestCleared) error {
			cleared.Add(1)
			return nil
		}),
	)
	if got, want := r.FilterSubjects(), []string{"ddr.req.*.intake.received", "ddr.req.*.notification.cleared"}; !slices.Equal(got, want) {
		t.Errorf("FilterSubjects = %q, want %q", got, want)
	}
	seq, err := store.Append(context.Background(), "r1", 0,
		eventstore.Event{Payload: &intakev1.RequestReceived{RequestId: "r1"}},
		eventstore.Event{Payload: &intakev1.RequestWithdrawn{RequestId: "r1"}}, // not subscribed
		eventstore.Event{Payload: &notificationv1.RequestCleared{RequestId: "r1"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	runner, err := r.Start(context.Background(), js, consumer.Config{Name: "typed"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(runner.Stop)
	testkit.Eventually(t, "typed settled", settled(t, js, "typed", seq))
	if received.Load() != 1 || cleared.Load() != 1 {
		t.Errorf("received %d, cleared %d; want 1 each", received.Load(), cleared.Load())
	}
	if dls := deadLetters(t, js, "typed"); len(dls) != 0 {
		t.Errorf("dead letters = %+v", dls)
	}
}

// A RequestReceived forged on reporting's subjects (issue 14) never
// reaches a handler: it is dead-lettered with the reason "forged".
func TestConsumer_ForgedEventsAreDeadLettered(t *testing.T) {
	js := newJS(t)
	var last uint64
	for _, s := range []string{"ddr.req.r9.reporting.sealed", "ddr.req.r9.reporting.disposition_recorded"} {
		last = testkit.PublishForged(t, js, s, &intakev1.RequestReceived{RequestId: "r9", GroupMember: "mallory"})
	}
	var calls atomic.Int32
	start(t, js, consumer.Config{Name: "reader"}, func(context.Context, eventstore.Event) error {
		calls.Add(1)
		return nil
	})
	testkit.Eventually(t, "reader settled", settled(t, js, "reader", last))
	dls := deadLetters(t, js, "reader")
	if len(dls) != 2 {
		t.Fatalf("dead letters = %+v, want 2", dls)
	}
	for _, dl := range dls {
		if dl.Reason != "forged" || dl.Error == "" {
			t.Errorf("dead letter %s: reason %q error %q, want forged with a reason", dl.Subject, dl.Reason, dl.Error)
		}
	}
	if c := calls.Load(); c != 0 {
		t.Errorf("handler called %d times for forged events", c)
	}
}

// The one disposition rule: a client error (here NOT_FOUND) cannot pass
// by retrying, so the reactor dead-letters it on the first attempt.
func TestConsumer_ClientErrorGoesToDLQAtOnce(t *testing.T) {
	js := newJS(t)
	store := eventstore.NewStore(js)
	seq, err := store.Append(context.Background(), "r1", 0, eventstore.Event{Payload: &intakev1.RequestReceived{RequestId: "r1"}})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	start(t, js, consumer.Config{Name: "strict", MaxDeliver: 5}, func(context.Context, eventstore.Event) error {
		calls.Add(1)
		return fmt.Errorf("%w: case r1", ddrerr.ErrNotFound)
	})
	testkit.Eventually(t, "strict settled", settled(t, js, "strict", seq))
	if dls := deadLetters(t, js, "strict"); len(dls) != 1 || dls[0].Reason != "rejected" {
		t.Fatalf("dead letters = %+v", dls)
	}
	if c := calls.Load(); c != 1 {
		t.Errorf("handler called %d times, want 1", c)
	}
}
