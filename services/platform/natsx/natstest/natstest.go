// Package natstest starts a real embedded JetStream server for tests, so
// tests exercise the same server code as production instead of a mock.
package natstest

import (
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/natsx"
)

// Options tune [Start].
type Options struct {
	// SyncAlways fsyncs every write; off by default to keep tests fast.
	SyncAlways bool
}

// Env is a running server and an in-process client connection to it.
type Env struct {
	Server *server.Server
	Conn   *nats.Conn
	JS     jetstream.JetStream
	// Config started Server: a test restarts a stopped cluster node on
	// the same store and ports with natsx.StartEmbedded(Config, nil).
	Config natsx.EmbeddedConfig
}

// Start runs a JetStream server with its store in t.TempDir() on a random
// port and connects to it in process. Both are stopped when the test ends.
func Start(tb testing.TB, opts ...Options) *Env {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := natsx.StartEmbedded(natsx.EmbeddedConfig{
		StoreDir:   tb.TempDir(),
		Port:       natsx.RandomPort,
		SyncAlways: o.SyncAlways,
	}, nil)
	if err != nil {
		tb.Fatalf("start embedded nats: %v", err)
	}
	tb.Cleanup(func() { natsx.Shutdown(s) })
	nc, err := natsx.ConnectInProcess(s, tb.Name())
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	return &Env{Server: s, Conn: nc, JS: js}
}

// ClusterPatience bounds the wait for a test cluster to elect its leaders:
// far longer than it takes, so a loaded machine does not fail a test.
const ClusterPatience = 60 * time.Second

// StartCluster runs n JetStream servers as one cluster on loopback, each
// with its own store directory (Env.Server.JetStreamConfig().StoreDir),
// and connects to each in process. It returns once the cluster has a
// meta leader and every server knows all n peers, so a stream of n
// replicas can be placed. Everything is stopped when the test ends.
func StartCluster(tb testing.TB, n int, opts ...Options) []*Env {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	// The route ports are picked free before any node starts, so another
	// test process may take one in between; that node then never gets
	// ready. Such an attempt is stopped and made again on fresh ports.
	const attempts = 3
	var err error
	for range attempts {
		var envs []*Env
		if envs, err = startCluster(tb, n, o); err == nil {
			return envs
		}
		tb.Logf("test cluster did not start, trying on other ports: %v", err)
	}
	tb.Fatalf("the %d-node test cluster did not start in %d attempts: %v", n, attempts, err)
	return nil
}

// startCluster is one attempt of [StartCluster]: on error, whatever it
// started is stopped again.
func startCluster(tb testing.TB, n int, o Options) (_ []*Env, err error) {
	ports := make([]int, n)
	routes := make([]string, n)
	for i := range n {
		ports[i] = freePort(tb)
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i])
	}
	var stops []func()
	defer func() {
		if err != nil {
			for _, stop := range slices.Backward(stops) {
				stop()
			}
			return
		}
		for _, stop := range stops {
			tb.Cleanup(stop)
		}
	}()
	envs := make([]*Env, n)
	for i := range n {
		cfg := natsx.EmbeddedConfig{
			StoreDir:   tb.TempDir(),
			Port:       natsx.RandomPort,
			ServerName: fmt.Sprintf("n%d", i),
			SyncAlways: o.SyncAlways,
			Cluster:    &natsx.ClusterConfig{Name: "ddr-test", Port: ports[i], Routes: routes},
		}
		s, err := natsx.StartEmbedded(cfg, nil)
		if err != nil {
			return nil, fmt.Errorf("start cluster node %d: %w", i, err)
		}
		stops = append(stops, func() { natsx.Shutdown(s) })
		nc, err := natsx.ConnectInProcess(s, fmt.Sprintf("%s-n%d", tb.Name(), i))
		if err != nil {
			return nil, fmt.Errorf("connect to node %d: %w", i, err)
		}
		stops = append(stops, nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			return nil, fmt.Errorf("jetstream: %w", err)
		}
		envs[i] = &Env{Server: s, Conn: nc, JS: js, Config: cfg}
	}
	deadline := time.Now().Add(ClusterPatience)
	for !clusterReady(envs) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the %d-node cluster has no meta leader or misses peers after %v", n, ClusterPatience)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return envs, nil
}

func clusterReady(envs []*Env) bool {
	leaders := 0
	for _, e := range envs {
		if !e.Server.JetStreamIsCurrent() {
			return false
		}
		// Only the meta leader reports the peers (with JetStream up).
		if e.Server.JetStreamIsLeader() {
			if len(e.Server.JetStreamClusterPeers()) != len(envs) {
				return false
			}
			leaders++
		}
	}
	return leaders == 1
}

// freePort is a loopback port free a moment ago. Cluster routes name
// every member's port up front, so the port cannot be left to the server.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		tb.Fatalf("listener address %v is not TCP", l.Addr())
	}
	return addr.Port
}
