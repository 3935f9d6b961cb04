// Package grpcclient opens connections between ddr services with tracing
// and caller identity in place, so that every hop shows up in the trace and
// the callee knows who is calling.
package grpcclient

import (
	"crypto/tls"
	"fmt"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

// Dial returns a client for target (e.g. "127.0.0.1:9000" or
// "dns:///intake:9000"). Like grpc.NewClient it does no I/O; the connection
// is made on the first call. The defaults are plaintext and the global
// TracerProvider and propagator; opts come after them and so override them
// (see [WithTLS]).
func Dial(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	all := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
	}, opts...)
	conn, err := grpc.NewClient(target, all...)
	if err != nil {
		return nil, fmt.Errorf("grpcclient: %s: %w", target, err)
	}
	return conn, nil
}

// WithTLS replaces the plaintext default with TLS; give cfg a client
// certificate for mTLS.
func WithTLS(cfg *tls.Config) grpc.DialOption {
	return grpc.WithTransportCredentials(credentials.NewTLS(cfg))
}

// WithDevIdentity sends id on every call in the x-ddr-identity header,
// which servers honour only in the insecure development mode; with mTLS
// (the default) the client certificate carries the identity instead.
func WithDevIdentity(id auth.Identity) grpc.DialOption {
	return grpc.WithPerRPCCredentials(auth.DevCredentials(id))
}
