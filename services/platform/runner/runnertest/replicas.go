package runnertest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

// StartReplicas starts two replicas of build, the first connected to
// urlA and the second to urlB (two nodes of one cluster), with streams and
// buckets at 3 replicas. They share one key-encryption key and one
// fingerprint key, as a deployment mounts one secret into every replica:
// the second replica's PKI directory gets the first one's before it starts.
func StartReplicas(tb testing.TB, opts Options, urlA, urlB string, build runner.BuildFunc) (a, b *Proc) {
	tb.Helper()
	optsA, optsB := opts, opts
	optsA.DataDir, optsA.NATSURL, optsA.Replicas = tb.TempDir(), urlA, 3
	optsB.DataDir, optsB.NATSURL, optsB.Replicas = tb.TempDir(), urlB, 3
	a = Start(tb, optsA, build)
	if err := os.MkdirAll(filepath.Join(optsB.DataDir, "pki"), 0o700); err != nil {
		tb.Fatal(err)
	}
	for _, name := range []string{runner.KEKFileName, keys.FingerprintKeyFileName} {
		secret, err := os.ReadFile(filepath.Join(optsA.DataDir, "pki", name))
		if err != nil {
			tb.Fatal(err)
		}
		//nolint:gosec // G703: both paths are this test's own temp directories.
		if err := os.WriteFile(filepath.Join(optsB.DataDir, "pki", name), secret, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return a, Start(tb, optsB, build)
}
