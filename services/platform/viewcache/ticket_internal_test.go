package viewcache

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/keys"
)

// plain is a Source whose views hold no personal data: the cache serves
// without a watch, and keyWritten is driven by the test.
type plain struct{}

func (plain) Unchanged(context.Context, string, uint64) (bool, error) { return true, nil }
func (plain) JetStream() jetstream.JetStream                          { return nil }
func (plain) OpensSealed() bool                                       { return false }

// A view built while a key of its request was written (an erasure that
// the build may have raced with) is not kept; one of another request is.
func TestAdmit_KeyWrittenDuringTheBuildIsNotKept(t *testing.T) {
	c := For[string](plain{}, 0)
	c.start()
	_, erased, _ := c.lookup("req-a")
	_, other, _ := c.lookup("req-b")
	c.keyWritten("$KV." + keys.Bucket + ".req-a")
	c.admit(erased, "req-a", 7, "opened before the erasure")
	c.admit(other, "req-b", 7, "fine")
	if _, _, ok := c.lookup("req-a"); ok {
		t.Error("a view built across its request's key write was kept")
	}
	if _, _, ok := c.lookup("req-b"); !ok {
		t.Error("another request's view was not kept")
	}
	// A key write drops a kept view, whichever kind of key it is.
	c.keyWritten("$KV." + keys.Bucket + ".req-b.record")
	if _, _, ok := c.lookup("req-b"); ok {
		t.Error("a kept view survived a write of its request's key")
	}
}
