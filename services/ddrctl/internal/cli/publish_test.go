package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// ddrctl publishes the last finished half-year as a static site, twice to
// the same bytes, and 'ddrctl verify site' checks it with the public key
// alone, and refuses it once a figure is changed.
func TestClause5_1_DdrctlPublishesAndVerifiesTheSiteOffline(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "secrets", keys.SigningKeyFileName)
	vkey, err := keys.NewSigningKeyFile(keyFile, "ddr-test-transparency")
	if err != nil {
		t.Fatal(err)
	}
	pubKey := filepath.Join(t.TempDir(), "public-key.txt")
	if err := os.WriteFile(pubKey, []byte(vkey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := suite.DefaultConfig()
	cfg.Reporting.SigningKeyFile = keyFile
	p := runnertest.Start(t, runnertest.Options{Insecure: true}, cfg.Build)
	d := ddrctl{t: t, flags: []string{"--addr", p.Info.GRPCAddr}, config: t.TempDir()}

	last := domain.PeriodOf(domain.PeriodOf(time.Now()).Start().AddDate(0, 0, -1)).String()
	site, again := t.TempDir(), t.TempDir()
	out := d.ok(bob, "report", "publish", "--period", last, "--out", site)
	if !strings.Contains(out, "ADDED") || !strings.Contains(out, "yes") {
		t.Fatalf("publish:\n%s", out)
	}
	if out := d.ok(bob, "report", "publish", "--period", last, "--out", again); !strings.Contains(out, "no") {
		t.Fatalf("second publish:\n%s", out)
	}
	sameTree(t, site, again)
	out = d.ok("", "verify", "site", site, "--key", pubKey)
	if !strings.Contains(out, last) {
		t.Fatalf("verify site:\n%s", out)
	}
	page := filepath.Join(site, "reports", last, "report.csv")
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, bytes.Replace(b, []byte("total,requests,"), []byte("total,requests,1"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := d.as("", "verify", "site", site, "--key", pubKey); r.code != ExitError || !strings.Contains(r.stderr, "changed") {
		t.Fatalf("verify of a changed figure: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// sameTree fails unless two directories hold the same files, byte for byte.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	read := func(root string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			m[rel], err = os.ReadFile(p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ma, mb := read(a), read(b)
	if len(ma) != len(mb) {
		t.Fatalf("%d files, then %d", len(ma), len(mb))
	}
	for p, x := range ma {
		if !bytes.Equal(x, mb[p]) {
			t.Fatalf("%s differs between two publications", p)
		}
	}
}
