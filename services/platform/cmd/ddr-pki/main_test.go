package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsx"
)

// openStore runs f on an embedded server over dataDir's JetStream files.
func openStore(t *testing.T, dataDir string, f func(js jetstream.JetStream)) {
	t.Helper()
	s, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(dataDir, "jetstream"), Port: natsx.RandomPort, SyncAlways: true}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer natsx.Shutdown(s)
	nc, err := natsx.ConnectInProcess(s, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	f(js)
}

// The operator's drill with the commands themselves: rotate the KEK of a
// stopped suite's data directory, back the new KEK up, lose it, restore
// it, and read what was sealed before the rotation.
func TestRotateThenRestoreDrillWithTheCommands(t *testing.T) {
	ctx := context.Background()
	dataDir, secrets, offline := t.TempDir(), t.TempDir(), t.TempDir()
	kekFile := filepath.Join(secrets, "kek")
	if err := keys.NewKeyFile(kekFile); err != nil {
		t.Fatal(err)
	}
	oldKEK, err := keys.LoadKEKFile(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	var sealed []byte
	openStore(t, dataDir, func(js jetstream.JetStream) {
		if _, err := keys.EnsureBucket(ctx, js, 1); err != nil {
			t.Fatal(err)
		}
		kr, err := keys.Lazy(js, oldKEK)
		if err != nil {
			t.Fatal(err)
		}
		if sealed, err = kr.Seal(ctx, "req-1", "l", []byte("alice@example.org")); err != nil {
			t.Fatal(err)
		}
	})

	if err := sub("rotate", []string{"-data-dir", dataDir, "-kek", kekFile}); err != nil {
		t.Fatal(err)
	}
	newKEK, err := keys.LoadKEKFile(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	if keys.KEKID(newKEK) == keys.KEKID(oldKEK) {
		t.Fatal("rotate kept the old KEK")
	}
	rec, backup := filepath.Join(offline, "recovery-key"), filepath.Join(offline, "kek.backup")
	if err := sub("recovery-key", []string{"-out", rec}); err != nil {
		t.Fatal(err)
	}
	if err := sub("backup", []string{"-kek", kekFile, "-recovery", rec, "-out", backup}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(kekFile); err != nil { // lost
		t.Fatal(err)
	}
	if err := sub("restore", []string{"-backup", backup, "-recovery", rec, "-kek", kekFile}); err != nil {
		t.Fatal(err)
	}
	restored, err := keys.LoadKEKFile(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	openStore(t, dataDir, func(js jetstream.JetStream) {
		kr, err := keys.Lazy(js, restored)
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := kr.Open(ctx, "req-1", "l", sealed); err != nil || string(pt) != "alice@example.org" {
			t.Errorf("after rotate, backup, loss and restore: %q, %v", pt, err)
		}
		old, err := keys.Lazy(js, oldKEK)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Open(ctx, "req-1", "l", sealed); err == nil {
			t.Error("the retired KEK still opens the data")
		}
	})
}
