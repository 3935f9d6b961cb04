package suite_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The dependency direction of the suite, enforced:
//
//	cmd -> service -> ports/app -> domain -> (standard library, platform/ddrerr, platform/policy)
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

// The policy vocabulary is imported by every domain package, so it must
// itself be plain Go: the standard library and nothing of the suite.
func TestPolicyVocabularyIsPlainGo(t *testing.T) {
	for _, pkg := range []string{"github.com/ddrsuite/ddr/services/platform/policy", "github.com/ddrsuite/ddr/services/platform/ddrerr"} {
		for _, dep := range deps(t, pkg) {
			if first, _, _ := strings.Cut(dep, "/"); strings.Contains(first, ".") && dep != pkg && dep != "github.com/ddrsuite/ddr/services/platform/policy" {
				t.Errorf("%s depends on %s: only the standard library and platform/policy are allowed", pkg, dep)
			}
		}
	}
}

// Services share words through the platform (platform/policy), never by
// importing each other: a service's packages may depend on the platform,
// the generated protos and its own packages only.
func TestNoServiceImportsAnotherService(t *testing.T) {
	const prefix = "github.com/ddrsuite/ddr/services/"
	for _, svc := range []string{"intake", "assessment", "notification", "reporting"} {
		for _, dep := range deps(t, prefix+svc+"/...") {
			rest, ok := strings.CutPrefix(dep, prefix)
			if !ok {
				continue
			}
			owner, _, _ := strings.Cut(rest, "/")
			if owner != svc && owner != "platform" {
				t.Errorf("%s depends on %s: a service must not import another service", svc, dep)
			}
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
