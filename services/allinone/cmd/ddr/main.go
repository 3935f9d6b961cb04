// Command ddr runs the whole suite in one process: an embedded NATS
// JetStream server keeping the record under --data-dir, and the intake,
// assessment, notification and reporting services on one gRPC address. It
// runs the same code as the single-service binaries; only the hosting
// differs. Ctrl-C stops it cleanly.
package main

import (
	"flag"

	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

func main() {
	fs := flag.NewFlagSet("ddr", flag.ExitOnError)
	var rc runner.Config
	rc.RegisterFlags(fs, "ddr", true)
	var sc suite.Config
	sc.RegisterFlags(fs)
	runner.Main(fs, &rc, sc.Build)
}
