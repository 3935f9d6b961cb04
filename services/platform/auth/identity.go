package auth

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Kinds of caller. Policy decisions depend on the kind, so an identity of an
// unknown kind is rejected rather than guessed.
const (
	KindGroupMember = "group-member"
	KindStaff       = "staff"
	KindService     = "service"
	// KindDPA is a data protection authority: it reads reports and records.
	KindDPA = "dpa"
	// KindSRE is an operator: health and metrics, never request content.
	KindSRE = "sre"
)

// Identity is an authenticated caller.
type Identity struct {
	// URI is the full SPIFFE-style id, e.g. spiffe://ddr.example/service/intake.
	URI string
	// Kind is one of the Kind constants.
	Kind string
	// Name identifies the caller within its kind.
	Name string
}

// namePattern keeps names safe to put in logs, headers and subjects.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)

// ErrInvalidIdentity is wrapped by every ParseSPIFFE error.
var ErrInvalidIdentity = errors.New("invalid identity")

// ParseSPIFFE parses spiffe://<trust-domain>/<kind>/<name>. Anything else,
// including extra path segments, query or fragment, is an error: an identity
// that parses loosely could be forged to look like another.
func ParseSPIFFE(uri string) (Identity, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: not a URI", ErrInvalidIdentity)
	}
	if u.Scheme != "spiffe" {
		return Identity{}, fmt.Errorf("%w: scheme must be spiffe", ErrInvalidIdentity)
	}
	if u.Host == "" || u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return Identity{}, fmt.Errorf("%w: want spiffe://<trust-domain>/<kind>/<name>", ErrInvalidIdentity)
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) != 2 {
		return Identity{}, fmt.Errorf("%w: want spiffe://<trust-domain>/<kind>/<name>", ErrInvalidIdentity)
	}
	kind, name := parts[0], parts[1]
	switch kind {
	case KindGroupMember, KindStaff, KindService, KindDPA, KindSRE:
	default:
		return Identity{}, fmt.Errorf("%w: unknown kind %q", ErrInvalidIdentity, kind)
	}
	if !namePattern.MatchString(name) {
		return Identity{}, fmt.Errorf("%w: name must match %s", ErrInvalidIdentity, namePattern)
	}
	return Identity{URI: uri, Kind: kind, Name: name}, nil
}

// TrustDomain is the identity's SPIFFE trust domain (the URI's host), or
// "" for an Identity not made by [ParseSPIFFE].
func (id Identity) TrustDomain() string {
	u, err := url.Parse(id.URI)
	if err != nil || u.Scheme != "spiffe" {
		return ""
	}
	return u.Host
}
