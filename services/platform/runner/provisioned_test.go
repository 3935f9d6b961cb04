package runner

import (
	"context"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

// Provision leaves a cluster as a service process waits for it: the
// streams there, and the data-key bucket; a second run changes nothing.
func TestProvisionCreatesWhatServicesWaitFor(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 2 {
		if err := Provision(ctx, env.Conn, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := waitProvisioned(ctx, env.JS); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{eventstore.StreamName, eventstore.DLQStreamName} {
		if _, err := env.JS.Stream(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
	if _, err := env.JS.KeyValue(ctx, keys.Bucket); err != nil {
		t.Errorf("bucket %s: %v", keys.Bucket, err)
	}
}
