package auth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"testing"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

// tlsPeer fakes what gRPC puts in the context after a verified mTLS handshake.
func tlsPeer(ctx context.Context, uri string) context.Context {
	u, err := url.Parse(uri)
	if err != nil {
		panic(err)
	}
	leaf := &x509.Certificate{URIs: []*url.URL{u}}
	return peer.NewContext(ctx, &peer.Peer{AuthInfo: credentials.TLSInfo{
		State: tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}},
	}})
}

func withHeader(ctx context.Context, uri string) context.Context {
	return metadata.NewIncomingContext(ctx, metadata.Pairs(auth.DevIdentityHeader, uri))
}

func TestServerIdentityPrefersVerifiedCertificateOverDevHeader(t *testing.T) {
	ctx := withHeader(tlsPeer(t.Context(), "spiffe://ddr.example/service/intake"), "spiffe://ddr.example/staff/mallory")

	id, ok, err := auth.ServerIdentity(ctx, true)
	if err != nil || !ok {
		t.Fatalf("ServerIdentity() = _, %v, %v; want identity", ok, err)
	}
	if id.URI != "spiffe://ddr.example/service/intake" {
		t.Errorf("identity = %q, want the certificate's", id.URI)
	}
}

func TestServerIdentityIgnoresDevHeaderUnlessEnabled(t *testing.T) {
	ctx := withHeader(t.Context(), "spiffe://ddr.example/staff/s-1")

	if _, ok, err := auth.ServerIdentity(ctx, false); ok || err != nil {
		t.Errorf("dev header off: ServerIdentity() = _, %v, %v; want no identity, no error", ok, err)
	}
	id, ok, err := auth.ServerIdentity(ctx, true)
	if err != nil || !ok || id.Kind != auth.KindStaff || id.Name != "s-1" {
		t.Errorf("dev header on: ServerIdentity() = %+v, %v, %v; want staff s-1", id, ok, err)
	}
}

func TestServerIdentityWithoutCredentialsIsAnonymous(t *testing.T) {
	if _, ok, err := auth.ServerIdentity(t.Context(), true); ok || err != nil {
		t.Errorf("ServerIdentity() = _, %v, %v; want no identity, no error", ok, err)
	}
}

func TestServerIdentityRejectsMalformedClaims(t *testing.T) {
	tests := map[string]context.Context{
		"bad header":       withHeader(t.Context(), "spiffe://ddr.example/root/x"),
		"bad cert URI SAN": tlsPeer(t.Context(), "https://ddr.example/service/intake"),
		"header sent twice": metadata.NewIncomingContext(t.Context(), metadata.Pairs(
			auth.DevIdentityHeader, "spiffe://ddr.example/staff/a",
			auth.DevIdentityHeader, "spiffe://ddr.example/staff/b")),
	}
	for name, ctx := range tests {
		if _, ok, err := auth.ServerIdentity(ctx, true); ok || !errors.Is(err, auth.ErrInvalidIdentity) {
			t.Errorf("%s: ServerIdentity() = _, %v, %v; want ErrInvalidIdentity", name, ok, err)
		}
	}
}

func TestDevCredentialsSendsTheIdentityHeader(t *testing.T) {
	id, err := auth.ParseSPIFFE("spiffe://ddr.example/service/reporting")
	if err != nil {
		t.Fatal(err)
	}
	md, err := auth.DevCredentials(id).GetRequestMetadata(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := md[auth.DevIdentityHeader]; got != id.URI {
		t.Errorf("metadata[%s] = %q, want %q", auth.DevIdentityHeader, got, id.URI)
	}
}

func TestContextRoundTripsIdentity(t *testing.T) {
	if _, ok := auth.FromContext(t.Context()); ok {
		t.Fatal("FromContext(empty) ok = true")
	}
	want := auth.Identity{URI: "spiffe://ddr.example/service/intake", Kind: auth.KindService, Name: "intake"}
	got, ok := auth.FromContext(auth.NewContext(t.Context(), want))
	if !ok || got != want {
		t.Errorf("FromContext() = %+v, %v; want %+v", got, ok, want)
	}
}
