// Command ddr-dashboards writes the generated Grafana dashboards into a
// directory (`make dashboards` passes deploy/observability).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ddrsuite/ddr/deploy/observability/dashboards"
)

func main() {
	out := flag.String("out", ".", "directory to write the dashboard JSON into")
	flag.Parse()
	files, err := dashboards.JSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ddr-dashboards:", err)
		os.Exit(1)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil { //nolint:gosec // committed, public dashboard JSON, read by Grafana provisioning under another user
			fmt.Fprintln(os.Stderr, "ddr-dashboards:", err)
			os.Exit(1)
		}
	}
}
