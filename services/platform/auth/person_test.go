package auth_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// The two-person rules check the confirmer's own roles: the person a
// handler hands the domain carries exactly the roles the authorization
// interceptor put in the context, and only staff are people here.
func TestRequireStaffPersonCarriesTheCallersRoles(t *testing.T) {
	staff, err := auth.ParseSPIFFE("spiffe://ddr.example/staff/bob")
	if err != nil {
		t.Fatal(err)
	}
	ctx := auth.WithRoles(auth.NewContext(t.Context(), staff), []string{"approver", "legal"})
	got, err := auth.RequireStaffPerson(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Person{ID: staff.URI, Roles: []policy.Role{policy.RoleApprover, policy.RoleLegal}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("person (-want +got):\n%s", diff)
	}

	noRoles, err := auth.RequireStaffPerson(auth.NewContext(t.Context(), staff))
	if err != nil || len(noRoles.Roles) != 0 {
		t.Errorf("without roles in the context: %+v, %v; want no roles", noRoles, err)
	}

	svc, err := auth.ParseSPIFFE("spiffe://ddr.example/service/intake")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.RequireStaffPerson(auth.WithRoles(auth.NewContext(t.Context(), svc), []string{"legal"})); status.Code(err) != codes.PermissionDenied {
		t.Errorf("a service as a person: %v, want PermissionDenied", err)
	}
}
