package testkit

import (
	"errors"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/keys"
)

// The keyrings made from one Keys are instances over one bucket with one
// KEK: a value one seals the other opens, and an erasure by one holds for
// the other. Another Keys has a KEK of its own.
func TestKeysKeyringsShareTheBucketAndTheKEK(t *testing.T) {
	js := Streams(t)
	k := NewKeys(t, js, 1)
	a, b := k.Keyring(t), k.Keyring(t)
	ctx := t.Context()
	sealed, err := a.Seal(ctx, "req-1", "l", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := b.Open(ctx, "req-1", "l", sealed); err != nil || string(pt) != "v" {
		t.Fatalf("the other keyring opens %q, %v", pt, err)
	}
	other := NewKeys(t, js, 1)
	if string(other.KEK) == string(k.KEK) {
		t.Fatal("two Keys share a KEK")
	}
	if err := a.Erase(ctx, "req-1"); err != nil {
		t.Fatal(err)
	}
	EventuallyNoError(t, func() error {
		if _, err := b.Open(ctx, "req-1", "l", sealed); !errors.Is(err, keys.ErrErased) {
			return errors.New("the other keyring still opens the erased value")
		}
		return nil
	})
}
