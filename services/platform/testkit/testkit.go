// Package testkit holds the helpers the services' tests share: a log
// buffer safe for the goroutines of a running server, a clock that moves
// only when told, and polling for what a projection or reactor does a
// moment after a write. Import it from _test.go files only.
package testkit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// LogBuffer collects log output written from several goroutines, e.g. as
// the writer of slog.NewJSONHandler.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Len is the number of bytes written so far.
func (b *LogBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// Contains reports whether s was written.
func (b *LogBuffer) Contains(s string) bool { return strings.Contains(b.String(), s) }

// Lines decodes the JSON log lines whose "msg" is msg (all lines if msg is
// empty). A line that is not JSON fails the test.
func (b *LogBuffer) Lines(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if msg == "" || m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// Clock is a test clock that moves only when told. Its Now fits every
// Config.Now of the services.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the time shown.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set shows t from now on.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Patience is how long Eventually waits before it fails the test: far
// longer than anything should take, so a slow machine does not fail a
// test; it bounds a hang, it does not time an assertion.
const Patience = 10 * time.Second

// Eventually polls cond until it holds, failing the test with "timed out
// waiting for <what>" after [Patience].
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// EventuallyNoError retries f until it returns nil, failing the test with
// f's last error after [Patience].
func EventuallyNoError(t testing.TB, f func() error) {
	t.Helper()
	EventuallyNoErrorWithin(t, Patience, f)
}

// EventuallyNoErrorWithin is [EventuallyNoError] with a patience of its
// own, for what goes through more than one service (a whole suite in one
// process, a command-line client polling it).
func EventuallyNoErrorWithin(t testing.TB, patience time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PublishForged writes payload straight onto subject, the way a service
// that may publish on the subject but does not own the payload's type
// would forge an event: the envelope is valid, ce-source names the
// subject's service, only the type does not belong there. It returns the
// stream sequence.
func PublishForged(t testing.TB, js jetstream.JetStream, subject string, payload proto.Message) uint64 {
	t.Helper()
	id, svc, _, err := eventstore.ParseSubject(subject)
	if err != nil {
		t.Fatal(err)
	}
	m, err := eventstore.ToMsg(context.Background(), eventstore.Event{RequestID: id, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	m.Subject = subject
	m.Header.Set(eventstore.HeaderSource, "ddr/"+svc)
	ack, err := js.PublishMsg(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}
