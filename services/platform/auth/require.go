package auth

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Require returns the caller's identity if it is of one of kinds (any kind
// when none are given): UNAUTHENTICATED without an identity,
// PERMISSION_DENIED for another kind. Handlers check the kind here, as a
// second line behind the policy table of platform/authz, because they rely
// on it: intake takes the group member from it, staff commands record it as
// the actor.
func Require(ctx context.Context, kinds ...string) (Identity, error) {
	id, ok := FromContext(ctx)
	if !ok {
		return Identity{}, status.Error(codes.Unauthenticated, "an identity is required")
	}
	if len(kinds) > 0 && !slices.Contains(kinds, id.Kind) {
		return Identity{}, status.Errorf(codes.PermissionDenied, "callers of kind %q may not do this", id.Kind)
	}
	return id, nil
}

// RequireStaffPerson returns the authenticated staff member with the roles
// the authorization policy gave them, for the two-person rules of
// platform/policy: a confirmation is checked against the confirmer's own
// roles, recorded with the event.
func RequireStaffPerson(ctx context.Context) (policy.Person, error) {
	id, err := Require(ctx, KindStaff)
	if err != nil {
		return policy.Person{}, err
	}
	p := policy.Person{ID: id.URI}
	for _, r := range Roles(ctx) {
		p.Roles = append(p.Roles, policy.Role(r))
	}
	return p, nil
}
