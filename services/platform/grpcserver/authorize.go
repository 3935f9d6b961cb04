package grpcserver

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

// authorize enforces the policy table before any handler runs. It sits
// inside the access log so that refused calls are logged with their caller.
// The caller's roles go into the context (auth.Roles) so that the domain's
// two-person rules can check the confirmer's own role.
func (i interceptors) authorize(ctx context.Context, method string) (context.Context, error) {
	if i.policy == nil {
		return ctx, nil
	}
	id, ok := auth.FromContext(ctx)
	if !ok {
		return ctx, status.Error(codes.Unauthenticated, "an authenticated caller is required")
	}
	if err := i.policy.Authorize(id, method); err != nil {
		return ctx, status.Error(codes.PermissionDenied, err.Error())
	}
	var roles []string
	for _, r := range i.policy.Roles(id) {
		roles = append(roles, string(r))
	}
	return auth.WithRoles(ctx, roles), nil
}
