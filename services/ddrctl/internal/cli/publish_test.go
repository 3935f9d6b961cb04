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

func startPublishing(t *testing.T) (ddrctl, string, *runnertest.Proc) {
	t.Helper()
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
	return ddrctl{t: t, flags: []string{"--addr", p.Info.GRPCAddr}, config: t.TempDir()}, pubKey, p
}

const dpc = "spiffe://ddr.local/dpa/dpc-ie"

// A DPA gets the copy of a request staff opened to it, and checks it
// offline; another request is not found for it, and its raw record is
// closed to it.
func TestClause5_1_DdrctlDPAProofWithinItsRemitVerifiesOffline(t *testing.T) {
	d, pubKey, p := startPublishing(t)
	demand := writeDemand(t)
	opened := requestID(t, d.ok(member, "request", "submit", "-f", demand, "-o", "json"))
	d.ok(member, "request", "withdraw", opened, "--reason", "withdrawn by letter")
	acknowledgeWithdrawal(t, p, opened) // issue 16: the record is sealed once the withdrawal is acknowledged
	closed := requestID(t, d.ok(member, "request", "submit", "-f", writeDemand(t), "--key", "second", "-o", "json"))
	d.ok(bob, "record", "open-to-dpa", opened, "--dpa", "dpc-ie", "--reason", "inquiry 2026/114")

	proof := d.until(dpc, func(s string) bool { return strings.Contains(s, `"seals"`) }, "record", "proof", opened, "-o", "json")
	file := filepath.Join(t.TempDir(), "proof.json")
	if err := os.WriteFile(file, []byte(proof), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := d.ok("", "verify", "record", file, "--key", pubKey, "--origin", "ddr/transparency-reports/record-log"); !strings.Contains(out, "yes") {
		t.Fatalf("verify record:\n%s", out)
	}
	if r := d.as(dpc, "record", "proof", closed); r.code != ExitNotFound {
		t.Fatalf("a request outside the remit: exit %d, want %d\n%s", r.code, ExitNotFound, r.stderr)
	}
	if r := d.as(dpc, "record", "get", opened); r.code == 0 {
		t.Fatalf("a DPA read the raw record:\n%s", r.stdout)
	}
	if got := d.ok(bob, "record", "get", opened); !strings.Contains(got, "DpaRecordRead") {
		t.Errorf("the DPA's read is not in the record:\n%s", got)
	}
}

// ddrctl publishes the last finished half-year as a static site, twice to
// the same bytes, and 'ddrctl verify site' checks it with the public key
// alone, and refuses it once a figure is changed.
func TestClause5_1_DdrctlPublishesAndVerifiesTheSiteOffline(t *testing.T) {
	d, pubKey, _ := startPublishing(t)
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
