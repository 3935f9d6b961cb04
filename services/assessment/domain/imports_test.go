package domain_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The domain must stay pure: the standard library and the platform's error
// and policy vocabularies only, never gRPC, NATS, protobuf or generated code.
func TestDomainImportsOnlyStandardLibraryDdrerrAndPolicy(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"github.com/ddrsuite/ddr/services/platform/ddrerr": true,
		// Pure: the deadline engine as data (issue 18's clocks).
		"github.com/ddrsuite/ddr/services/platform/deadline": true,
		"github.com/ddrsuite/ddr/services/platform/policy":   true,
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") && name != "imports_test.go" {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if !allowed[path] && strings.Contains(first, ".") {
				t.Errorf("%s imports %s: the domain takes only the standard library, ddrerr and policy", name, path)
			}
		}
	}
}
