// Package service wires intake for a process: the all-in-one and the intake
// binary both host it through [New].
package service

import (
	"context"
	"flag"
	"time"

	"google.golang.org/grpc"

	_ "github.com/ddrsuite/ddr/gen/ddr/assessment/v1" // stage events in the view
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	_ "github.com/ddrsuite/ddr/gen/ddr/notification/v1" // stage events in the view
	_ "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"    // events this binary may meet in the stream
	"github.com/ddrsuite/ddr/services/intake/adapters"
	"github.com/ddrsuite/ddr/services/intake/app"
	"github.com/ddrsuite/ddr/services/intake/ports"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/validate"
)

// Config is intake's own configuration.
type Config struct {
	LateThreshold time.Duration
}

// RegisterFlags declares intake's flags.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.LateThreshold, "intake-late-threshold", 24*time.Hour, "delay between receipt and submission above which a request is flagged late (clause 3.1)")
}

// Component is intake as a process hosts it.
type Component struct {
	deps  runner.Deps
	index *app.Index
	srv   *ports.Server
	proj  *projection.Projection
}

// New builds intake.
func New(ctx context.Context, d runner.Deps, cfg Config) (*Component, error) {
	d, err := d.As(app.Service)
	if err != nil {
		return nil, err
	}
	idem, err := adapters.EnsureIdempotencyKV(ctx, d.JS, d.Replicas)
	if err != nil {
		return nil, err
	}
	acfg := app.Config{LateThreshold: cfg.LateThreshold, Logger: d.Logger}
	// Typed nils stay untyped, so that app.New reports them missing.
	if d.Keys != nil {
		acfg.Keys = d.Keys
	}
	if d.Fingerprints != nil {
		acfg.Fingerprints = d.Fingerprints
	}
	a, err := app.New(acfg, d.Store, idem)
	if err != nil {
		return nil, err
	}
	v, err := validate.New()
	if err != nil {
		return nil, err
	}
	index := app.NewIndex()
	c := &Component{deps: d, index: index}
	c.srv = ports.NewServer(a, index, v, acfg, c.waitFor)
	// An erasure drops the List rows kept of the request, which hold the
	// values its view forgets.
	index.OnErased(c.srv.Erased)
	return c, nil
}

// GRPCServiceNames implements runner.Component.
func (c *Component) GRPCServiceNames() []string {
	return []string{intakev1.IntakeService_ServiceDesc.ServiceName}
}

// RegisterGRPC implements runner.Component.
func (c *Component) RegisterGRPC(s *grpc.Server) { intakev1.RegisterIntakeServiceServer(s, c.srv) }

// Start implements runner.Component: it rebuilds the group members' list
// from the stream before the service answers.
func (c *Component) Start(ctx context.Context) error {
	p, err := projection.Start(ctx, c.deps.JS, c.index.Filters(), c.index.Apply, c.deps.Logger.With("projection", "intake-index"))
	if err != nil {
		return err
	}
	c.proj = p
	return nil
}

// waitFor lets intake's own writes show in its view before it answers.
func (c *Component) waitFor(ctx context.Context, seq uint64) error {
	if c.proj == nil {
		return nil
	}
	return c.proj.WaitFor(ctx, seq)
}

// Stop implements runner.Component.
func (c *Component) Stop() {
	if c.proj != nil {
		c.proj.Stop()
	}
}
