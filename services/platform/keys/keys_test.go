package keys_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

func keyring(t *testing.T) (*keys.Keyring, []byte, *natstest.Env) {
	t.Helper()
	env := natstest.Start(t)
	kv, err := keys.EnsureBucket(t.Context(), env.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	kek := make([]byte, keys.KEKSize)
	_, _ = rand.Read(kek)
	kr, err := keys.New(kv, kek)
	if err != nil {
		t.Fatal(err)
	}
	return kr, kek, env
}

func TestSealedValueOpensOnlyForItsRequestAndLabel(t *testing.T) {
	kr, kek, env := keyring(t)
	ctx := t.Context()
	sealed, err := kr.Seal(ctx, "req-1", keys.TargetLabel("t1"), []byte("alice@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("alice")) {
		t.Fatal("sealed value holds the plaintext")
	}
	got, err := kr.Open(ctx, "req-1", keys.TargetLabel("t1"), sealed)
	if err != nil || string(got) != "alice@example.org" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := kr.Open(ctx, "req-1", keys.TargetLabel("t2"), sealed); !errors.Is(err, keys.ErrCorrupt) {
		t.Errorf("opened under another label: %v", err)
	}
	if _, err := kr.Seal(ctx, "req-2", "x", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Open(ctx, "req-2", keys.TargetLabel("t1"), sealed); !errors.Is(err, keys.ErrCorrupt) {
		t.Errorf("opened with another request's key: %v", err)
	}
	if _, err := kr.Open(ctx, "req-3", "x", sealed); !errors.Is(err, keys.ErrNoKey) {
		t.Errorf("opened for a request without a key: %v", err)
	}
	other := bytes.Clone(kek)
	other[0] ^= 1
	lazy, err := keys.Lazy(env.JS, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lazy.Open(ctx, "req-1", keys.TargetLabel("t1"), sealed); !errors.Is(err, keys.ErrCorrupt) {
		t.Errorf("opened with another KEK: %v", err)
	}
}

func TestEraseShredsEveryValueOfTheRequestForGood(t *testing.T) {
	kr, _, _ := keyring(t)
	ctx := t.Context()
	a, _ := kr.Seal(ctx, "req-1", "a", []byte("one"))
	b, _ := kr.Seal(ctx, "req-1", "b", []byte("two"))
	keep, _ := kr.Seal(ctx, "req-2", "a", []byte("three"))
	if err := kr.Erase(ctx, "req-1"); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]byte{a, b} {
		if _, err := kr.Open(ctx, "req-1", "a", s); !errors.Is(err, keys.ErrErased) {
			t.Errorf("Open after Erase: %v, want ErrErased", err)
		}
	}
	if _, err := kr.Seal(ctx, "req-1", "c", []byte("new")); !errors.Is(err, keys.ErrErased) {
		t.Errorf("Seal after Erase made a new key: %v", err)
	}
	if erased, err := kr.Erased(ctx, "req-1"); err != nil || !erased {
		t.Errorf("Erased = %v, %v", erased, err)
	}
	if err := kr.Erase(ctx, "req-1"); err != nil {
		t.Errorf("second Erase: %v", err)
	}
	if got, err := kr.Open(ctx, "req-2", "a", keep); err != nil || string(got) != "three" {
		t.Errorf("another request's value after Erase: %q, %v", got, err)
	}
}

func TestKEKFileIsCreatedOnceAndParsed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	if created, err := keys.EnsureKEKFile(path); err != nil || !created {
		t.Fatalf("EnsureKEKFile = %v, %v", created, err)
	}
	k1, err := keys.LoadKEKFile(path)
	if err != nil || len(k1) != keys.KEKSize {
		t.Fatalf("LoadKEKFile = %d bytes, %v", len(k1), err)
	}
	if created, _ := keys.EnsureKEKFile(path); created {
		t.Error("EnsureKEKFile replaced an existing KEK")
	}
	if _, err := keys.ParseKEK("c2hvcnQ="); err == nil {
		t.Error("a 5-byte KEK was accepted")
	}
}
