package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
)

// Issue 14: the derived idempotency key is keyed by this user's secret: the
// same demand gives the same key (a resubmitted file is one request), but
// nobody without the secret recomputes it from a guessed target.
func TestContentKeyIsKeyedAndStable(t *testing.T) {
	env := func(dir string) func(string) string {
		return func(k string) string {
			if k == "DDR_CONFIG_DIR" {
				return dir
			}
			return ""
		}
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	secretA, err := submitSecret(env(dirA))
	if err != nil {
		t.Fatal(err)
	}
	if again, err := submitSecret(env(dirA)); err != nil || string(again) != string(secretA) {
		t.Fatalf("the secret changed between two uses: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dirA, submitSecretFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file: %v, %v; want mode 0600", fi, err)
	}
	secretB, err := submitSecret(env(dirB))
	if err != nil {
		t.Fatal(err)
	}

	r := &intakev1.DataDisclosureRequest{Targets: []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_PHONE_NUMBER, Value: "+49 30 1234567"}}}
	k := contentKey(secretA, r)
	if k != contentKey(secretA, proto.CloneOf(r)) {
		t.Error("the same demand gave two keys")
	}
	if k == contentKey(secretB, r) {
		t.Error("another secret gave the same key")
	}
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	sum := sha256.Sum256(b)
	if plain := hex.EncodeToString(sum[:]); strings.Contains(plain, strings.TrimPrefix(k, "ddrctl-")) {
		t.Errorf("key %s is the plain digest of the demand", k)
	}
	r.Targets[0].Value = "+49 30 1234568"
	if k == contentKey(secretA, r) {
		t.Error("another target gave the same key")
	}
}
