package keys_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/translog"
)

// The transparency signing key is kept as the KEK is: written 0400, and a
// file others may read is refused, so a key that leaked by its mode is not
// used to sign in the company's name.
func TestSigningKeyFileIsKeptLikeTheKEK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets", keys.SigningKeyFileName)
	vkey, err := keys.NewSigningKeyFile(path, "ddr-transparency")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.NewSigningKeyFile(path, "ddr-transparency"); err == nil {
		t.Fatal("an existing key file was overwritten")
	}
	skey, err := keys.LoadSigningKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := translog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if s.VerifierKey() != vkey {
		t.Fatalf("verifier key derived from the file %q, written %q", s.VerifierKey(), vkey)
	}
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.LoadSigningKeyFile(path); err == nil {
		t.Fatal("a world-readable signing key was loaded")
	}
}
