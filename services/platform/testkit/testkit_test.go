package testkit

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// fatalTB records the test's failure instead of ending the goroutine.
type fatalTB struct {
	testing.TB
	failed []any
}

type stopped struct{}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatal(args ...any) {
	f.failed = args
	panic(stopped{})
}

func TestEventuallyNoErrorWithinReturnsOnceFSucceeds(t *testing.T) {
	calls := 0
	EventuallyNoErrorWithin(t, time.Minute, func() error {
		if calls++; calls < 3 {
			return fmt.Errorf("try %d", calls)
		}
		return nil
	})
	if calls != 3 {
		t.Fatalf("f called %d times, want 3", calls)
	}
}

func TestEventuallyNoErrorWithinFailsWithFsLastError(t *testing.T) {
	tb := &fatalTB{TB: t}
	last := errors.New("still not there")
	func() {
		defer func() {
			if r := recover(); r != nil && r != (stopped{}) {
				panic(r)
			}
		}()
		EventuallyNoErrorWithin(tb, time.Millisecond, func() error { return last })
	}()
	if err, ok := firstError(tb.failed); !ok || !errors.Is(err, last) {
		t.Fatalf("failed with %v, want the last error", tb.failed)
	}
}

func firstError(args []any) (error, bool) {
	if len(args) != 1 {
		return nil, false
	}
	err, ok := args[0].(error)
	return err, ok
}
