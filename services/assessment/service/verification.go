package service

import (
	"context"
	"flag"
	"fmt"

	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/ports"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/projection"
)

// Issue 18: the authority directory is loaded at start and validated; an
// invalid file stops the service rather than trusting senders it cannot
// check. Flags recorded by AuthorityFlagged events are layered over it by
// a projection across requests.

// VerificationConfig is the requester verification's configuration.
type VerificationConfig struct {
	// AuthorityFile is the authority directory; empty: the embedded example.
	AuthorityFile string
	// VerifyScope: emergency (default), unverified or all.
	VerifyScope string
}

func (c *VerificationConfig) registerFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.AuthorityFile, "authority-file", "", "authority directory for requester verification (issue 18; JSON, the format of platform/authority/directory.json); empty: the embedded example")
	fs.StringVar(&c.VerifyScope, "assessment-verify-scope", string(app.VerifyEmergency),
		"which disclosures need a confirmed verification of the requester through the authority directory: emergency (emergency and imminent-risk ones, the minimum), unverified (also any to a requester the directory did not verify) or all")
}

// load reads and validates the directory and the scope.
func (c VerificationConfig) load() (*app.Directory, app.VerifyScope, error) {
	scope, err := app.ParseVerifyScope(c.VerifyScope)
	if err != nil {
		return nil, "", fmt.Errorf("assessment: %w", err)
	}
	d, err := authority.Load(c.AuthorityFile)
	if err != nil {
		return nil, "", fmt.Errorf("assessment: %w", err)
	}
	return app.NewDirectory(d), scope, nil
}

// startAuthorityFlags layers the recorded flags over the directory.
func (c *Component) startAuthorityFlags(ctx context.Context) (*projection.Projection, error) {
	filters, apply := ports.AuthorityFlags(c.directory)
	return projection.Start(ctx, c.deps.JS, filters, apply, c.log.With("projection", "assessment-authority-flags"))
}
