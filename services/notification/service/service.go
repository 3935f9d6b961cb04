// Package service wires notification for a process: the all-in-one and the
// notification binary both host it through [New].
package service

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"google.golang.org/grpc"

	_ "github.com/ddrsuite/ddr/gen/ddr/assessment/v1" // events this service reads
	_ "github.com/ddrsuite/ddr/gen/ddr/intake/v1"     // events this service reads
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	_ "github.com/ddrsuite/ddr/gen/ddr/reporting/v1" // events a request's history may hold
	"github.com/ddrsuite/ddr/services/notification/adapters"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/notification/ports"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/validate"
)

// PlanConsumer is the durable consumer of the plan reactor.
const PlanConsumer = "notification-plan"

// Config is notification's own configuration.
type Config struct {
	// ContactsFile is the JSON contacts file (see app.ParseContacts).
	// Empty: no contacts, nothing is delivered, and LeadDPA names the lead
	// DPA.
	ContactsFile string
	LeadDPA      string
	// SMTPAddr is the SMTP server (host:port); empty: no e-mail.
	SMTPAddr     string
	SMTPUsername string
	SMTPPassword string
	SMTPHello    string
	// SMTPTLS is the SMTP TLS mode: auto (implicit TLS on port 465,
	// STARTTLS elsewhere), starttls, tls, or none; without TLS only a
	// loopback server is accepted (see app.Target).
	SMTPTLS string
	// TLSCAFile, if set, is a PEM file of CA certificates trusted, besides
	// the system roots, to verify SMTP servers and webhook endpoints.
	TLSCAFile string
	// SweepInterval is how often the delivery worker looks for due work
	// (retries, gags that lifted); it also runs whenever a plan changes.
	SweepInterval time.Duration
	RetryBase     time.Duration
	RetryMax      time.Duration
	LeaseTTL      time.Duration
	// DPADirectoryFile maps a controller customer's country of
	// establishment to its competent DPA (clause 2.2); empty: the default
	// directory of the EEA's authorities (app.ReadDPADirectory).
	DPADirectoryFile string
	// ConsultationPeriod is how long a DPA has to answer before two people
	// may record "no reply" (clause 4.2.1).
	ConsultationPeriod time.Duration
	// NoticeWindow is how long an owed customer notice (after an
	// emergency disclosure, after a gag ends) may take before it is
	// recorded overdue (clause 4.1.2).
	NoticeWindow time.Duration

	// Contacts, when set, is used instead of ContactsFile (tests).
	Contacts *app.Contacts
	// Now is the clock; default time.Now (tests inject one).
	Now func() time.Time
	// Tick drives the sweeps instead of a ticker of SweepInterval (tests).
	Tick <-chan time.Time
	// Webhooks overrides the webhook client (tests).
	Webhooks *adapters.Webhooks
}

