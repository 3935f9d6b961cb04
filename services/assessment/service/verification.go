package service

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/adapters"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/ports"
	"github.com/ddrsuite/ddr/services/platform/authority"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/runner"
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
		"which disclosures need a confirmed verification of the requester through the authority directory: emergency (emergency and imminent-risk ones, the minimum), unverified (also any to a requester the directory did not verify) or all; "+
			"only the initial value when none is stored: a wider flag widens the stored scope, a narrower one is ignored (narrowing needs two people: ddrctl case verify-scope set/confirm)")
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

// StartupOperator is who a startup flag's change is recorded as made by:
// the process, on its operator's configuration.
const StartupOperator = "service/assessment (--assessment-verify-scope)"

// startVerifyScope opens the stored verification scope and reconciles it
// with the startup flag: the flag is the initial value when nothing is
// stored; a wider flag widens; a narrower one leaves the stored scope in
// force, so a deploy cannot weaken the safeguard alone (issue 18/15).
func startVerifyScope(ctx context.Context, d runner.Deps, now func() time.Time, flag app.VerifyScope, log *slog.Logger) (*app.VerifyScopes, error) {
	store, err := adapters.EnsureScopeStore(ctx, d.JS, d.Replicas)
	if err != nil {
		return nil, fmt.Errorf("assessment: verification scope: %w", err)
	}
	scopes := app.NewVerifyScopes(store, now)
	o, err := scopes.Start(ctx, flag, StartupOperator)
	if err != nil {
		return nil, fmt.Errorf("assessment: verification scope: %w", err)
	}
	switch {
	case o.Kept:
		// Scopes only: the setting holds nothing about people.
		log.WarnContext(ctx, "the startup flag asks for a narrower verification scope than the stored one; the stored scope stays in force (narrowing needs a second person: ddrctl case verify-scope set, then confirm)",
			"verify_scope_flag", string(flag), "verify_scope_in_force", string(o.InForce))
	case o.Widened:
		log.InfoContext(ctx, "the startup flag widened the stored verification scope", "verify_scope_in_force", string(o.InForce))
	}
	log.InfoContext(ctx, "verification scope in force", "verify_scope", string(o.InForce), "initial", o.Initial)
	return scopes, nil
}
