package natsx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/natsx"
)

func TestStartEmbedded_ServesJetStreamOverTCPAndInProcess(t *testing.T) {
	s, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: t.TempDir(), Port: natsx.RandomPort, SyncAlways: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer natsx.Shutdown(s)

	tcp, err := natsx.Connect(s.ClientURL(), "tcp-client")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	inproc, err := natsx.ConnectInProcess(s, "inproc-client")
	if err != nil {
		t.Fatal(err)
	}
	defer inproc.Close()

	for name, nc := range map[string]*nats.Conn{"tcp": tcp, "inproc": inproc} {
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.AccountInfo(context.Background()); err != nil {
			t.Errorf("%s: JetStream account info: %v", name, err)
		}
		if nc.Opts.Name == "" {
			t.Errorf("%s: connection has no name", name)
		}
	}
}

func TestStartEmbedded_KeepsStreamsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := natsx.EmbeddedConfig{StoreDir: dir, Port: natsx.RandomPort, SyncAlways: true}
	ctx := context.Background()

	s, err := natsx.StartEmbedded(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := natsx.ConnectInProcess(s, "first")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "s.1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	natsx.Shutdown(s)

	s, err = natsx.StartEmbedded(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer natsx.Shutdown(s)
	nc, err = natsx.ConnectInProcess(s, "second")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ = jetstream.New(nc)
	st, err := js.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().State.Msgs; got != 1 {
		t.Errorf("messages after restart = %d, want 1", got)
	}
}

func TestEmbeddedConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		cfg  natsx.EmbeddedConfig
		ok   bool
	}{
		{"minimal", natsx.EmbeddedConfig{StoreDir: "/x"}, true},
		{"no store dir", natsx.EmbeddedConfig{}, false},
		{"port out of range", natsx.EmbeddedConfig{StoreDir: "/x", Port: 70000}, false},
		{"port below random", natsx.EmbeddedConfig{StoreDir: "/x", Port: -2}, false},
		{"negative timeout", natsx.EmbeddedConfig{StoreDir: "/x", StartTimeout: -1}, false},
		{"cluster without name", natsx.EmbeddedConfig{StoreDir: "/x", ServerName: "a", Cluster: &natsx.ClusterConfig{}}, false},
		{"cluster without server name", natsx.EmbeddedConfig{StoreDir: "/x", Cluster: &natsx.ClusterConfig{Name: "c"}}, false},
		{"cluster", natsx.EmbeddedConfig{StoreDir: "/x", ServerName: "a", Cluster: &natsx.ClusterConfig{Name: "c", Port: -1}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.ok && err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, natsx.ErrInvalidConfig) {
				t.Errorf("Validate() = %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := natsx.StartEmbedded(natsx.EmbeddedConfig{}, nil); !errors.Is(err, natsx.ErrInvalidConfig) {
		t.Errorf("StartEmbedded without StoreDir = %v, want ErrInvalidConfig", err)
	}
}
