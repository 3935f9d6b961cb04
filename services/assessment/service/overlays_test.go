package service_test

import (
	"errors"
	"os"
	"testing"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/assessment/service"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

func TestClause1_2_LoadOverlaysRefusesLooseningOne(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/a.json", `[{"name":"de","jurisdictions":["DE"],"extra_approvals":1}]`)
	write(t, dir+"/b.json", `{"name":"fr","jurisdictions":["FR"],"standard_review_business_days":5}`)
	_, err := service.LoadOverlays(dir, domain.DefaultConfig())
	var pv *ddrerr.PolicyViolation
	if !errors.As(err, &pv) || pv.Clause != "1.2" || pv.Rule != domain.RuleOverlayLoosens {
		t.Fatalf("got %v, want a clause 1.2 refusal", err)
	}
	write(t, dir+"/b.json", `{"name":"fr","jurisdictions":["FR"],"standard_review_business_days":1}`)
	overlays, err := service.LoadOverlays(dir, domain.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(overlays) != 2 {
		t.Fatalf("loaded %d overlays, want 2", len(overlays))
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
