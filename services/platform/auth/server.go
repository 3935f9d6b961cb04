package auth

import (
	"context"
	"fmt"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// DevIdentityHeader is the gRPC metadata key carrying a caller's SPIFFE URI
// in development mode.
const DevIdentityHeader = "x-ddr-identity"

// ServerIdentity works out who is calling a gRPC server.
//
// A verified mTLS client certificate's URI SAN always wins. Without one, and
// only when devHeader is true, the caller is taken from the
// [DevIdentityHeader] metadata, which anyone can set: the insecure
// development mode, off by default (mTLS is the default).
//
// ok is false when the call carries no identity. An identity that is present
// but malformed is an error, so that a misconfigured caller fails loudly
// instead of silently running as anonymous.
func ServerIdentity(ctx context.Context, devHeader bool) (id Identity, ok bool, err error) {
	if p, found := peer.FromContext(ctx); found {
		if info, isTLS := p.AuthInfo.(credentials.TLSInfo); isTLS &&
			len(info.State.VerifiedChains) > 0 && len(info.State.VerifiedChains[0]) > 0 {
			if uris := info.State.VerifiedChains[0][0].URIs; len(uris) > 0 {
				id, err := ParseSPIFFE(uris[0].String())
				if err != nil {
					return Identity{}, false, fmt.Errorf("client certificate: %w", err)
				}
				return id, true, nil
			}
		}
	}
	if !devHeader {
		return Identity{}, false, nil
	}
	values := metadata.ValueFromIncomingContext(ctx, DevIdentityHeader)
	switch len(values) {
	case 0:
		return Identity{}, false, nil
	case 1:
		id, err := ParseSPIFFE(values[0])
		if err != nil {
			return Identity{}, false, fmt.Errorf("%s header: %w", DevIdentityHeader, err)
		}
		return id, true, nil
	default:
		return Identity{}, false, fmt.Errorf("%s header: %w: sent %d times", DevIdentityHeader, ErrInvalidIdentity, len(values))
	}
}
