package service

import (
	"context"
	"fmt"
	"time"

	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/translog"
	"github.com/ddrsuite/ddr/services/reporting/adapters"
	"github.com/ddrsuite/ddr/services/reporting/adapters/export"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// DefaultOrigin names the public log when --reporting-publish-origin is not
// set; a company sets its website's address.
const DefaultOrigin = "ddr/transparency-reports"

// signer loads a note signing key kept like the KEK (keys.LoadSigningKeyFile
// refuses a file others may read); "" is no key.
func signer(path string) (*translog.Signer, error) {
	if path == "" {
		return nil, nil
	}
	skey, err := keys.LoadSigningKeyFile(path)
	if err != nil {
		return nil, err
	}
	return translog.NewSigner(skey)
}

// newTransparency builds the publisher (the public log in its KV bucket,
// the signing keys from their files, the files rendered by
// adapters/export) and the DPA queries over the record log, which the
// same key signs under its own origin.
func newTransparency(ctx context.Context, c *Component, cfg Config) error {
	s, err := signer(cfg.SigningKeyFile)
	if err != nil {
		return fmt.Errorf("reporting: transparency signing key: %w", err)
	}
	prev, err := signer(cfg.PreviousSigningKeyFile)
	if err != nil {
		return fmt.Errorf("reporting: previous transparency signing key: %w", err)
	}
	log, err := adapters.EnsurePublicLog(ctx, c.deps.JS, c.deps.Replicas)
	if err != nil {
		return err
	}
	origin := cfg.PublishOrigin
	if origin == "" {
		origin = DefaultOrigin
	}
	c.publisher = app.NewPublisher(c.app, c.reports, log, app.PublishConfig{
		Origin: origin, Signer: s, Previous: prev, Render: export.ReportFiles, Index: export.IndexPage,
	})
	var keyer app.Keyer
	if c.deps.Fingerprints != nil {
		keyer = c.deps.Fingerprints
	}
	c.recordLog = app.NewRecordLog(keyer)
	c.dpa = app.NewDPA(c.app, c.recordLog, s, transparency.RecordOrigin(origin), adapters.RecordCheckpoints{KV: log.KV})
	return nil
}

// schedule publishes, every cfg.PublishEvery, the last half-year that has
// ended (once: later runs add nothing) and writes the site to
// cfg.PublishDir. Off unless both are set.
func (c *Component) schedule(ctx context.Context, cfg Config, now func() time.Time) {
	if cfg.PublishDir == "" || cfg.PublishEvery <= 0 {
		return
	}
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(cfg.PublishEvery)
		defer t.Stop()
		for {
			if err := c.publishOnce(ctx, cfg.PublishDir, now()); err != nil && ctx.Err() == nil {
				c.deps.Logger.Error("scheduled publication of the transparency report failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// publishOnce publishes the half-year before the one now is in.
func (c *Component) publishOnce(ctx context.Context, dir string, now time.Time) error {
	last := domain.PeriodOf(domain.PeriodOf(now).Start().Add(-time.Nanosecond))
	pub, err := c.publisher.Publish(ctx, last, false)
	if err != nil {
		return err
	}
	if pub.Added {
		c.deps.Logger.Info("transparency report published", "report", pub.Name)
	}
	return transparency.WriteSite(dir, pub.Site)
}
