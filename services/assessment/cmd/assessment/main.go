// Command assessment runs the assessment service alone, against an external
// NATS (--nats-url), for deployments that scale services apart.
package main

import (
	"context"
	"flag"

	"github.com/ddrsuite/ddr/services/assessment/service"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

func main() {
	fs := flag.NewFlagSet("assessment", flag.ExitOnError)
	var rc runner.Config
	rc.RegisterFlags(fs, "assessment", false)
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
