package command_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/command"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

// notes is the smallest state: the texts noted on a request.
type notes []string

var spec = command.Spec[notes, string]{
	Fold: func(h eventstore.History) (notes, error) {
		var n notes
		for _, ev := range h.Events {
			n = append(n, ev.Payload.(*wrapperspb.StringValue).GetValue())
		}
		return n, nil
	},
	Exists: func(n notes, _ command.Call) bool { return len(n) > 0 },
	Encode: func(_ notes, c command.Call, evs []string) ([]eventstore.Event, error) {
		var out []eventstore.Event
		for i, e := range evs {
			out = append(out, eventstore.Event{ID: c.EventID("noted", fmt.Sprint(i)), Service: "test", Name: "noted", Actor: c.Actor, Time: c.Now, Payload: wrapperspb.String(e)})
		}
		return out, nil
	},
}

func newStore(t *testing.T) *eventstore.Store {
	t.Helper()
	env := natstest.Start(t)
	if err := eventstore.EnsureStreams(context.Background(), env.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return eventstore.NewStore(env.JS)
}

func note(text string) eventstore.Event {
	return eventstore.Event{Service: "test", Name: "noted", Payload: wrapperspb.String(text)}
}

func TestRun_UnknownRequestIsNotFound(t *testing.T) {
	store := newStore(t)
	called := false
	_, err := command.Run(context.Background(), store, spec, command.NewCall("r1", "me", time.Now()),
		func(notes, command.Call) ([]string, error) { called = true; return []string{"x"}, nil })
	if !errors.Is(err, ddrerr.ErrNotFound) || called {
		t.Errorf("Run = %v (decide called: %v), want NotFound before deciding", err, called)
	}
}

func TestRun_ReturnsTheStateAfterTheAppendedEvents(t *testing.T) {
	store := newStore(t)
	if _, err := store.Append(context.Background(), "r1", 0, note("a")); err != nil {
		t.Fatal(err)
	}
	res, err := command.Run(context.Background(), store, spec, command.NewCall("r1", "me", time.Now()),
		func(n notes, _ command.Call) ([]string, error) { return []string{"b", "c"}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.State) != "[a b c]" || len(res.Events) != 2 || res.LastSeq != res.Events[1].Sequence {
		t.Errorf("state %v, events %d, last %d", res.State, len(res.Events), res.LastSeq)
	}
	// Deciding nothing appends nothing and returns the state as it was.
	res, err = command.Run(context.Background(), store, spec, command.NewCall("r1", "me", time.Now()),
		func(notes, command.Call) ([]string, error) { return nil, nil })
	if err != nil || res.Events != nil || fmt.Sprint(res.State) != "[a b c]" {
		t.Errorf("no-op: %v, %v, %v", err, res.Events, res.State)
	}
}

// racingStore lets another writer append once, between the command's load
// and its append, so the first attempt meets a conflict.
type racingStore struct {
	*eventstore.Store
	raced bool
}

func (s *racingStore) Update(ctx context.Context, id string, decide eventstore.Decide) ([]eventstore.Event, error) {
	return s.Store.Update(ctx, id, func(h eventstore.History) ([]eventstore.Event, error) {
		evs, err := decide(h)
		if !s.raced {
			s.raced = true
			if _, err := s.Append(ctx, id, h.LastSeq, note("other")); err != nil {
				return nil, err
			}
		}
		return evs, err
	})
}

func TestRun_RetriesAConflictWithTheSameEventIDs(t *testing.T) {
	store := &racingStore{Store: newStore(t)}
	if _, err := store.Append(context.Background(), "r1", 0, note("a")); err != nil {
		t.Fatal(err)
	}
	var seen []int
	call := command.NewCall("r1", "me", time.Now())
	res, err := command.Run(context.Background(), store, spec, call, func(n notes, _ command.Call) ([]string, error) {
		seen = append(seen, len(n))
		return []string{"mine"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[1 2]" {
		t.Errorf("decided on states of %v events, want a retry on the fresh state [1 2]", seen)
	}
	if fmt.Sprint(res.State) != "[a other mine]" {
		t.Errorf("state = %v", res.State)
	}
	if want := call.EventID("noted", "0"); res.Events[0].ID != want {
		t.Errorf("event id %s, want the call's deterministic %s", res.Events[0].ID, want)
	}
}
