// Command ddr-k8s writes the generated files of deploy/k8s (`make k8s`):
// the nats-server configuration and the PrometheusRule.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ddrsuite/ddr/deploy/k8s"
)

func main() {
	dir := flag.String("dir", "deploy/k8s", "the deploy/k8s directory")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "ddr-k8s:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	alerts, err := os.ReadFile(filepath.Join(dir, k8s.AlertsFile))
	if err != nil {
		return err
	}
	rule, err := k8s.PrometheusRule(alerts)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		k8s.NATSConfigFile:     []byte(k8s.NATSNode().Config()),
		k8s.PrometheusRuleFile: rule,
	}
	for name, b := range files {
		path := filepath.Join(dir, name)
		// Committed manifests, read by kustomize under any uid; no secret.
		if err := os.WriteFile(path, b, 0o644); err != nil { //nolint:gosec // G306: public, committed files (above)
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}
