package keys_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
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
	kr = kr.WithJetStream(env.JS)
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

func TestClause4_1_2_EraseShredsEveryValueOfTheRequestForGood(t *testing.T) {
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
	// A refusal under clause 4.1.2 that says why, not an internal error.
	_, err := kr.Seal(ctx, "req-1", "c", []byte("new"))
	var pv *ddrerr.PolicyViolation
	if !errors.Is(err, keys.ErrErased) || !errors.As(err, &pv) || pv.Clause != "4.1.2" || pv.Rule != "TARGETS_ERASED" {
		t.Errorf("Seal after Erase: %v, want ErrErased refused under 4.1.2 TARGETS_ERASED", err)
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

// The two kinds of data key are independent: erasing the subject key (the
// end of retention of whom the request is about) leaves the record key,
// and what it sealed, readable; a value sealed under one kind does not
// open under the other.
func TestErasingTheSubjectKeyKeepsTheRecordKey(t *testing.T) {
	kr, _, _ := keyring(t)
	ctx := context.Background()
	subj, err := kr.SealKind(ctx, "req-1", keys.Subject, "l", []byte("who"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := kr.SealKind(ctx, "req-1", keys.Record, "l", []byte("what we did"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.OpenKind(ctx, "req-1", keys.Subject, "l", rec); !errors.Is(err, keys.ErrCorrupt) {
		t.Errorf("a record value opened with the subject key: %v", err)
	}
	// The subject key is the one Seal has always used.
	if pt, err := kr.Open(ctx, "req-1", "l", subj); err != nil || string(pt) != "who" {
		t.Errorf("Open of a subject value = %q, %v", pt, err)
	}
	if err := kr.Erase(ctx, "req-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.OpenKind(ctx, "req-1", keys.Subject, "l", subj); !errors.Is(err, keys.ErrErased) {
		t.Errorf("subject value after erasure: %v, want ErrErased", err)
	}
	if pt, err := kr.OpenKind(ctx, "req-1", keys.Record, "l", rec); err != nil || string(pt) != "what we did" {
		t.Errorf("record value after the subject key was erased = %q, %v", pt, err)
	}
}

// Fingerprints are keyed: another key, or another purpose, gives another
// digest, and the parts are length-prefixed.
func TestFingerprintsAreKeyedAndSeparatedByPurpose(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	f1, err := keys.NewFingerprinter(k1)
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := keys.NewFingerprinter(k2)
	a := f1.Fingerprint("p", []byte("+49 30 1234567"))
	if a != f1.Fingerprint("p", []byte("+49 30 1234567")) {
		t.Error("fingerprint not deterministic")
	}
	for name, other := range map[string]string{
		"another key":     f2.Fingerprint("p", []byte("+49 30 1234567")),
		"another purpose": f1.Fingerprint("q", []byte("+49 30 1234567")),
		"split parts":     f1.Fingerprint("p", []byte("+49 30 "), []byte("1234567")),
	} {
		if other == a {
			t.Errorf("%s gives the same fingerprint", name)
		}
	}
	if _, err := keys.NewFingerprinter([]byte("short")); err == nil {
		t.Error("a short fingerprint key is accepted")
	}
	dir := t.TempDir()
	path, err := keys.EnsureFingerprintKeyFile(filepath.Join(dir, "kek"))
	if err != nil {
		t.Fatal(err)
	}
	fa, err := keys.LoadFingerprintKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := keys.EnsureFingerprintKeyFile(filepath.Join(dir, "kek")); again != path {
		t.Errorf("second Ensure wrote %s", again)
	}
	fb, _ := keys.LoadFingerprintKeyFile(path)
	if fa.Fingerprint("p") != fb.Fingerprint("p") {
		t.Error("the key file changed on the second Ensure")
	}
}
