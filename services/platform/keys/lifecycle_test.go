package keys_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/keys"
)

// Rotation: a new KEK re-wraps every data key, values sealed before read
// on under it, the old KEK opens nothing any more (retired), erased keys
// stay erased, and a second run has nothing left to do.
func TestKEKRotationRewrapsEveryKeyAndRetiresTheOld(t *testing.T) {
	kr, oldKEK, env := keyring(t)
	ctx := t.Context()
	sealed := map[string][]byte{}
	for _, id := range []string{"req-a", "req-b", "req-c"} {
		s, err := kr.Seal(ctx, id, "l", []byte("value of "+id))
		if err != nil {
			t.Fatal(err)
		}
		sealed[id] = s
	}
	rec, err := kr.SealKind(ctx, "req-a", keys.Record, "l", []byte("record"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Erase(ctx, "req-c"); err != nil {
		t.Fatal(err)
	}
	newKEK := make([]byte, keys.KEKSize)
	_, _ = rand.Read(newKEK)
	n, err := kr.RotateKEK(ctx, newKEK)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // req-a, req-a.record, req-b
		t.Errorf("re-wrapped %d keys, want 3", n)
	}
	fresh, err := keys.Lazy(env.JS, newKEK)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"req-a", "req-b"} {
		if pt, err := fresh.Open(ctx, id, "l", sealed[id]); err != nil || string(pt) != "value of "+id {
			t.Errorf("%s under the new KEK: %q, %v", id, pt, err)
		}
	}
	if pt, err := fresh.OpenKind(ctx, "req-a", keys.Record, "l", rec); err != nil || string(pt) != "record" {
		t.Errorf("record under the new KEK: %q, %v", pt, err)
	}
	if _, err := fresh.Open(ctx, "req-c", "l", sealed["req-c"]); !errors.Is(err, keys.ErrErased) {
		t.Errorf("erased key after rotation: %v, want ErrErased", err)
	}
	retired, err := keys.Lazy(env.JS, oldKEK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := retired.Open(ctx, "req-a", "l", sealed["req-a"]); !errors.Is(err, keys.ErrCorrupt) {
		t.Errorf("the old KEK still opens a key: %v", err)
	}
	if n, err := kr.RotateKEK(ctx, newKEK); err != nil || n != 0 {
		t.Errorf("second rotation to the same KEK: %d keys, %v; want 0", n, err)
	}
}

// The restore drill: back the KEK up under a recovery key, lose the KEK
// file, restore it from the backup, and read what was sealed before.
func TestKEKRestoreDrill_BackUpLoseRestoreRead(t *testing.T) {
	kr, kek, env := keyring(t)
	ctx := t.Context()
	sealed, err := kr.Seal(ctx, "req-1", "l", []byte("alice@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kekFile, recFile := filepath.Join(dir, "kek"), filepath.Join(t.TempDir(), "recovery-key")
	if err := keys.WriteKeyFile(kekFile, kek); err != nil {
		t.Fatal(err)
	}
	if err := keys.NewKeyFile(recFile); err != nil {
		t.Fatal(err)
	}
	recovery, err := keys.LoadKEKFile(recFile)
	if err != nil {
		t.Fatal(err)
	}
	backup, err := keys.BackupKEK(kek, recovery)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(backup, kek) {
		t.Fatal("the backup holds the KEK in clear")
	}

	if err := os.Remove(kekFile); err != nil { // lost
		t.Fatal(err)
	}
	if _, err := keys.LoadKEKFile(kekFile); err == nil {
		t.Fatal("the KEK file is still there")
	}
	wrong := make([]byte, keys.KEKSize)
	_, _ = rand.Read(wrong)
	if _, err := keys.RestoreKEK(backup, wrong); err == nil {
		t.Error("a wrong recovery key restored the KEK")
	}
	restored, err := keys.RestoreKEK(backup, recovery)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.WriteKeyFile(kekFile, restored); err != nil {
		t.Fatal(err)
	}
	again, err := keys.LoadKEKFile(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	kr2, err := keys.Lazy(env.JS, again)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := kr2.Open(ctx, "req-1", "l", sealed); err != nil || string(pt) != "alice@example.org" {
		t.Errorf("after the restore: %q, %v", pt, err)
	}
}

// A key file others may read is refused; 0400, 0600 and 0440 with the
// process's own group are accepted.
func TestKeyFileReadableByOthersIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	if err := keys.NewKeyFile(path); err != nil {
		t.Fatal(err)
	}
	for mode, ok := range map[os.FileMode]bool{0o400: true, 0o600: true, 0o440: true, 0o444: false, 0o404: false, 0o460: false, 0o644: false} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		err := keys.CheckKeyFile(path)
		if ok && err != nil {
			t.Errorf("mode %04o refused: %v", mode, err)
		}
		if !ok && err == nil {
			t.Errorf("mode %04o accepted", mode)
		}
		if _, lerr := keys.LoadKEKFile(path); (lerr == nil) != ok {
			t.Errorf("LoadKEKFile with mode %04o: %v", mode, lerr)
		}
	}
}
