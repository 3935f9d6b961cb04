package suite_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The dependency direction of the suite, enforced:
//
//	cmd -> service -> ports/app -> domain -> (standard library, platform/ddrerr)
//
// Domain packages hold the policy; they must stay testable without a broker
// or a network, and readable by someone who knows the policy but not gRPC.
// So they may not import gRPC, NATS, OpenTelemetry or the generated protos,
// not even through another package.
var domainBans = []string{
	"google.golang.org/grpc",
	"github.com/nats-io/",
	"go.opentelemetry.io/",
	"github.com/ddrsuite/ddr/gen/",
	"google.golang.org/protobuf/",
}

func TestDomainPackagesImportNeitherTransportNorBroker(t *testing.T) {
	for _, svc := range []string{"intake", "assessment", "notification", "reporting"} {
		pkg := "github.com/ddrsuite/ddr/services/" + svc + "/domain"
		for _, dep := range deps(t, pkg) {
			for _, ban := range domainBans {
				if strings.HasPrefix(dep, ban) {
					t.Errorf("%s depends on %s (banned prefix %s)", pkg, dep, ban)
				}
			}
		}
	}
}

// The platform is shared plumbing: it must not know any service.
func TestPlatformDependsOnNoService(t *testing.T) {
	for _, dep := range deps(t, "github.com/ddrsuite/ddr/services/platform/...") {
		if strings.HasPrefix(dep, "github.com/ddrsuite/ddr/services/") && !strings.HasPrefix(dep, "github.com/ddrsuite/ddr/services/platform") {
			t.Errorf("platform depends on %s", dep)
		}
	}
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-test=false", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}
