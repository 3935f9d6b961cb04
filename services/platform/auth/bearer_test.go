package auth_test

import (
	"errors"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

func TestBearerTokenReadsExactlyOneBearerHeader(t *testing.T) {
	in := func(values ...string) metadata.MD {
		md := metadata.MD{}
		for _, v := range values {
			md.Append(auth.PersonTokenHeader, v)
		}
		return md
	}
	if tok, ok, err := auth.BearerToken(metadata.NewIncomingContext(t.Context(), in("Bearer abc.def.ghi"))); tok != "abc.def.ghi" || !ok || err != nil {
		t.Errorf("one bearer: %q, %v, %v", tok, ok, err)
	}
	if _, ok, err := auth.BearerToken(t.Context()); ok || err != nil {
		t.Errorf("none: %v, %v; want absent", ok, err)
	}
	for name, md := range map[string]metadata.MD{
		"twice":        in("Bearer a", "Bearer b"),
		"basic":        in("Basic YWxpY2U6ZGV2"),
		"empty bearer": in("Bearer "),
		"no scheme":    in("abc.def.ghi"),
	} {
		if _, ok, err := auth.BearerToken(metadata.NewIncomingContext(t.Context(), md)); !ok || !errors.Is(err, auth.ErrPersonToken) {
			t.Errorf("%s: %v, %v; want present and ErrPersonToken", name, ok, err)
		}
	}
}

// What the console sends is what the services read.
func TestWithPersonTokenIsReadByBearerToken(t *testing.T) {
	out, _ := metadata.FromOutgoingContext(auth.WithPersonToken(t.Context(), "tok"))
	tok, ok, err := auth.BearerToken(metadata.NewIncomingContext(t.Context(), out))
	if tok != "tok" || !ok || err != nil {
		t.Errorf("round trip: %q, %v, %v", tok, ok, err)
	}
}
