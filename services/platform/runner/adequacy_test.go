package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Clause 4.2.1 is judged with the registry given at start; a file that does
// not validate must stop the process before it serves anything, with an
// error naming the file and the problem.
func TestClause4_2_1_InvalidAdequacyFileStopsStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "adequacy.json")
	bad := `{"entries":[{"country":"CH","name":"Switzerland","basis":"adequacy_decision","scope":"general","from":"2000-07-26"}]}`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	built := false
	err := Run(context.Background(), Config{Name: "test", DevIdentity: true, AdequacyFile: path, DataDir: t.TempDir(), GRPCAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:-1"}, nil,
		func(context.Context, Deps) ([]Component, error) { built = true; return nil, nil })
	if !errors.Is(err, policy.ErrInvalidAdequacy) {
		t.Fatalf("Run = %v, want an invalid adequacy registry error", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "entries[0].source") {
		t.Fatalf("error %q does not name the file and the problem", err)
	}
	if built {
		t.Fatal("components were built with an invalid registry")
	}
}

// Components judge 4.2.1 with the process's registry; Deps built by hand
// (a service's own tests) fall back to the embedded one.
func TestAdequacyRegistryIsTheProcessesElseTheEmbedded(t *testing.T) {
	own := new(policy.AdequacyRegistry) // told apart by identity only
	if got, err := (Deps{Adequacy: own}).AdequacyRegistry(); err != nil || got != own {
		t.Errorf("with the process's registry: got %p, %v; want %p", got, err, own)
	}
	got, err := Deps{}.AdequacyRegistry()
	if err != nil || got == nil || got == own {
		t.Fatalf("by hand: got %p, %v; want the embedded registry", got, err)
	}
	if !got.JudgeAuthority("CH", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).Adequate {
		t.Error("the embedded registry does not hold Switzerland adequate")
	}
}
