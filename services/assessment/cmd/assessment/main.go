// Command assessment runs the assessment service alone, against an external
// NATS (--nats-url), for deployments that scale services apart.
package main

import (
	"github.com/ddrsuite/ddr/services/assessment/service"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

func main() { runner.MainService[service.Config]("assessment", service.New) }
