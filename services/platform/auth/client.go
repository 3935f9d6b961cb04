package auth

import (
	"context"

	"google.golang.org/grpc/credentials"
)

// DevCredentials sends id's URI in the [DevIdentityHeader] on every call.
// It takes a parsed [Identity] so that a typo fails at start-up, not on the
// first call. It is for development mode only: it proves nothing, and
// servers ignore it unless their dev-identity option is on.
func DevCredentials(id Identity) credentials.PerRPCCredentials {
	return devCredentials{uri: id.URI}
}

type devCredentials struct{ uri string }

func (c devCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{DevIdentityHeader: c.uri}, nil
}

// RequireTransportSecurity is false because dev mode runs over plaintext.
func (devCredentials) RequireTransportSecurity() bool { return false }
