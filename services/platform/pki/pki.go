// Package pki makes the development certificate authority and the
// certificates every ddr caller presents, so that mTLS is the default even on
// a laptop: one command creates a CA, a certificate per service (server and
// client) and one per development identity, each named by its SPIFFE URI SAN.
// Production certificates come from the organisation's own PKI; the file
// layout ([Dir]) is the contract between the two.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TrustDomain is the SPIFFE trust domain of the development PKI.
const TrustDomain = "ddr.local"

// Lifetimes of development certificates: short, so a leaked dev key is
// worth little; [Ensure] renews them when a third of the lifetime is left.
const (
	CALifetime   = 365 * 24 * time.Hour
	LeafLifetime = 30 * 24 * time.Hour
)

// Services are the service identities of the suite; "ddr" is the
// all-in-one process, which also manages the streams.
var Services = []string{"ddr", "intake", "assessment", "notification", "reporting"}

// ClientIdentities are clients of the services that serve nothing
// themselves: the console (issue 23), which calls them over mTLS with
// this certificate and the signed-in person's token, and has no NATS user.
var ClientIdentities = []string{"service/console"}

// NATSIdentities are the certificates of the nats-server nodes of a secure
// cluster (deploy/nats): one identity every node shares, as the route
// authorization there admits exactly one.
var NATSIdentities = []string{"nats/cluster"}

// DevIdentities are the people and organisations of a development setup,
// as <kind>/<name>.
var DevIdentities = []string{
	"group-member/acme-eu", "group-member/acme-us",
	"staff/alice", "staff/bob", "staff/carol",
	"dpa/dpc-ie", "sre/oncall",
}

// URI returns spiffe://<TrustDomain>/<kind>/<name> for "kind/name".
func URI(kindName string) string { return "spiffe://" + TrustDomain + "/" + kindName }

// Dir is a directory of certificates:
//
//	ca.crt, ca.key              the CA
//	<kind>/<name>.crt, .key     a leaf per identity, e.g. staff/alice.crt
type Dir string

// CACert is the CA certificate's path.
func (d Dir) CACert() string { return filepath.Join(string(d), "ca.crt") }

// CAKey is the CA key's path.
func (d Dir) CAKey() string { return filepath.Join(string(d), "ca.key") }

// Cert returns the certificate and key paths of "kind/name".
func (d Dir) Cert(kindName string) (certFile, keyFile string) {
	base := filepath.Join(string(d), filepath.FromSlash(kindName))
	return base + ".crt", base + ".key"
}

// CA is a certificate authority that can issue leaves.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	PEM  []byte
}

// NewCA creates a self-signed ECDSA P-256 CA valid for lifetime.
func NewCA(name string, lifetime time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"ddr development"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: pemBlock("CERTIFICATE", der)}, nil
}

// Leaf is an issued certificate and its key, PEM encoded.
type Leaf struct {
	CertPEM, KeyPEM []byte
	Cert            *x509.Certificate
}

// TLS returns the leaf as a tls.Certificate.
func (l Leaf) TLS() (tls.Certificate, error) { return tls.X509KeyPair(l.CertPEM, l.KeyPEM) }

// Issue makes a leaf for the SPIFFE URI uri, usable as client and server
// certificate. Server names (DNS or IP) are added as SANs; the URI SAN is
// what identifies the caller.
func (ca *CA) Issue(uri string, lifetime time.Duration, hosts ...string) (Leaf, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "spiffe" {
		return Leaf{}, fmt.Errorf("pki: %q is not a spiffe URI", uri)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Leaf{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: strings.TrimPrefix(u.Path, "/")},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{u},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return Leaf{}, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Leaf{}, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Leaf{}, err
	}
	return Leaf{CertPEM: pemBlock("CERTIFICATE", der), KeyPEM: pemBlock("PRIVATE KEY", kder), Cert: cert}, nil
}

// Pool returns a pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// ServerHosts are the names a development server certificate is valid for.
var ServerHosts = []string{"localhost", "127.0.0.1", "::1"}

// EnsureOptions tune [Ensure].
type EnsureOptions struct {
	// Identities to issue as "kind/name"; default every service and
	// [DevIdentities].
	Identities []string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Ensure makes dir a complete development PKI and returns the CA. It is
// idempotent: a valid CA and leaves are kept; a missing, expiring or
// foreign leaf is (re)issued; a new CA (none, or expiring) reissues them all.
// It reports what it wrote.
func Ensure(dir Dir, opts EnsureOptions) (ca *CA, written []string, err error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	ids := opts.Identities
	if ids == nil {
		for _, s := range Services {
			ids = append(ids, "service/"+s)
		}
		ids = append(ids, ClientIdentities...)
		ids = append(ids, NATSIdentities...)
		ids = append(ids, DevIdentities...)
	}
	if err := os.MkdirAll(string(dir), 0o700); err != nil {
		return nil, nil, err
	}
	ca, err = LoadCA(dir)
	if err != nil || !fresh(ca.Cert, CALifetime, now()) {
		if ca, err = NewCA("ddr development CA", CALifetime); err != nil {
			return nil, nil, err
		}
		kder, err := x509.MarshalPKCS8PrivateKey(ca.Key)
		if err != nil {
			return nil, nil, err
		}
		if err := writeFile(dir.CAKey(), pemBlock("PRIVATE KEY", kder), 0o600); err != nil {
			return nil, nil, err
		}
		if err := writeFile(dir.CACert(), ca.PEM, 0o644); err != nil {
			return nil, nil, err
		}
		written = append(written, dir.CACert())
	}
	for _, id := range ids {
		certFile, keyFile := dir.Cert(id)
		if leafValid(ca, certFile, keyFile, now()) {
			continue
		}
		var hosts []string
		if strings.HasPrefix(id, "service/") || strings.HasPrefix(id, "nats/") {
			hosts = ServerHosts
		}
		leaf, err := ca.Issue(URI(id), LeafLifetime, hosts...)
		if err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
			return nil, nil, err
		}
		if err := writeFile(keyFile, leaf.KeyPEM, 0o600); err != nil {
			return nil, nil, err
		}
		if err := writeFile(certFile, leaf.CertPEM, 0o644); err != nil {
			return nil, nil, err
		}
		written = append(written, certFile)
	}
	return ca, written, nil
}

// LoadCA reads the CA of dir, key included.
func LoadCA(dir Dir) (*CA, error) {
	certPEM, err := os.ReadFile(dir.CACert())
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(dir.CAKey())
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: CA in %s: %w", dir, err)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, errors.New("pki: CA key cannot sign")
	}
	return &CA{Cert: pair.Leaf, Key: signer, PEM: certPEM}, nil
}

// fresh says whether c is valid at now with more than a third of lifetime left.
func fresh(c *x509.Certificate, lifetime time.Duration, now time.Time) bool {
	return now.After(c.NotBefore) && c.NotAfter.Sub(now) > lifetime/3
}

func leafValid(ca *CA, certFile, keyFile string, now time.Time) bool {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return false
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return false
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil || pair.Leaf == nil {
		return false
	}
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return false
	}
	return fresh(pair.Leaf, LeafLifetime, now)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// writeFile replaces path atomically, so a reader never sees half a key.
func writeFile(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
