// Command reporting runs the reporting service alone, against an external
// NATS (--nats-url), for deployments that scale services apart.
package main

import (
	"context"
	"flag"

	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/reporting/service"
)

func main() {
	fs := flag.NewFlagSet("reporting", flag.ExitOnError)
	var rc runner.Config
	rc.RegisterFlags(fs, "reporting", false)
	var sc service.Config
	sc.RegisterFlags(fs)
	runner.Main(fs, &rc, func(ctx context.Context, d runner.Deps) ([]runner.Component, error) {
		c, err := service.New(ctx, d, sc)
		if err != nil {
			return nil, err
		}
		return []runner.Component{c}, nil
	})
}
