package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// FingerprintKeyFileName is the file of the fingerprint key, kept beside
// the KEK (same directory, same protection): whoever may read one may read
// the other, and neither belongs in the data directory.
const FingerprintKeyFileName = "fingerprint-key"

// Fingerprinter makes keyed digests of personal data. A plain hash of a
// phone number or an e-mail address is undone by trying every plausible
// value (an erased phone number was recovered in 93 ms, issue 14); an HMAC
// under a secret key is not, as long as the key is not in hand. Use it
// wherever a digest of personal data is stored or shown: idempotency,
// duplicate detection, anything published. Adapters use it; domain
// packages build the canonical bytes and never hash them.
type Fingerprinter struct{ key []byte }

// NewFingerprinter returns a fingerprinter keyed with key (32 bytes).
func NewFingerprinter(key []byte) (*Fingerprinter, error) {
	if len(key) != KEKSize {
		return nil, fmt.Errorf("keys: fingerprint key is %d bytes, want %d", len(key), KEKSize)
	}
	return &Fingerprinter{key: append([]byte(nil), key...)}, nil
}

// Fingerprint is HMAC-SHA256 over purpose and the parts, each length-
// prefixed so that ("ab","c") and ("a","bc") differ, as unpadded base64url.
// purpose separates uses ("intake.content/v1", "intake.idempotency/v1"):
// the same value fingerprinted for two purposes gives unrelated digests.
func (f *Fingerprinter) Fingerprint(purpose string, parts ...[]byte) string {
	m := hmac.New(sha256.New, f.key)
	var n [8]byte
	for _, p := range append([][]byte{[]byte(purpose)}, parts...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		m.Write(n[:])
		m.Write(p)
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// LoadFingerprintKeyFile reads a fingerprint key file (base64 text, as a
// KEK file).
// A file others may read is refused ([CheckKeyFile]).
func LoadFingerprintKeyFile(path string) (*Fingerprinter, error) {
	if err := CheckKeyFile(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: fingerprint key file: %w", err)
	}
	k, err := ParseKEK(string(b))
	if err != nil {
		return nil, errors.New("keys: fingerprint key file: not a 32-byte base64 key")
	}
	return NewFingerprinter(k)
}

// EnsureFingerprintKeyFile writes a new random fingerprint key beside the
// KEK at kekPath unless one is there, and returns its path. For
// development setups, like [EnsureKEKFile]. The key is never rotated
// lightly: a new key changes every fingerprint, so duplicates of requests
// made before the change are no longer recognised.
func EnsureFingerprintKeyFile(kekPath string) (string, error) {
	path := filepath.Join(filepath.Dir(kekPath), FingerprintKeyFileName)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	return path, NewKeyFile(path)
}
