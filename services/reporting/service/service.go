// Package service wires reporting for a process: the all-in-one and the
// reporting binary both host it through [New].
package service

import (
	"context"
	"flag"
	"time"

	"google.golang.org/grpc"

	_ "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"   // events folded into the record
	_ "github.com/ddrsuite/ddr/gen/ddr/intake/v1"       // events folded into the record
	_ "github.com/ddrsuite/ddr/gen/ddr/notification/v1" // events folded into the record
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/validate"
	"github.com/ddrsuite/ddr/services/reporting/adapters"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/ports"
)

// Config is reporting's own configuration.
type Config struct {
	// BandWidth and Delay: national security process is published only in
	// bands of BandWidth, for periods that ended at least Delay ago.
	BandWidth int
	Delay     time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Publishing (service/publish.go): the signing key files, kept like
	// the KEK; the public log's origin; and the scheduled publication,
	// off unless PublishDir and PublishEvery are set.
	SigningKeyFile, PreviousSigningKeyFile string
	PublishOrigin                          string
	PublishDir                             string
	PublishEvery                           time.Duration
}

// RegisterFlags declares reporting's flags.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	def := domain.DefaultConfig()
	fs.IntVar(&c.BandWidth, "reporting-band-width", def.BandWidth, "width of the bands national security process is reported in (clause 5.1), e.g. 250 or 500")
	fs.DurationVar(&c.Delay, "reporting-national-security-delay", def.Delay, "how long after a period ends its national security bands may be published (clause 5.1)")
	fs.StringVar(&c.SigningKeyFile, "reporting-signing-key-file", "", "Ed25519 note key that signs published reports and log checkpoints (mode 0400, kept with the KEK, outside the data dir); empty: publishing is refused")
	fs.StringVar(&c.PreviousSigningKeyFile, "reporting-previous-signing-key-file", "", "the key --reporting-signing-key-file replaces: the next publication writes the rotation, signed by both")
	fs.StringVar(&c.PublishOrigin, "reporting-publish-origin", DefaultOrigin, "name of the public log in its checkpoints, e.g. the website's address")
	fs.StringVar(&c.PublishDir, "reporting-publish-dir", "", "directory the scheduled job writes the published site to; empty: no scheduled publication")
	fs.DurationVar(&c.PublishEvery, "reporting-publish-every", 0, "how often the scheduled job publishes the last finished half-year (once) and rewrites the site; 0: off")
}

// Component is reporting as a process hosts it.
type Component struct {
	deps    runner.Deps
	app     *app.Reporting
	reports *app.Reports
	srv     *ports.Server
	proj    *projection.Projection
	seal    *consumer.Runner
	cfg     Config
	// publisher publishes reports; done closes when the scheduled job ends.
	publisher *app.Publisher
	recordLog *app.RecordLog
	dpa       *app.DPA
	done      chan struct{}
}

// New builds reporting.
func New(ctx context.Context, d runner.Deps, cfg Config) (*Component, error) {
	d, err := d.As(app.Service) // its own NATS user
	if err != nil {
		return nil, err
	}
	// The process's adequacy registry (--adequacy-file): a disclosure is
	// judged at its date with the same registry notification cleared it by.
	reg, err := d.AdequacyRegistry()
	if err != nil {
		return nil, err
	}
	a, err := app.New(app.Config{Report: domain.Config{BandWidth: cfg.BandWidth, Delay: cfg.Delay}, Now: cfg.Now, Registry: reg}, adapters.Stream{JS: d.JS, Store: d.Store}, d.Store)
	if err != nil {
		return nil, err
	}
	v, err := validate.New()
	if err != nil {
		return nil, err
	}
	c := &Component{deps: d, app: a, reports: app.NewReports(), cfg: cfg}
	if err := newTransparency(ctx, c, cfg); err != nil {
		return nil, err
	}
	c.srv = ports.NewServer(a, c.reports, v, c.publisher, c.dpa)
	return c, nil
}

// closedRecords answers the seal reactor from the report's read model, as
// far as its projection has folded.
type closedRecords struct {
	*projection.Projection
	*app.Reports
}

// GRPCServiceNames implements runner.Component.
func (c *Component) GRPCServiceNames() []string {
	return []string{reportingv1.ReportingService_ServiceDesc.ServiceName}
}

// RegisterGRPC implements runner.Component.
func (c *Component) RegisterGRPC(s *grpc.Server) {
	reportingv1.RegisterReportingServiceServer(s, c.srv)
}

// Start implements runner.Component: it starts the seal reactor and
// rebuilds the report's read model from the stream before answering.
func (c *Component) Start(ctx context.Context) error {
	apply := func(ev eventstore.Event) error {
		if err := c.reports.Apply(ev); err != nil {
			return err
		}
		return c.recordLog.Apply(ev)
	}
	p, err := projection.Start(ctx, c.deps.JS, app.ReportSubjects, apply, c.deps.Logger.With("projection", "reporting-facts"))
	if err != nil {
		return err
	}
	c.proj = p
	// The seal reactor asks the read model whether a record is closed, so
	// it starts once the model is.
	seal, err := ports.SealReactor(c.app, closedRecords{p, c.reports}).Start(ctx, c.deps.JS, consumer.Config{Name: ports.SealConsumer, Logger: c.deps.Logger})
	if err != nil {
		p.Stop()
		return err
	}
	c.seal = seal
	now := c.cfg.Now
	if now == nil {
		now = time.Now
	}
	c.schedule(ctx, c.cfg, now)
	return nil
}

// WaitFor blocks until the report's read model has applied stream
// sequence seq, so a caller can read its own write.
func (c *Component) WaitFor(ctx context.Context, seq uint64) error { return c.proj.WaitFor(ctx, seq) }

// Stop implements runner.Component.
func (c *Component) Stop() {
	if c.done != nil {
		<-c.done
	}
	if c.proj != nil {
		c.proj.Stop()
	}
	if c.seal != nil {
		c.seal.Stop()
	}
}
