// Package suite assembles the four ddr services into one process: the
// all-in-one binary and the end-to-end tests build the same thing here.
package suite

import (
	"context"
	"flag"

	assessment "github.com/ddrsuite/ddr/services/assessment/service"
	intake "github.com/ddrsuite/ddr/services/intake/service"
	notification "github.com/ddrsuite/ddr/services/notification/service"
	"github.com/ddrsuite/ddr/services/platform/runner"
	reporting "github.com/ddrsuite/ddr/services/reporting/service"
)

// Config holds every service's configuration.
type Config struct {
	Intake       intake.Config
	Assessment   assessment.Config
	Notification notification.Config
	Reporting    reporting.Config
}

// DefaultConfig is the configuration the flags default to.
func DefaultConfig() Config {
	var c Config
	fs := flag.NewFlagSet("defaults", flag.PanicOnError)
	c.RegisterFlags(fs)
	_ = fs.Parse(nil)
	return c
}

// RegisterFlags declares every service's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.Intake.RegisterFlags(fs)
	c.Assessment.RegisterFlags(fs)
	c.Notification.RegisterFlags(fs)
	c.Reporting.RegisterFlags(fs)
}

// Build returns the four services, in the order a request flows through them.
func (c *Config) Build(ctx context.Context, d runner.Deps) ([]runner.Component, error) {
	in, err := intake.New(ctx, d, c.Intake)
	if err != nil {
		return nil, err
	}
	as, err := assessment.New(ctx, d, c.Assessment)
	if err != nil {
		return nil, err
	}
	no, err := notification.New(ctx, d, c.Notification)
	if err != nil {
		return nil, err
	}
	re, err := reporting.New(ctx, d, c.Reporting)
	if err != nil {
		return nil, err
	}
	return []runner.Component{in, as, no, re}, nil
}
