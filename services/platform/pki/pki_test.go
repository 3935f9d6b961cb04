package pki_test

import (
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/pki"
)

func TestEnsureIssuesEveryIdentityOnceAndRenewsWhatExpires(t *testing.T) {
	dir := pki.Dir(t.TempDir())
	_, written, err := pki.Ensure(dir, pki.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + len(pki.Services) + len(pki.ClientIdentities) + len(pki.NATSIdentities) + len(pki.DevIdentities); len(written) != want {
		t.Fatalf("first run wrote %d files, want %d", len(written), want)
	}
	if _, again, err := pki.Ensure(dir, pki.EnsureOptions{}); err != nil || len(again) != 0 {
		t.Fatalf("second run wrote %v, %v; want nothing", again, err)
	}
	later := func() time.Time { return time.Now().Add(pki.LeafLifetime * 3 / 4) }
	_, renewed, err := pki.Ensure(dir, pki.EnsureOptions{Now: later})
	if err != nil || len(renewed) != len(pki.Services)+len(pki.ClientIdentities)+len(pki.NATSIdentities)+len(pki.DevIdentities) {
		t.Fatalf("run near expiry renewed %d, %v; want every leaf, not the CA", len(renewed), err)
	}

	ca, err := pki.LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	certFile, _ := dir.Cert("service/intake")
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := dir.Files("service/intake").ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	leaf := cfg.Certificates[0].Leaf
	if len(b) == 0 || leaf.URIs[0].String() != "spiffe://ddr.local/service/intake" {
		t.Fatalf("server certificate URI SAN %v", leaf.URIs)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("service certificate not valid for localhost: %v", err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("service certificate not valid for 127.0.0.1: %v", err)
	}
}

// Issue 23: the console calls the services over mTLS with a certificate of
// its own, service/console, made with the rest.
func TestEnsureIssuesTheConsolesCertificate(t *testing.T) {
	dir := pki.Dir(t.TempDir())
	if _, _, err := pki.Ensure(dir, pki.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := dir.Files("service/console").ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != "spiffe://ddr.local/service/console" {
		t.Errorf("console certificate URI SANs %v", leaf.URIs)
	}
}