// RegisterFlags declares notification's flags. Secrets may also come from
// the environment (DDR_NOTIFICATION_SMTP_PASSWORD), and webhook secrets from
// variables the contacts file names.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.ContactsFile, "notification-contacts", "", "JSON file of customer and DPA contacts (e-mail addresses, webhook URLs and secrets) and the lead DPA")
	fs.StringVar(&c.LeadDPA, "notification-lead-dpa", "DPC-IE", "lead DPA when no contacts file is given (clause 4.2.1)")
	fs.StringVar(&c.SMTPAddr, "notification-smtp-addr", "", "SMTP server host:port for notices; empty: no e-mail")
	fs.StringVar(&c.SMTPUsername, "notification-smtp-username", "", "SMTP AUTH PLAIN user; empty: no AUTH")
	fs.StringVar(&c.SMTPPassword, "notification-smtp-password", "", "SMTP AUTH PLAIN password (prefer DDR_NOTIFICATION_SMTP_PASSWORD)")
	fs.StringVar(&c.SMTPHello, "notification-smtp-hello", "localhost", "name sent with EHLO")
	fs.StringVar(&c.SMTPTLS, "notification-smtp-tls", app.SMTPTLSAuto, "SMTP TLS: auto (implicit TLS on port 465, else STARTTLS), starttls, tls (implicit) or none; notices go in clear only to a loopback server")
	fs.StringVar(&c.TLSCAFile, "notification-tls-ca-file", "", "PEM CA certificates trusted besides the system roots for SMTP servers and webhook endpoints")
	fs.DurationVar(&c.SweepInterval, "notification-sweep-interval", 10*time.Second, "how often due deliveries (retries, lifted gags) are looked for")
	fs.DurationVar(&c.RetryBase, "notification-retry-base", 30*time.Second, "wait after a failed delivery, doubled per failure")
	fs.DurationVar(&c.RetryMax, "notification-retry-max", time.Hour, "longest wait between delivery attempts")
	fs.DurationVar(&c.LeaseTTL, "notification-lease-ttl", 2*time.Minute, "how long a delivery lease lasts; must exceed one send")
	fs.StringVar(&c.DPADirectoryFile, "notification-dpa-directory", "", "JSON object of country of establishment to competent DPA (clause 2.2); empty: the EEA's authorities")
	fs.DurationVar(&c.NoticeWindow, "notification-notice-window", domain.DefaultNoticeWindow, "how long an owed customer notice (after an emergency disclosure, after a gag ends) may take before it is recorded overdue (clause 4.1.2)")
	fs.DurationVar(&c.ConsultationPeriod, "notification-consultation-period", domain.DefaultConsultationPeriod, "how long a DPA has to answer before \"no reply\" may be recorded by two people (clause 4.2.1)")
}

// Component is notification as a process hosts it.
type Component struct {
	deps  runner.Deps
	cfg   Config
	app   *app.Notification
	index *app.Index
	deliv *app.Deliverer
	srv   *ports.Server

	proj  *projection.Projection
	react *consumer.Runner
	// unobserve stops the holds gauges.
	unobserve func()
	cancel    context.CancelFunc
	done      chan struct{}
}

// New builds notification.
func New(ctx context.Context, d runner.Deps, cfg Config) (*Component, error) {
	d, err := d.As(app.Service) // its own NATS user
	if err != nil {
		return nil, err
	}
	contacts, err := loadContacts(cfg)
	if err != nil {
		return nil, err
	}
	roots, err := checkDelivery(cfg, contacts)
	if err != nil {
		return nil, err
	}
	logger := d.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	dpas := contacts.DomainConfig()
	if dpas.Directory, err = app.ReadDPADirectory(cfg.DPADirectoryFile); err != nil {
		return nil, err
	}
	dpas.ConsultationPeriod = cfg.ConsultationPeriod
	dpas.NoticeWindow = cfg.NoticeWindow
	a, err := app.New(app.Config{DPAs: dpas, Registry: d.Adequacy, Now: now, Logger: logger}, d.Store)
	if err != nil {
		return nil, err
	}
	leases, err := adapters.EnsureLeases(ctx, d.JS, d.Replicas, cfg.LeaseTTL, hostname())
	if err != nil {
		return nil, err
	}
	dcfg := app.DeliveryConfig{Contacts: contacts, Leases: leases, RetryBase: cfg.RetryBase, RetryMax: cfg.RetryMax, Logger: logger}
	if d.Keys != nil {
		dcfg.Keys = d.Keys
	}
	if cfg.SMTPAddr != "" {
		dcfg.Email = &adapters.SMTP{Addr: cfg.SMTPAddr, TLSMode: cfg.SMTPTLS, Hello: cfg.SMTPHello,
			Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, RootCAs: roots, Now: now}
	}
	// Assign only a non-nil pointer: a nil *Webhooks in the interface
	// would not compare equal to nil and would be called.
	if cfg.Webhooks != nil {
		dcfg.Webhook = cfg.Webhooks
	} else {
		dcfg.Webhook = &adapters.Webhooks{RootCAs: roots, Now: now}
	}
	c := &Component{deps: d, cfg: cfg, app: a}
	c.index = app.NewIndex(d.Store, func(string) { c.deliv.Kick() })
	c.deliv = app.NewDeliverer(a, c.index, dcfg)
	v, err := validate.New()
	if err != nil {
		return nil, err
	}
	c.srv = ports.NewServer(a, c.index, c.deliv, v)
	return c, nil
}

