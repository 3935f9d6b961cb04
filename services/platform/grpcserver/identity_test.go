package grpcserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

// whoAmI answers with the caller's URI, or "anonymous".
func whoAmI() *probe {
	return &probe{do: func(ctx context.Context, _ string) (string, error) {
		if id, ok := auth.FromContext(ctx); ok {
			return id.URI, nil
		}
		return "anonymous", nil
	}}
}

const staffURI = "spiffe://ddr.example/staff/s-1"

func devDial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	id, err := auth.ParseSPIFFE(staffURI)
	if err != nil {
		t.Fatal(err)
	}
	return dial(t, addr, grpcclient.WithDevIdentity(id))
}

func TestDevIdentityHeaderNamesCallerOnlyWhenEnabled(t *testing.T) {
	tests := []struct {
		enabled bool
		want    string
	}{{true, staffURI}, {false, "anonymous"}}
	for _, tt := range tests {
		f := start(t, grpcserver.Config{DevIdentityHeader: tt.enabled}, whoAmI())
		conn := devDial(t, f.addr)
		for name, call := range map[string]func(context.Context, *grpc.ClientConn, string) (string, error){"unary": callDo, "stream": callWatch} {
			if got, err := call(t.Context(), conn, ""); err != nil || got != tt.want {
				t.Errorf("dev header %v, %s: caller = %q, %v; want %q", tt.enabled, name, got, err, tt.want)
			}
		}
	}
}

func TestMalformedIdentityIsRejectedButHealthStillAnswers(t *testing.T) {
	f := start(t, grpcserver.Config{DevIdentityHeader: true}, whoAmI())
	conn := dial(t, f.addr)
	ctx := metadata.AppendToOutgoingContext(t.Context(), auth.DevIdentityHeader, "spiffe://ddr.example/root/x")

	if _, err := callDo(ctx, conn, ""); status.Code(err) != codes.Unauthenticated {
		t.Errorf("call with malformed identity: %v, want Unauthenticated", err)
	}
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health with malformed identity = %v, %v; want SERVING", resp, err)
	}
}

func TestMTLSCertificateNamesCallerEvenWithoutDevMode(t *testing.T) {
	ca := newCA(t)
	serverCfg := &tls.Config{
		Certificates: []tls.Certificate{ca.issue(t, "", "127.0.0.1")},
		ClientCAs:    ca.pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}
	f := start(t, grpcserver.Config{TLS: serverCfg}, whoAmI())

	const serviceURI = "spiffe://ddr.example/service/reporting"
	clientCfg := &tls.Config{
		Certificates: []tls.Certificate{ca.issue(t, serviceURI, "")},
		RootCAs:      ca.pool,
		MinVersion:   tls.VersionTLS13,
	}
	got, err := callDo(t.Context(), dial(t, f.addr, grpcclient.WithTLS(clientCfg)), "")
	if err != nil || got != serviceURI {
		t.Errorf("caller = %q, %v; want %q", got, err, serviceURI)
	}
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ddr test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return testCA{cert: cert, key: key, pool: pool}
}

// issue makes a leaf certificate with an optional SPIFFE URI SAN (clients)
// or IP SAN (servers).
func (ca testCA) issue(t *testing.T, uri, ip string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	if uri != "" {
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = []*url.URL{u}
	}
	if ip != "" {
		tmpl.IPAddresses = []net.IP{net.ParseIP(ip)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
