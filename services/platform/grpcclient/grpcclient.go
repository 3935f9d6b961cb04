// Package grpcclient opens connections between ddr services with tracing
// and caller identity in place, so that every hop shows up in the trace and
// the callee knows who is calling.
package grpcclient

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

// Dial returns a client for target (e.g. "127.0.0.1:9000" or
// "dns:///intake:9000"), or for a comma-separated list of host:port
// addresses (the replicas of a service: "10.0.0.1:7601,10.0.0.2:7601"), over
// which calls are balanced round robin on the client, skipping a replica
// that is down. Like grpc.NewClient it does no I/O; the connection is made
// on the first call. The defaults are plaintext and the global
// TracerProvider and propagator; opts come after them and so override them
// (see [WithTLS]).
func Dial(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	all := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
	}
	dialTarget := target
	if strings.Contains(target, ",") {
		list, err := staticList(target)
		if err != nil {
			return nil, fmt.Errorf("grpcclient: %s: %w", target, err)
		}
		dialTarget = list.Scheme() + ":///replicas"
		all = append(all, grpc.WithResolvers(list),
			grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))
	}
	all = append(all, opts...)
	conn, err := grpc.NewClient(dialTarget, all...)
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

// staticList resolves to the fixed addresses of list. Each address carries
// its own host as the TLS server name, so each replica's certificate is
// checked against the name it was dialled by (the target's authority,
// "replicas", names none of them).
func staticList(list string) (*manual.Resolver, error) {
	var state resolver.State
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("a list of replicas holds host:port addresses: %w", err)
		}
		state.Addresses = append(state.Addresses, resolver.Address{Addr: a, ServerName: host})
	}
	if len(state.Addresses) == 0 {
		return nil, errors.New("no address in the list")
	}
	// WithResolvers registers the resolver for its ClientConn only, so one
	// fixed scheme name serves every list.
	r := manual.NewBuilderWithScheme("ddr-replicas")
	r.InitialState(state)
	return r, nil
}
