package auth_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

func TestParseSPIFFEAcceptsEachKind(t *testing.T) {
	tests := []struct {
		uri  string
		want auth.Identity
	}{
		{"spiffe://ddr.example/service/intake", auth.Identity{URI: "spiffe://ddr.example/service/intake", Kind: auth.KindService, Name: "intake"}},
		{"spiffe://ddr.example/staff/s-17", auth.Identity{URI: "spiffe://ddr.example/staff/s-17", Kind: auth.KindStaff, Name: "s-17"}},
		{"spiffe://ddr.example/group-member/acme.eu", auth.Identity{URI: "spiffe://ddr.example/group-member/acme.eu", Kind: auth.KindGroupMember, Name: "acme.eu"}},
	}
	for _, tt := range tests {
		got, err := auth.ParseSPIFFE(tt.uri)
		if err != nil {
			t.Errorf("ParseSPIFFE(%q) error: %v", tt.uri, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseSPIFFE(%q) (-want +got):\n%s", tt.uri, diff)
		}
	}
}

func TestParseSPIFFERejectsMalformedIdentities(t *testing.T) {
	for _, uri := range []string{
		"",
		"intake",
		"https://ddr.example/service/intake",
		"spiffe:///service/intake",
		"spiffe://ddr.example/service",
		"spiffe://ddr.example/service/intake/extra",
		"spiffe://ddr.example/robot/intake",
		"spiffe://ddr.example/service/",
		"spiffe://ddr.example/service/Intake",
		"spiffe://ddr.example/service/intake?as=admin",
		"spiffe://ddr.example/service/intake#x",
		"spiffe://user@ddr.example/service/intake",
		"spiffe://ddr.example:8443/service/intake",
	} {
		if _, err := auth.ParseSPIFFE(uri); !errors.Is(err, auth.ErrInvalidIdentity) {
			t.Errorf("ParseSPIFFE(%q) error = %v, want ErrInvalidIdentity", uri, err)
		}
	}
}
