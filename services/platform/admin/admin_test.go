package admin_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	adminv1 "github.com/ddrsuite/ddr/gen/ddr/admin/v1"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

const (
	operator = "spiffe://ddr.local/sre/oncall"
	reactor  = "test-poison"
)

// poisoned is a component with one reactor whose handler fails permanently
// until fixed, then counts the events it handled.
type poisoned struct {
	d       runner.Deps
	fixed   atomic.Bool
	handled sync.Map // event id -> *atomic.Int32
	r       *consumer.Runner
}

func (p *poisoned) GRPCServiceNames() []string { return nil }
func (p *poisoned) RegisterGRPC(*grpc.Server)  {}
func (p *poisoned) Stop() {
	if p.r != nil {
		p.r.Stop()
	}
}

func (p *poisoned) Start(ctx context.Context) error {
	r, err := consumer.Start(ctx, p.d.JS, consumer.Config{Name: reactor, FilterSubjects: []string{"ddr.req.*.test.poisoned"}},
		func(_ context.Context, ev eventstore.Event) error {
			if !p.fixed.Load() {
				return consumer.Permanent(errors.New("handler bug: cannot handle this event yet"))
			}
			n, _ := p.handled.LoadOrStore(ev.ID, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			return nil
		})
	p.r = r
	return err
}

func (p *poisoned) count(id string) int32 {
	n, ok := p.handled.Load(id)
	if !ok {
		return 0
	}
	return n.(*atomic.Int32).Load()
}

func startPoisoned(t *testing.T) (*poisoned, *runnertest.Proc) {
	t.Helper()
	comp := &poisoned{}
	proc := runnertest.Start(t, runnertest.Options{Insecure: true}, func(_ context.Context, d runner.Deps) ([]runner.Component, error) {
		comp.d = d
		return []runner.Component{comp}, nil
	})
	return comp, proc
}

func TestPoisonEventIsListedAndReplayedOnceAfterTheFix(t *testing.T) {
	comp, proc := startPoisoned(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev := eventstore.Event{ID: "ev-poison-1", RequestID: "req-poison-1", Service: "test", Name: "poisoned", Payload: wrapperspb.String("x")}
	seq, err := comp.d.Store.Append(ctx, ev.RequestID, 0, ev)
	if err != nil {
		t.Fatal(err)
	}
	admin := adminv1.NewAdminServiceClient(proc.Dial(t, operator))

	var dl *adminv1.DeadLetter
	for {
		res, err := admin.ListDeadLetters(ctx, &adminv1.ListDeadLettersRequest{Consumer: reactor})
		if err != nil {
			t.Fatalf("ListDeadLetters: %v", err)
		}
		if len(res.GetDeadLetters()) > 0 {
			dl = res.GetDeadLetters()[0]
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the poison event never reached DDR_DLQ")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if dl.GetReason() != "permanent" || dl.GetRequestId() != "req-poison-1" || dl.GetStreamSequence() != seq ||
		dl.GetEventType() != "google.protobuf.StringValue" || dl.GetError() == "" {
		t.Errorf("dead letter = %v", dl)
	}
	if n := comp.count(ev.ID); n != 0 {
		t.Fatalf("handled %d times before the fix", n)
	}

	// Still broken: the replay fails and says so.
	_, err = admin.ReplayDeadLetter(ctx, &adminv1.ReplayDeadLetterRequest{Consumer: reactor, Sequence: dl.GetSequence()})
	if status.Code(err) != codes.Aborted {
		t.Fatalf("replay before the fix: %v, want Aborted", err)
	}

	comp.fixed.Store(true)
	res, err := admin.ReplayDeadLetter(ctx, &adminv1.ReplayDeadLetterRequest{Consumer: reactor, Sequence: dl.GetSequence()})
	if err != nil {
		t.Fatalf("replay after the fix: %v", err)
	}
	if res.GetDeadLetter().GetSequence() != dl.GetSequence() {
		t.Errorf("replayed %v, want sequence %d", res.GetDeadLetter(), dl.GetSequence())
	}
	if n := comp.count(ev.ID); n != 1 {
		t.Errorf("handled %d times after one replay, want 1", n)
	}
}

func TestReplayRefusesUnknownDeadLetterAndWrongConsumer(t *testing.T) {
	_, proc := startPoisoned(t)
	admin := adminv1.NewAdminServiceClient(proc.Dial(t, operator))
	ctx := t.Context()

	_, err := admin.ReplayDeadLetter(ctx, &adminv1.ReplayDeadLetterRequest{Consumer: reactor, Sequence: 42})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown dead letter: %v, want NotFound", err)
	}
	_, err = admin.ReplayDeadLetter(ctx, &adminv1.ReplayDeadLetterRequest{Consumer: "no.dots", Sequence: 1})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("invalid consumer name: %v, want InvalidArgument", err)
	}
}

func TestDeadLettersAreForOperatorsOnly(t *testing.T) {
	_, proc := startPoisoned(t)
	admin := adminv1.NewAdminServiceClient(proc.Dial(t, "spiffe://ddr.local/group-member/acme-eu"))
	if _, err := admin.ListDeadLetters(t.Context(), &adminv1.ListDeadLettersRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("group member listing dead letters: %v, want PermissionDenied", err)
	}
}
