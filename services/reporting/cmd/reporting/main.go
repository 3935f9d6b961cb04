// Command reporting runs the reporting service alone, against an external
// NATS (--nats-url), for deployments that scale services apart.
package main

import (
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/reporting/service"
)

func main() { runner.MainService[service.Config]("reporting", service.New) }
