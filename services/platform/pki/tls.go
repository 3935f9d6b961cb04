package pki

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Files are the TLS files of one identity.
type Files struct {
	CA, Cert, Key string
}

// Files returns the files of "kind/name" in d.
func (d Dir) Files(kindName string) Files {
	c, k := d.Cert(kindName)
	return Files{CA: d.CACert(), Cert: c, Key: k}
}

func (f Files) load() (*x509.CertPool, tls.Certificate, error) {
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("pki: CA: %w (create a development PKI with `make certs`)", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, tls.Certificate{}, fmt.Errorf("pki: no certificate in %s", f.CA)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("pki: %w (create a development PKI with `make certs`)", err)
	}
	return pool, cert, nil
}

// ServerTLS is a server configuration that requires a client certificate
// issued by the CA: a caller without one does not get past the handshake.
func (f Files) ServerTLS() (*tls.Config, error) {
	pool, cert, err := f.load()
	if err != nil {
		return nil, err
	}
	return ServerConfig(pool, cert), nil
}

// ClientTLS is a client configuration presenting the certificate and
// trusting only the CA.
func (f Files) ClientTLS() (*tls.Config, error) {
	pool, cert, err := f.load()
	if err != nil {
		return nil, err
	}
	return ClientConfig(pool, cert), nil
}

// ServerConfig requires and verifies client certificates against roots.
func ServerConfig(roots *x509.CertPool, cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    roots,
	}
}

// ClientConfig presents cert and trusts only roots.
func ClientConfig(roots *x509.CertPool, cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      roots,
	}
}
