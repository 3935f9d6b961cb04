package keys

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// SigningKeyFileName is the default file of the transparency signing key,
// beside the KEK: outside the data directory, under the same protection
// and backed up with it. Losing it does not lose data (a new key is
// rotated in), but whoever holds it can sign reports in the company's name.
const SigningKeyFileName = "transparency-signing-key"

// NewSigningKeyFile writes a fresh Ed25519 note key named name to path
// (mode 0400), which must not exist yet, and returns its verifier key.
func NewSigningKeyFile(path, name string) (vkey string, err error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("keys: signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o400)
	if err != nil {
		return "", fmt.Errorf("keys: %w", err)
	}
	_, err = f.WriteString(skey + "\n")
	return vkey, errors.Join(err, f.Sync(), f.Close())
}

// LoadSigningKeyFile reads a note private key written by
// [NewSigningKeyFile]. A file others may read is refused ([CheckKeyFile]),
// as a KEK file would be.
func LoadSigningKeyFile(path string) (string, error) {
	if err := CheckKeyFile(path); err != nil {
		return "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("keys: signing key file: %w", err)
	}
	skey := strings.TrimSpace(string(b))
	if _, err := note.NewSigner(skey); err != nil {
		return "", errors.New("keys: signing key file: not a note private key")
	}
	return skey, nil
}
