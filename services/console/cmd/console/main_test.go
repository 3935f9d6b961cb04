package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The console binary is a gRPC client of the services and nothing else: it
// links neither the dev OpenID provider (development only, issue 23), nor
// the browser the tests drive, nor any service's or the runner's server
// side. The console's pages go through the services' RPCs, as ddrctl does.
func TestConsoleBinaryLinksNoServerSideAndNoDevProvider(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", "github.com/ddrsuite/ddr/services/console/cmd/console").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const svc = "github.com/ddrsuite/ddr/services/"
	banned := []string{svc + "devoidc", "github.com/zitadel/", "github.com/chromedp/", svc + "allinone", svc + "intake", svc + "assessment",
		svc + "notification", svc + "reporting", svc + "platform/runner", svc + "platform/grpcserver", svc + "platform/eventstore"}
	n := 0
	for _, dep := range strings.Fields(string(out)) {
		n++
		for _, b := range banned {
			if strings.HasPrefix(dep, b) {
				t.Errorf("the console binary links %s", dep)
			}
		}
	}
	if n < 10 {
		t.Fatalf("go list listed %d packages; the check saw nothing", n)
	}
}
