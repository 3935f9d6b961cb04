// Package natstest starts a real embedded JetStream server for tests, so
// tests exercise the same server code as production instead of a mock.
package natstest

import (
	"testing"

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
