package suite_test

import (
	"fmt"
	"os/exec"
	"slices"
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

// The import rules between packages, checked on direct imports (what a
// package's own code uses; the domain bans above also cover indirect ones):
//
//   - no service imports another service's packages (intake, assessment,
//     notification, reporting); shared words live in the platform. The
//     composition roots that start several services (allinone, loadgen) are
//     not services.
//   - app packages do not talk to NATS: the store, the idempotency bucket
//     and the like sit behind interfaces whose adapters import NATS.
//   - domain packages do no I/O and no keyed hashing or rendering: net,
//     net/http, net/smtp, html/template, encoding/csv and crypto/hmac belong
//     in adapters. net/url, net/netip and net/mail are values, not I/O, and
//     stay allowed.
const servicesRoot = "github.com/ddrsuite/ddr/services/"

var (
	serviceNames   = []string{"intake", "assessment", "notification", "reporting"}
	domainIOBans   = []string{"net", "net/http", "net/smtp", "html/template", "encoding/csv", "crypto/hmac"}
	appBrokerBan   = "github.com/nats-io/"
	layeringChecks = []struct {
		rule  string
		check func(pkg, imp string) bool
	}{
		{"service imports another service", serviceImportsService},
		{"app imports NATS", appImportsNATS},
		{"domain imports I/O, rendering or keyed hashing", domainImportsIO},
	}
)

// knownViolations are today's breaches of the rules, each left to the
// helper migrating that service (issue 13). Remove an entry with the code
// that caused it: the test fails on a violation not listed here AND on an
// entry that no longer occurs, so the list can only shrink.
var knownViolations = []string{
	// Intake's app holds the idempotency bucket (jetstream.KeyValue); it
	// goes behind an interface.
	"app imports NATS: services/intake/app -> github.com/nats-io/nats.go/jetstream",
}

// layerOf splits a services package path into its service and layer
// ("", "" outside services/).
func layerOf(pkg string) (svc, layer string) {
	rest, ok := strings.CutPrefix(pkg, servicesRoot)
	if !ok {
		return "", ""
	}
	parts := strings.Split(rest, "/")
	if len(parts) > 1 {
		return parts[0], parts[1]
	}
	return parts[0], ""
}

func serviceImportsService(pkg, imp string) bool {
	from, _ := layerOf(pkg)
	to, _ := layerOf(imp)
	return slices.Contains(serviceNames, from) && slices.Contains(serviceNames, to) && from != to
}

func appImportsNATS(pkg, imp string) bool {
	_, layer := layerOf(pkg)
	return layer == "app" && strings.HasPrefix(imp, appBrokerBan)
}

func domainImportsIO(pkg, imp string) bool {
	_, layer := layerOf(pkg)
	return layer == "domain" && slices.Contains(domainIOBans, imp)
}

// violations applies every rule to a package -> direct imports graph.
func violations(graph map[string][]string) []string {
	var out []string
	for pkg, imps := range graph {
		for _, imp := range imps {
			for _, c := range layeringChecks {
				if c.check(pkg, imp) {
					out = append(out, fmt.Sprintf("%s: %s -> %s", c.rule,
						strings.TrimPrefix(pkg, "github.com/ddrsuite/ddr/"), strings.TrimPrefix(imp, "github.com/ddrsuite/ddr/")))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, servicesRoot+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	graph := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) > 0 {
			graph[f[0]] = f[1:]
		}
	}
	if len(graph) < 20 {
		t.Fatalf("go list found %d packages; the check would prove nothing", len(graph))
	}
	found := violations(graph)
	for _, v := range found {
		if !slices.Contains(knownViolations, v) {
			t.Errorf("layering violation: %s", v)
		}
	}
	for _, v := range knownViolations {
		if !slices.Contains(found, v) {
			t.Errorf("known violation no longer occurs, remove it from knownViolations: %s", v)
		}
	}
}

// Each rule fires on a violation made up for the purpose, and stays quiet
// on the allowed neighbour of it: a rule that can never fire proves nothing.
func TestLayeringRulesFire(t *testing.T) {
	const r = servicesRoot
	for _, tc := range []struct {
		pkg, imp string
		want     string // rule expected, "" for none
	}{
		{r + "intake/app", r + "reporting/domain", "service imports another service"},
		{r + "assessment/service", r + "notification/domain", "service imports another service"},
		{r + "intake/app", r + "platform/eventstore", ""},
		{r + "allinone/suite", r + "intake/service", ""},
		{r + "notification/app", "github.com/nats-io/nats.go/jetstream", "app imports NATS"},
		{r + "notification/adapters", "github.com/nats-io/nats.go/jetstream", ""},
		{r + "intake/domain", "net/http", "domain imports I/O, rendering or keyed hashing"},
		{r + "intake/domain", "net", "domain imports I/O, rendering or keyed hashing"},
		{r + "intake/domain", "net/smtp", "domain imports I/O, rendering or keyed hashing"},
		{r + "intake/domain", "html/template", "domain imports I/O, rendering or keyed hashing"},
		{r + "intake/domain", "encoding/csv", "domain imports I/O, rendering or keyed hashing"},
		{r + "intake/domain", "crypto/hmac", "domain imports I/O, rendering or keyed hashing"},
		{r + "intake/domain", "net/url", ""},
		{r + "intake/domain", "net/netip", ""},
		{r + "intake/domain", "net/mail", ""},
		{r + "reporting/adapters", "html/template", ""},
	} {
		got := violations(map[string][]string{tc.pkg: {tc.imp}})
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s -> %s: unexpected %v", tc.pkg, tc.imp, got)
		case tc.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tc.want+":")):
			t.Errorf("%s -> %s: got %v, want the rule %q", tc.pkg, tc.imp, got, tc.want)
		}
	}
}
