// Package service wires assessment for a process: the all-in-one and the
// assessment binary both host it through [New].
package service

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	_ "github.com/ddrsuite/ddr/gen/ddr/intake/v1"       // events the queue folds
	_ "github.com/ddrsuite/ddr/gen/ddr/notification/v1" // events that move a case's version
	_ "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"    // events that move a case's version
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/assessment/ports"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/validate"
)

// Config is assessment's own configuration.
type Config struct {
	PolicyVersion string
	// Overlays is a JSON file or a directory of them; empty: none (1.2).
	Overlays                   string
	BulkMaxTargets             int
	BulkMaxTimeRange           time.Duration
	EmergencyReview            time.Duration
	StandardReviewBusinessDays int
	RequiredApprovals          int
	CustomerNoticePeriod       time.Duration
	// OverdueInterval is how often review deadlines are checked.
	OverdueInterval time.Duration
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time

	// Verification is issue 18's requester verification (verification.go).
	Verification VerificationConfig
	// Calendars is the calendars file the deadlines are counted on (issue
	// 18); empty: the embedded one. An invalid file stops startup.
	Calendars string
}

// RegisterFlags declares assessment's flags, defaulting to the policy's
// defaults (domain.DefaultConfig).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := domain.DefaultConfig()
	fs.StringVar(&c.PolicyVersion, "assessment-policy-version", d.PolicyVersion, "policy version every case is assessed and decided under")
	fs.StringVar(&c.Overlays, "assessment-overlays", "", "jurisdiction overlays (clause 1.2): a JSON file or a directory of *.json files; empty: none")
	fs.IntVar(&c.BulkMaxTargets, "assessment-bulk-max-targets", d.Bulk.MaxTargets, "most targets a scope may name before it is bulk (clause 6.1)")
	fs.DurationVar(&c.BulkMaxTimeRange, "assessment-bulk-max-time-range", d.Bulk.MaxTimeRange, "longest time range before a scope is bulk (clause 6.1)")
	fs.DurationVar(&c.EmergencyReview, "assessment-emergency-review", d.EmergencyReview, "review deadline of an emergency or imminent-risk case")
	fs.IntVar(&c.StandardReviewBusinessDays, "assessment-standard-review-days", d.StandardReviewBusinessDays, "review deadline of other cases, in business days")
	fs.IntVar(&c.RequiredApprovals, "assessment-required-approvals", d.RequiredApprovals, "people besides the proposer who must approve a disclosure (at least 1)")
	fs.DurationVar(&c.CustomerNoticePeriod, "assessment-customer-notice-period", d.CustomerNoticePeriod, "least time between the customer notice and a disclosure")
	fs.DurationVar(&c.OverdueInterval, "assessment-overdue-interval", time.Minute, "how often review deadlines are checked")
	c.Verification.registerFlags(fs)
	fs.StringVar(&c.Calendars, "assessment-calendars", "", "calendars of working days and public holidays the deadlines are counted on (JSON, the format of the embedded calendars.json); empty: the embedded file")
}

// Policy builds the policy configuration with its overlays loaded and
// checked. An overlay that loosens a rule is an error naming clause 1.2.
func (c Config) Policy() (domain.Config, error) {
	p := domain.Config{Settings: domain.Settings{
		PolicyVersion:              c.PolicyVersion,
		Bulk:                       domain.BulkThresholds{MaxTargets: c.BulkMaxTargets, MaxTimeRange: c.BulkMaxTimeRange},
		EmergencyReview:            c.EmergencyReview,
		StandardReviewBusinessDays: c.StandardReviewBusinessDays,
		RequiredApprovals:          c.RequiredApprovals,
		CustomerNoticePeriod:       c.CustomerNoticePeriod,
	}}
	if err := p.Validate(); err != nil {
		return domain.Config{}, fmt.Errorf("assessment policy: %w", err)
	}
	overlays, err := LoadOverlays(c.Overlays, p)
	if err != nil {
		return domain.Config{}, err
	}
	p.Overlays = overlays
	return p, nil
}

// Component is assessment as a process hosts it.
type Component struct {
	deps     runner.Deps
	cfg      Config
	app      *app.Assessment
	queue    *app.Queue
	srv      *ports.Server
	log      *slog.Logger
	proj     *projection.Projection
	reactor  *consumer.Runner
	deadline chan struct{}
	// unobserve stops the overdue gauge.
	unobserve func()

	// directory and flags: issue 18 (verification.go).
	directory *app.Directory
	flags     *projection.Projection
	// scopes is the stored verification scope (verification.go).
	scopes *app.VerifyScopes
	// clocks: issue 18's legal clocks (clocks.go).
	clocks clocks
}

