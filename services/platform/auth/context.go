package auth

import "context"

// identityKey is where a context keeps an identity: the caller's, or
// that of the client the call came through ([WithVia]).
type identityKey int

const (
	callerKey identityKey = iota
	viaKey
)

func (k identityKey) with(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, k, id)
}

func (k identityKey) from(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(k).(Identity)
	return id, ok
}

// NewContext returns a copy of ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context { return callerKey.with(ctx, id) }

// FromContext returns the caller's identity. ok is false for an
// unauthenticated call; the handler decides whether that is allowed.
func FromContext(ctx context.Context) (id Identity, ok bool) { return callerKey.from(ctx) }

type rolesKey struct{}

// WithRoles returns a copy of ctx carrying the roles the authorization
// policy gave the caller. The server's authorization interceptor sets them
// so that a handler can hand the domain the person and their roles: the
// two-person rules of the policy check the confirmer's role themselves
// (issue 15), not only the table that let the call in.
func WithRoles(ctx context.Context, roles []string) context.Context {
	return context.WithValue(ctx, rolesKey{}, roles)
}

// Roles returns the caller's roles as set by [WithRoles]; none when the
// server runs without an authorization policy.
func Roles(ctx context.Context) []string {
	r, _ := ctx.Value(rolesKey{}).([]string)
	return r
}
