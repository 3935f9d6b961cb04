package auth_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

func TestRequire(t *testing.T) {
	staff := auth.Identity{URI: "spiffe://ddr.local/staff/alice", Kind: auth.KindStaff, Name: "alice"}
	withStaff := auth.NewContext(context.Background(), staff)
	tests := []struct {
		name  string
		ctx   context.Context
		kinds []string
		want  codes.Code
	}{
		{"no identity", context.Background(), []string{auth.KindStaff}, codes.Unauthenticated},
		{"no identity, any kind", context.Background(), nil, codes.Unauthenticated},
		{"kind allowed", withStaff, []string{auth.KindService, auth.KindStaff}, codes.OK},
		{"any kind", withStaff, nil, codes.OK},
		{"other kind", withStaff, []string{auth.KindGroupMember}, codes.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := auth.Require(tt.ctx, tt.kinds...)
			if status.Code(err) != tt.want {
				t.Fatalf("code = %v, want %v", status.Code(err), tt.want)
			}
			if err == nil && id != staff {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}
