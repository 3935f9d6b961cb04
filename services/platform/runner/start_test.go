package runner

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
)

// component is a Component whose Start runs start.
type component struct {
	start   func(ctx context.Context) error
	stopped atomic.Bool
}

func (c *component) GRPCServiceNames() []string      { return nil }
func (c *component) RegisterGRPC(*grpc.Server)       {}
func (c *component) Start(ctx context.Context) error { return c.start(ctx) }
func (c *component) Stop()                           { c.stopped.Store(true) }
func runWith(ctx context.Context, t *testing.T, comps ...Component) error {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return Run(ctx, Config{Name: "test", DevIdentity: true, DataDir: t.TempDir(), NATSListen: "127.0.0.1:-1", GRPCAddr: "127.0.0.1:0",
		Ready: func(Info) { cancel() }}, nil,
		func(context.Context, Deps) ([]Component, error) { return comps, nil })
}

// The components of a process start side by side, each rebuilding its
// projections, so the process is ready when the slowest is: here the first
// cannot finish its start before the second has begun its own.
func TestComponentsStartSideBySide(t *testing.T) {
	second := make(chan struct{})
	a := &component{start: func(ctx context.Context) error {
		select {
		case <-second:
			return nil
		case <-time.After(time.Minute): // not a measure: ends a start that would wait forever
			return errors.New("the second component did not start while the first was starting")
		}
	}}
	b := &component{start: func(context.Context) error { close(second); return nil }}
	if err := runWith(context.Background(), t, a, b); err != nil {
		t.Fatal(err)
	}
	if !a.stopped.Load() || !b.stopped.Load() {
		t.Errorf("stopped: first %v, second %v; want both", a.stopped.Load(), b.stopped.Load())
	}
}

// A component that fails to start stops the process with its error, not
// the cancellation it causes in the others' starts, and the components
// that did not start are not stopped.
func TestComponentStartFailureCancelsTheOthers(t *testing.T) {
	boom := errors.New("boom")
	waiting := &component{start: func(ctx context.Context) error {
		<-ctx.Done()
		return fmt.Errorf("catching up: %w", ctx.Err())
	}}
	failing := &component{start: func(context.Context) error { return boom }}
	ok := &component{start: func(context.Context) error { return nil }}
	err := runWith(context.Background(), t, waiting, failing, ok)
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v; want the failing component's error", err)
	}
	if waiting.stopped.Load() || failing.stopped.Load() {
		t.Error("a component whose start failed was stopped")
	}
	if !ok.stopped.Load() {
		t.Error("a started component was not stopped")
	}
}
