package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsacl"
)

// provisionTimeout bounds how long a service waits for the streams: it may
// start before the cluster is provisioned, not long after.
const provisionTimeout = time.Minute

// createsStreams says whether the process creates the streams and the
// data-key bucket itself. With mTLS only the admin identity may (package
// natsacl): a service's own NATS user cannot create or change the stream
// every service writes to, so a service process waits for them instead.
func createsStreams(sec *security, name string) bool {
	return sec.insecure || name == natsacl.Admin
}

// Provision creates (or updates) what every service needs before it
// starts: the event and dead-letter streams and the data-key bucket, at
// replicas. With mTLS only the admin identity may, so nc is connected as
// service/ddr: the all-in-one does it at start, `ddr-natsconf -provision`
// for a cluster, loadgen for the clusters it launches.
func Provision(ctx context.Context, nc *nats.Conn, replicas int) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return provision(ctx, js, replicas)
}

func provision(ctx context.Context, js jetstream.JetStream, replicas int) error {
	if err := eventstore.EnsureStreams(ctx, js, eventstore.StreamOptions{Replicas: replicas}); err != nil {
		return err
	}
	_, err := keys.EnsureBucket(ctx, js, replicas)
	return err
}

// waitProvisioned waits until the DDR and DDR_DLQ streams exist (created,
// with the data-key bucket, by the admin identity: the all-in-one, or
// `ddr-natsconf -provision` for a cluster). The bucket is not checked: not
// every service may see it, and those that use it open it on first use.
func waitProvisioned(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, provisionTimeout)
	defer cancel()
	for _, name := range []string{eventstore.StreamName, eventstore.DLQStreamName} {
		for {
			actx, acancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := js.Stream(actx, name)
			acancel()
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("runner: stream %s is not there; the admin identity creates it (ddr-natsconf -provision, or the all-in-one): %w", name, err)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}
