// Command notification runs the notification service alone, against an
// external NATS (--nats-url), for deployments that scale services apart.
package main

import (
	"github.com/ddrsuite/ddr/services/notification/service"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

func main() { runner.MainService[service.Config]("notification", service.New) }
