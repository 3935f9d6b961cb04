package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/translog"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// PublicLog keeps the public log of published reports; its implementation
// (reporting/adapters) is a JetStream KV bucket. Entries and rotations are
// written once: adding at a place already taken is ddrerr.ErrConflict.
type PublicLog interface {
	// Load returns the log as stored (an empty State before the first
	// publication).
	Load(ctx context.Context) (transparency.State, error)
	// Init records the log's origin and first key, once.
	Init(ctx context.Context, origin, initialKey string) error
	// Add stores the leaf at index.
	Add(ctx context.Context, index int, e transparency.Published) error
	// AddRotation stores the nth key rotation statement (from 1).
	AddRotation(ctx context.Context, n int, statement []byte) error
}

// PublishConfig is how reports are published.
type PublishConfig struct {
	// Origin names the public log in its checkpoints, e.g. the site's
	// address ("example.com/transparency").
	Origin string
	// Signer signs statements and checkpoints; nil: publishing is refused.
	Signer *translog.Signer
	// Previous is the key Signer replaces, if the log is still on it: the
	// first publication with both writes the rotation statement.
	Previous *translog.Signer
	// Render gives the files of a report (transparency.ReportFiles).
	Render func(*domain.Report) (map[string][]byte, error)
	// Index renders the site's index page.
	Index transparency.IndexPage
}

// Publisher publishes transparency reports (clause 5.1): each one a leaf of
// the public log, never changed; a correction is a new leaf that names the
// report it corrects.
type Publisher struct {
	cfg     PublishConfig
	app     *Reporting
	reports *Reports
	log     PublicLog
	mu      sync.Mutex // one publication at a time in this process; the store's create-once refuses a second process
}

// NewPublisher returns a publisher of the reports built by a from reports.
func NewPublisher(a *Reporting, reports *Reports, log PublicLog, cfg PublishConfig) *Publisher {
	return &Publisher{cfg: cfg, app: a, reports: reports, log: log}
}

// Publication is the result of [Publisher.Publish].
type Publication struct {
	Name  string // the report's name in the log
	Added bool   // false: the period was published already and nothing changed
	Site  map[string][]byte
}

// Publish publishes the report of period p unless it is published already;
// with correction, it publishes a new report of p that corrects the latest
// one. It returns the whole site as it now stands.
func (p *Publisher) Publish(ctx context.Context, period domain.Period, correction bool) (*Publication, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg.Signer == nil {
		return nil, fmt.Errorf("%w: no transparency signing key is configured (--reporting-signing-key-file)", ddrerr.ErrFailedPrecondition)
	}
	st, err := p.state(ctx)
	if err != nil {
		return nil, err
	}
	sts, err := st.Statements()
	if err != nil {
		return nil, err
	}
	latest, n := "", 0
	for _, s := range sts {
		if s.Period == period.String() {
			latest, n = s.Name, n+1
		}
	}
	pub := &Publication{Name: latest}
	switch {
	case latest != "" && !correction:
	case latest == "" && correction:
		return nil, fmt.Errorf("%w: period %s was never published, there is nothing to correct", ddrerr.ErrFailedPrecondition, period)
	default:
		name := period.String()
		if correction {
			name = transparency.CorrectionName(period.String(), n)
		}
		e, err := p.entry(st, name, latest, period)
		if err != nil {
			return nil, err
		}
		if err := p.log.Add(ctx, len(st.Entries), e); err != nil {
			return nil, err
		}
		st.Entries = append(st.Entries, e)
		pub.Name, pub.Added = name, true
	}
	if pub.Site, err = transparency.Site(st, p.cfg.Index); err != nil {
		return nil, err
	}
	return pub, nil
}

// Site returns the static site as it stands, publishing nothing.
func (p *Publisher) Site(ctx context.Context) (map[string][]byte, error) {
	st, err := p.log.Load(ctx)
	if err != nil {
		return nil, err
	}
	if st.InitialKey == "" {
		return nil, fmt.Errorf("%w: nothing is published yet", ddrerr.ErrNotFound)
	}
	return transparency.Site(st, p.cfg.Index)
}

// state loads the log, starting it on the configured key the first time
// and rotating to the configured key when the log is still on Previous.
func (p *Publisher) state(ctx context.Context) (transparency.State, error) {
	st, err := p.log.Load(ctx)
	if err != nil {
		return st, err
	}
	if st.InitialKey == "" {
		if err := p.log.Init(ctx, p.cfg.Origin, p.cfg.Signer.VerifierKey()); err != nil {
			return st, err
		}
		st.Origin, st.InitialKey = p.cfg.Origin, p.cfg.Signer.VerifierKey()
	}
	cur, err := st.CurrentKey()
	if err != nil {
		return st, fmt.Errorf("the stored key chain: %w", err)
	}
	if cur == p.cfg.Signer.VerifierKey() {
		return st, nil
	}
	if p.cfg.Previous == nil || p.cfg.Previous.VerifierKey() != cur {
		return st, fmt.Errorf("%w: the signing key is not the public log's current key; give the current key as the previous one to rotate", ddrerr.ErrFailedPrecondition)
	}
	rot, err := translog.Rotate(p.cfg.Previous, p.cfg.Signer, int64(len(st.Entries))+1)
	if err != nil {
		return st, err
	}
	if err := p.log.AddRotation(ctx, len(st.Rotations)+1, rot); err != nil {
		return st, err
	}
	st.Rotations = append(st.Rotations, rot)
	return st, nil
}

// entry builds, signs and checkpoints the next leaf.
func (p *Publisher) entry(st transparency.State, name, corrects string, period domain.Period) (transparency.Published, error) {
	rep, err := p.app.Report(p.reports, period)
	if err != nil {
		return transparency.Published{}, err
	}
	files, err := p.cfg.Render(rep)
	if err != nil {
		return transparency.Published{}, err
	}
	s, err := transparency.NewStatement(name, period.String(), corrects, files)
	if err != nil {
		return transparency.Published{}, err
	}
	signed, err := p.cfg.Signer.Sign(s.Text())
	if err != nil {
		return transparency.Published{}, err
	}
	l, err := st.Log()
	if err != nil {
		return transparency.Published{}, err
	}
	if _, err := l.Append(s.Text()); err != nil {
		return transparency.Published{}, err
	}
	root, err := l.Root(l.Size())
	if err != nil {
		return transparency.Published{}, err
	}
	cp, err := p.cfg.Signer.SignCheckpoint(translog.Checkpoint{Origin: st.Origin, Size: l.Size(), Hash: root})
	if err != nil {
		return transparency.Published{}, err
	}
	return transparency.Published{Statement: signed, Checkpoint: cp, Files: files}, nil
}
