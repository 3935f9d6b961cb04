package pki

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CRLFileName is the certificate revocation list of a PKI directory.
const CRLFileName = "crl.pem"

// CRL returns the path of the directory's revocation list.
func (d Dir) CRL() string { return filepath.Join(string(d), CRLFileName) }

// Revoke adds cert to the revocation list of dir (creating it), signed by
// dir's CA, and returns the list's path. cert must have been issued by that
// CA. Revoking a certificate twice changes nothing but the list's number.
func Revoke(dir Dir, cert *x509.Certificate, now time.Time) (string, error) {
	ca, err := LoadCA(dir)
	if err != nil {
		return "", err
	}
	if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
		return "", fmt.Errorf("pki: %s was not issued by the CA of %s: %w", cert.Subject.CommonName, dir, err)
	}
	list := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(CALifetime)}
	if old, err := readCRL(dir.CRL(), ca.Cert); err == nil {
		list.RevokedCertificateEntries = old.RevokedCertificateEntries
		list.Number = new(big.Int).Add(old.Number, big.NewInt(1))
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	already := false
	for _, e := range list.RevokedCertificateEntries {
		already = already || e.SerialNumber.Cmp(cert.SerialNumber) == 0
	}
	if !already {
		list.RevokedCertificateEntries = append(list.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: now})
	}
	der, err := x509.CreateRevocationList(rand.Reader, list, ca.Cert, ca.Key)
	if err != nil {
		return "", err
	}
	return dir.CRL(), writeFile(dir.CRL(), pemBlock("X509 CRL", der), 0o644)
}

// readCRL parses a PEM (or DER) CRL and checks it is signed by issuer.
func readCRL(path string, issuer *x509.Certificate) (*x509.RevocationList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	list, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("pki: CRL %s: %w", path, err)
	}
	if err := list.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("pki: CRL %s is not signed by the CA: %w", path, err)
	}
	return list, nil
}

// Revocations is a CRL file kept current without a restart: every check
// looks at the file's modification time and size and reloads it when they
// changed, so a revocation takes effect at the next handshake after the
// file is replaced. A handshake is rare (connections are long-lived), so
// the stat costs nothing that matters.
//
// Revocations only grow: a CRL that disappears or fails to parse or verify
// keeps the last good list in force (and the error is reported), so a bad
// edit never un-revokes a certificate.
type Revocations struct {
	path   string
	issuer *x509.Certificate
	onErr  func(error)

	mu      sync.Mutex
	modTime time.Time
	size    int64
	serials map[string]bool
}

// LoadRevocations reads the CRL at path, signed by issuer. A missing file
// is an error when required, else an empty list until the file appears.
// onErr, if set, hears of reloads that failed.
func LoadRevocations(path string, issuer *x509.Certificate, required bool, onErr func(error)) (*Revocations, error) {
	r := &Revocations{path: path, issuer: issuer, onErr: onErr, serials: map[string]bool{}}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pki: CRL: %w", err)
	}
	if err := r.load(fi); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Revocations) load(fi os.FileInfo) error {
	list, err := readCRL(r.path, r.issuer)
	if err != nil {
		return err
	}
	serials := make(map[string]bool, len(r.serials)+len(list.RevokedCertificateEntries))
	for s := range r.serials {
		serials[s] = true
	}
	for _, e := range list.RevokedCertificateEntries {
		serials[e.SerialNumber.String()] = true
	}
	r.serials, r.modTime, r.size = serials, fi.ModTime(), fi.Size()
	return nil
}

// Revoked reports whether cert, issued by the CA, is on the list.
func (r *Revocations) Revoked(cert *x509.Certificate) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if fi, err := os.Stat(r.path); err == nil && (!fi.ModTime().Equal(r.modTime) || fi.Size() != r.size) {
		if err := r.load(fi); err != nil && r.onErr != nil {
			r.onErr(err)
		}
	}
	return r.serials[cert.SerialNumber.String()]
}

// ErrRevoked and ErrForeignTrustDomain are the refusals of [VerifyPeer].
var (
	ErrRevoked            = errors.New("pki: certificate revoked")
	ErrForeignTrustDomain = errors.New("pki: certificate of another trust domain")
)

// VerifyPeer returns a [tls.Config.VerifyConnection] for servers: after the
// chain is verified, it refuses a peer whose certificate does not name one
// SPIFFE ID in trustDomain (the CA may sign for several), or whose chain
// holds a certificate on rev (nil: no revocations).
func VerifyPeer(trustDomain string, rev *Revocations) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return nil // the ClientAuth setting decides whether one is required
		}
		leaf := cs.PeerCertificates[0]
		if len(leaf.URIs) != 1 || !inTrustDomain(leaf.URIs[0], trustDomain) {
			return fmt.Errorf("%w: want one spiffe://%s/ URI", ErrForeignTrustDomain, trustDomain)
		}
		if rev == nil {
			return nil
		}
		for _, chain := range cs.VerifiedChains {
			for _, c := range chain {
				if rev.Revoked(c) {
					return fmt.Errorf("%w: serial %s", ErrRevoked, c.SerialNumber)
				}
			}
		}
		return nil
	}
}

func inTrustDomain(u *url.URL, trustDomain string) bool {
	return u.Scheme == "spiffe" && u.Host == trustDomain
}

// LoadCACerts reads the certificates of a CA file (a PEM bundle).
func LoadCACerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pki: CA: %w", err)
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(bytes.TrimSpace(b))
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: CA %s: %w", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pki: no certificate in %s", path)
	}
	return out, nil
}
