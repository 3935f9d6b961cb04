package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/keys"
)

// A KEK or fingerprint key file that others may read stops the process
// before it connects to anything.
func TestKeyFileReadableByOthersStopsStartup(t *testing.T) {
	for _, which := range []string{"kek", "fingerprint-key"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			kek := filepath.Join(dir, KEKFileName)
			if err := keys.NewKeyFile(kek); err != nil {
				t.Fatal(err)
			}
			fp, err := keys.EnsureFingerprintKeyFile(kek)
			if err != nil {
				t.Fatal(err)
			}
			target := map[string]string{"kek": kek, "fingerprint-key": fp}[which]
			if err := os.Chmod(target, 0o644); err != nil {
				t.Fatal(err)
			}
			built := false
			err = Run(context.Background(), Config{Name: "test", DevIdentity: true, DataDir: t.TempDir(), KEKFile: kek, NATSListen: "127.0.0.1:-1", GRPCAddr: "127.0.0.1:0"}, nil,
				func(context.Context, Deps) ([]Component, error) { built = true; return nil, nil })
			if err == nil || !strings.Contains(err.Error(), "accessible to others") {
				t.Fatalf("Run = %v, want the key file refused", err)
			}
			if built {
				t.Fatal("components were built with a key file others can read")
			}
		})
	}
}

// By default the keys live in secrets/ beside the data directory, not in
// it: a copy of the data directory holds no key. The components get the
// fingerprinter loaded from there.
func TestKeysLiveOutsideTheDataDirectoryByDefault(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	var fp *keys.Fingerprinter
	ctx, cancel := context.WithCancel(context.Background())
	err := Run(ctx, Config{Name: "test", DevIdentity: true, DataDir: data, NATSListen: "127.0.0.1:-1", GRPCAddr: "127.0.0.1:0",
		Ready: func(Info) { cancel() }}, nil,
		func(_ context.Context, d Deps) ([]Component, error) { fp = d.Fingerprints; return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	if fp == nil {
		t.Fatal("Deps.Fingerprints is nil")
	}
	for _, f := range []string{KEKFileName, keys.FingerprintKeyFileName} {
		path := filepath.Join(root, "secrets", f)
		if err := keys.CheckKeyFile(path); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	_ = filepath.WalkDir(data, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (d.Name() == KEKFileName || d.Name() == keys.FingerprintKeyFileName) {
			t.Errorf("a key file in the data directory: %s", path)
		}
		return nil
	})
}