// checkDelivery refuses, at start, a delivery configuration that breaks
// the rule of notices over TLS (app.Target): an SMTP server without TLS or
// an http:// webhook, unless on loopback. It returns the roots that verify
// the servers.
func checkDelivery(cfg Config, contacts app.Contacts) (*x509.CertPool, error) {
	if cfg.SMTPAddr != "" {
		s := adapters.SMTP{Addr: cfg.SMTPAddr, TLSMode: cfg.SMTPTLS}
		if err := s.Check(); err != nil {
			return nil, fmt.Errorf("notification: %w (--notification-smtp-tls=%s)", err, modeOrAuto(cfg.SMTPTLS))
		}
	}
	if err := contacts.CheckTransport(); err != nil {
		return nil, fmt.Errorf("notification contacts: %w", err)
	}
	roots, err := adapters.LoadRoots(cfg.TLSCAFile)
	if err != nil {
		return nil, fmt.Errorf("notification: --notification-tls-ca-file: %w", err)
	}
	return roots, nil
}

func modeOrAuto(m string) string {
	if m == "" {
		return app.SMTPTLSAuto
	}
	return m
}

func loadContacts(cfg Config) (app.Contacts, error) {
	switch {
	case cfg.Contacts != nil:
		return *cfg.Contacts, nil
	case cfg.ContactsFile != "":
		return app.ReadContacts(cfg.ContactsFile)
	case cfg.LeadDPA != "":
		return app.Contacts{LeadDPA: app.DPA{Name: cfg.LeadDPA}}, nil
	}
	return app.Contacts{}, errors.New("notification: give --notification-contacts or --notification-lead-dpa")
}

// App is the command side, for tests and the all-in-one.
func (c *Component) App() *app.Notification { return c.app }

// Deliverer is the delivery worker, for tests.
func (c *Component) Deliverer() *app.Deliverer { return c.deliv }

// GRPCServiceNames implements runner.Component.
func (c *Component) GRPCServiceNames() []string {
	return []string{notificationv1.NotificationService_ServiceDesc.ServiceName}
}

// RegisterGRPC implements runner.Component.
func (c *Component) RegisterGRPC(s *grpc.Server) {
	notificationv1.RegisterNotificationServiceServer(s, c.srv)
}

// Start implements runner.Component: it rebuilds the index, starts the
// plan reactor and then the delivery worker.
func (c *Component) Start(ctx context.Context) error {
	filters, apply := c.index.Projection()
	p, err := projection.Start(ctx, c.deps.JS, filters, apply, c.deps.Logger.With("projection", "notification-index"))
	if err != nil {
		return err
	}
	c.proj = p
	now := c.cfg.Now
	if now == nil {
		now = time.Now
	}
	if c.unobserve, err = observeHolds(c.index, now); err != nil {
		return fmt.Errorf("notification: %w", err)
	}
	plans := ports.PlanReactor(c.app)
	r, err := plans.Start(ctx, c.deps.JS, consumer.Config{Name: PlanConsumer, Logger: c.deps.Logger})
	if err != nil {
		return fmt.Errorf("notification: %w", err)
	}
	c.react = r
	wctx, cancel := context.WithCancel(ctx)
	c.cancel, c.done = cancel, make(chan struct{})
	tick := c.cfg.Tick
	var ticker *time.Ticker
	if tick == nil {
		interval := c.cfg.SweepInterval
		if interval <= 0 {
			interval = 10 * time.Second
		}
		ticker = time.NewTicker(interval)
		tick = ticker.C
	}
	go func() {
		defer close(c.done)
		if ticker != nil {
			defer ticker.Stop()
		}
		c.deliv.Run(wctx, tick)
	}()
	c.deliv.Kick()
	return nil
}

// Stop implements runner.Component.
func (c *Component) Stop() {
	if c.unobserve != nil {
		c.unobserve()
	}
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	if c.react != nil {
		c.react.Stop()
	}
	if c.proj != nil {
		c.proj.Stop()
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "notification"
	}
	return h
}
