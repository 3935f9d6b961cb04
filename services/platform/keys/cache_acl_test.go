package keys_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsacl"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// Every service that opens personal data may run the cache's watch of the
// bucket under its own NATS user (package natsacl): without that
// permission its keyring would read every key from the bucket again.
func TestEveryServiceThatOpensPersonalDataRunsTheCacheUnderItsNATSPermissions(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, func(context.Context, runner.Deps) ([]runner.Component, error) { return nil, nil })
	kek := make([]byte, keys.KEKSize)
	_, _ = rand.Read(kek)
	for _, s := range natsacl.Services {
		if !s.OpensPersonalData {
			continue
		}
		js, err := jetstream.New(p.NATS(t, natsacl.URI("ddr.local", s.Name)))
		if err != nil {
			t.Fatal(err)
		}
		kr, err := keys.Lazy(js, kek)
		if err != nil {
			t.Fatal(err)
		}
		for !kr.CacheRunning(t.Context()) && kr.CacheStats().WatchErr == nil {
			select {
			case <-t.Context().Done():
				t.Fatal(t.Context().Err())
			case <-time.After(time.Millisecond):
			}
		}
		id := "req-acl-" + s.Name
		sealed, err := kr.Seal(t.Context(), id, "l", []byte("v"))
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		for range 2 {
			if _, err := kr.Open(t.Context(), id, "l", sealed); err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
		}
		if st := kr.CacheStats(); !st.Running || st.Hits == 0 {
			t.Errorf("%s: the cache does not run under the service's permissions: %+v", s.Name, st)
		}
		kr.Close()
	}
}
