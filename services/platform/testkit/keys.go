package testkit

import (
	"crypto/rand"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/keys"
)

// Keys is a key bucket and a KEK, from which a test makes the keyrings of
// one service instance or several (each its own cache over the bucket).
type Keys struct {
	JS  jetstream.JetStream
	KV  jetstream.KeyValue
	KEK []byte
}

// NewKeys makes (or finds) the key bucket on js with replicas replicas,
// and a new random KEK.
func NewKeys(tb testing.TB, js jetstream.JetStream, replicas int) *Keys {
	tb.Helper()
	kv, err := keys.EnsureBucket(tb.Context(), js, replicas)
	if err != nil {
		tb.Fatal(err)
	}
	kek := make([]byte, keys.KEKSize)
	if _, err := rand.Read(kek); err != nil {
		tb.Fatal(err)
	}
	return &Keys{JS: js, KV: kv, KEK: kek}
}

// Keyring is a keyring over the bucket with the KEK as a service runs it:
// its cache watches the bucket and an erasure deletes securely
// (WithJetStream).
func (k *Keys) Keyring(tb testing.TB) *keys.Keyring {
	tb.Helper()
	kr, err := keys.New(k.KV, k.KEK)
	if err != nil {
		tb.Fatal(err)
	}
	return kr.WithJetStream(k.JS)
}

// Keyring is the keyring of one service instance over a new bucket of one
// replica on js: NewKeys(tb, js, 1).Keyring(tb).
func Keyring(tb testing.TB, js jetstream.JetStream) *keys.Keyring {
	tb.Helper()
	return NewKeys(tb, js, 1).Keyring(tb)
}