// New builds assessment. It fails on a policy configuration that would
// weaken a rule, so the service never runs with one.
func New(ctx context.Context, d runner.Deps, cfg Config) (*Component, error) {
	d, err := d.As("assessment") // its own NATS user
	if err != nil {
		return nil, err
	}
	pol, err := cfg.Policy()
	if err != nil {
		return nil, err
	}
	// The process's registry (--adequacy-file), so that assessment's flag
	// and notification's hold judge 4.2.1 with the same data.
	reg, err := d.AdequacyRegistry()
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OverdueInterval <= 0 {
		cfg.OverdueInterval = time.Minute
	}
	cals, err := loadCalendars(cfg.Calendars)
	if err != nil {
		return nil, err
	}
	dir, scope, err := cfg.Verification.load()
	if err != nil {
		return nil, err
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.Default()
	}
	scopes, err := startVerifyScope(ctx, d, cfg.Now, scope, logger)
	if err != nil {
		return nil, err
	}
	a, err := app.New(app.Config{Policy: pol, Adequacy: reg.IsAdequate, Now: cfg.Now, Directory: dir, VerifyScope: scope, Scopes: scopes, Calendars: cals}, d.Store)
	if err != nil {
		return nil, err
	}
	v, err := validate.New()
	if err != nil {
		return nil, err
	}
	q := app.NewQueue()
	logger.Info("assessment policy", "policy_version", pol.PolicyVersion, "overlays", len(pol.Overlays))
	logger.Info("requester verification", "authority_file", cfg.Verification.AuthorityFile, "verify_scope_flag", string(scope))
	return &Component{deps: d, cfg: cfg, app: a, queue: q, srv: ports.NewServer(a, q, v, cfg.Now), log: logger, directory: dir, scopes: scopes,
		clocks: clocks{srv: ports.NewClocksServer(a, q, v, cfg.Now)}}, nil
}

// GRPCServiceNames implements runner.Component.
func (c *Component) GRPCServiceNames() []string {
	return []string{assessmentv1.AssessmentService_ServiceDesc.ServiceName, assessmentv1.VerificationService_ServiceDesc.ServiceName,
		assessmentv1.ClocksService_ServiceDesc.ServiceName}
}

// RegisterGRPC implements runner.Component.
func (c *Component) RegisterGRPC(s *grpc.Server) {
	assessmentv1.RegisterAssessmentServiceServer(s, c.srv)
	assessmentv1.RegisterVerificationServiceServer(s, ports.NewVerificationServer(c.srv, c.log).WithScopes(c.scopes))
	assessmentv1.RegisterClocksServiceServer(s, c.clocks.srv)
}

// Start implements runner.Component: it rebuilds the queue, starts the
// reactor that opens cases and the review-deadline watch.
func (c *Component) Start(ctx context.Context) error {
	p, err := projection.Start(ctx, c.deps.JS, app.QueueSubjects, c.queue.Apply, c.log.With("projection", "assessment-queue"))
	if err != nil {
		return err
	}
	c.proj = p
	// Before the reactor opens cases: a flag recorded before a restart
	// must mark the next request from that authority.
	if c.flags, err = c.startAuthorityFlags(ctx); err != nil {
		return err
	}
	if c.unobserve, err = observeOverdue(c.queue, c.cfg.Now); err != nil {
		return err
	}
	if c.clocks.unobserve, err = observeClocks(c.queue, c.cfg.Now); err != nil {
		return err
	}
	r, err := ports.OpenCaseReactor(c.app).Start(ctx, c.deps.JS, consumer.Config{
		Name:   ports.OpenCaseConsumer,
		Logger: c.log,
	})
	if err != nil {
		return err
	}
	c.reactor = r
	c.deadline = make(chan struct{})
	go c.watchDeadlines(ctx)
	return nil
}

// watchDeadlines records overdue cases every interval. Several replicas may
// run it at once: the event is appended under the concurrency check with a
// derived id, so each case is marked once.
func (c *Component) watchDeadlines(ctx context.Context) {
	defer close(c.deadline)
	t := time.NewTicker(c.cfg.OverdueInterval)
	defer t.Stop()
	for {
		for _, id := range c.queue.Overdue(c.cfg.Now()) {
			o, err := c.app.MarkOverdue(ctx, id)
			if err != nil && ctx.Err() == nil {
				c.log.WarnContext(ctx, "marking case overdue failed", "request_id", id, "error", err)
			}
			if o.Recorded {
				countOverdue(ctx, o.Urgent)
			}
		}
		c.fireClocks(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Stop implements runner.Component.
func (c *Component) Stop() {
	if c.unobserve != nil {
		c.unobserve()
	}
	if c.clocks.unobserve != nil {
		c.clocks.unobserve()
	}
	if c.deadline != nil {
		<-c.deadline
	}
	if c.reactor != nil {
		c.reactor.Stop()
	}
	if c.proj != nil {
		c.proj.Stop()
	}
	if c.flags != nil {
		c.flags.Stop()
	}
}
