// Command intake runs the intake service alone, against an external NATS
// (--nats-url), for deployments that scale services apart.
package main

import (
	"github.com/ddrsuite/ddr/services/intake/service"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

func main() { runner.MainService[service.Config]("intake", service.New) }
