package persontoken_test

import (
	"testing"

	"github.com/ddrsuite/ddr/services/platform/auth/persontoken"
)

func TestNewPersonVerifierRefusesABadIssuerOrNoAudience(t *testing.T) {
	for _, iss := range []string{"", "127.0.0.1:7701", "ftp://x", "http://x?q=1"} {
		if _, err := persontoken.New(iss, "ddr-console"); err == nil {
			t.Errorf("issuer %q accepted", iss)
		}
	}
	if _, err := persontoken.New("http://127.0.0.1:7701", ""); err == nil {
		t.Error("no audience accepted")
	}
}
