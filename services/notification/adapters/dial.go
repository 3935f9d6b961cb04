package adapters

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"

	"github.com/ddrsuite/ddr/services/notification/app"
)

// LoadRoots returns the roots that verify SMTP servers and webhook
// endpoints: the system's, plus the PEM certificates of caFile if given (a
// company CA, or the development CA in tests). Verification is never
// turned off.
func LoadRoots(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil // nil: crypto/tls uses the system roots
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", caFile)
	}
	return pool, nil
}

// clientTLS verifies serverName against roots (nil: the system's).
func clientTLS(roots *x509.CertPool, serverName string) *tls.Config {
	return &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: tls.VersionTLS12}
}

// Resolver resolves a host name to addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// refusedError is a connection the TLS rule refused: nothing was sent.
type refusedError struct {
	reason string
	err    error
}

func (e *refusedError) Error() string { return e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// dialChecked resolves t's host, applies the TLS rule to every address it
// resolves to, and dials those addresses in turn (never re-resolving, so
// the name cannot point elsewhere between check and connect). With
// implicit TLS it completes the handshake, verified with cfg.
func dialChecked(ctx context.Context, r Resolver, t app.Target, cfg *tls.Config) (net.Conn, error) {
	// As written first: a plaintext target that is not loopback is refused
	// without even a DNS query.
	if err := t.Check(); err != nil {
		return nil, &refusedError{reason: "refused: no TLS to a non-loopback address", err: err}
	}
	addrs, err := resolve(ctx, r, t.Host)
	if err != nil {
		return nil, &refusedError{reason: "cannot resolve the host", err: err}
	}
	if err := t.Check(addrs...); err != nil {
		return nil, &refusedError{reason: "refused: no TLS to a non-loopback address", err: err}
	}
	var d net.Dialer
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a.String(), strconv.Itoa(t.Port)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t.Security != app.ImplicitTLS {
			return conn, nil
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close() // the handshake's error is the one to report
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		return tc, nil
	}
	return nil, errors.Join(errs...)
}

// resolve returns the addresses of host: itself if an IP literal.
func resolve(ctx context.Context, r Resolver, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, errors.New("no address")
	}
	return addrs, nil
}
