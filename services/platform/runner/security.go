package runner

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/auth/persontoken"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsacl"
	"github.com/ddrsuite/ddr/services/platform/natsx"
	"github.com/ddrsuite/ddr/services/platform/pki"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

// Files of the development PKI directory besides the certificates.
const (
	RolesFileName = "roles.json"
	KEKFileName   = "kek"
)

// ConsoleName is the console's service name: its certificate is
// service/console (pki), and it has no NATS user.
const ConsoleName = "console"

// DefaultOIDCAudience is the console's OIDC client id, the audience of
// the person tokens it forwards.
const DefaultOIDCAudience = "ddr-console"

// SecretsDir is where the keys live unless flags say otherwise: a
// "secrets" directory beside the data directory (./secrets for ./data),
// never inside it. Whoever copies or backs up the data directory must
// not get the KEK with it: with both, an erased key's old copy (in a
// backup taken before the erasure) unwraps again.
func SecretsDir(dataDir string) string {
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	return filepath.Join(filepath.Dir(filepath.Clean(dataDir)), "secrets")
}

// As returns the dependencies of service name with a NATS connection of
// its own, as its own NATS user: in a process hosting several services
// (the all-in-one) each gets only its own permissions. Where the process
// is that service, or in insecure development mode, it returns d itself.
//
// Either way the returned Store seals personal data on append and opens it
// on reads only if name is entitled to it (natsacl.OpensPersonalData).
func (d Deps) As(name string) (Deps, error) {
	if d.as == nil {
		d.Store = newStore(d.JS, d.Keys, d.Logger, name, d.index)
		return d, nil
	}
	return d.as(name)
}

// newStore is the event store of service name: every append seals the
// payload's personal data; reads open it where name is entitled to.
//
// Deps built by hand without a keyring (a service's own tests) get a store
// that neither seals nor opens: the runner always loads the KEK, and a
// process without one does not start.
//
// The services of one process share one index (ix, nil for one of their
// own): it holds sequences only, and one ordered consumer keeps it current
// where each service's own index decoded every event's headers again.
func newStore(js jetstream.JetStream, kr *keys.Keyring, logger *slog.Logger, name string, ix *eventstore.Index) *eventstore.Store {
	if kr == nil {
		return eventstore.NewStore(js, eventstore.WithLogger(logger))
	}
	s := seal.New(kr)
	sealing := eventstore.WithSealOnly(s)
	if natsacl.OpensPersonalData(name) {
		sealing = eventstore.WithSealer(s)
	}
	// The index keeps a request's reads as fast with a million events in
	// the stream as with ten thousand (issue 19); it holds sequences only.
	// It starts with the store, on an ordered consumer of the whole
	// stream: only a service's own user may create one, so the process's
	// own connection (which reads no history) and admin's get none.
	if !natsacl.Known(name) || name == natsacl.Admin {
		return eventstore.NewStore(js, eventstore.WithLogger(logger), sealing)
	}
	if ix == nil {
		ix = eventstore.NewIndex(0)
	}
	return eventstore.NewStore(js, eventstore.WithLogger(logger), sealing, eventstore.WithSharedIndex(ix))
}

// withOpener gives ctx the opener of service name (its own keys), for the
// consumers and projections it starts, if name is entitled to it.
func withOpener(ctx context.Context, d Deps, name string) context.Context {
	if !natsacl.OpensPersonalData(name) {
		return ctx
	}
	sd, err := d.As(name)
	if err != nil {
		return ctx // the component's own As fails the same way, louder
	}
	return eventstore.WithOpener(ctx, seal.New(sd.Keys))
}

// security is what the process needs to authenticate and authorise.
type security struct {
	insecure    bool
	pki         pki.Dir
	trustDomain string
	policy      *authz.Policy
	kek         []byte
	// fingerprints keys the digests of personal data (idempotency,
	// duplicates): kept with the KEK, outside the data directory.
	fingerprints *keys.Fingerprinter
	grpcTLS      *tls.Config
	// natsServerTLS, for the embedded server; users map client certificates.
	natsServerTLS *tls.Config
	natsUsers     []*server.User
	// console is the console's SPIFFE ID; persons verifies the person
	// tokens it forwards (nil without --oidc-issuer).
	console string
	persons *persontoken.Verifier
}

// loadSecurity reads the PKI, the roles and the KEK. Without
// cfg.DevIdentity everything must be there: the process refuses to start
// rather than serve without mTLS.
func loadSecurity(cfg Config, logger *slog.Logger) (*security, error) {
	dir := cfg.PKIDir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "pki")
	}
	td := cfg.TrustDomain
	if td == "" {
		td = pki.TrustDomain
	}
	s := &security{insecure: cfg.DevIdentity, pki: pki.Dir(dir), trustDomain: td}

	kekFile := cfg.KEKFile
	if kekFile == "" {
		kekFile = filepath.Join(SecretsDir(cfg.DataDir), KEKFileName)
		legacy := filepath.Join(dir, KEKFileName)
		if _, err := os.Stat(kekFile); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(legacy); err == nil {
				// Making a new KEK here would leave every sealed datum
				// unreadable; the old one must be moved out of the data.
				return nil, fmt.Errorf("runner: the KEK is at its old place %s, inside the data directory: move it (and %s) to %s, or pass --kek-file", legacy, keys.FingerprintKeyFileName, filepath.Dir(kekFile))
			}
		}
	}
	fpFile := cfg.FingerprintKeyFile
	if fpFile == "" {
		fpFile = filepath.Join(filepath.Dir(kekFile), keys.FingerprintKeyFileName)
	}
	if s.insecure {
		// Development without a PKI still seals personal data and keys
		// its fingerprints.
		if _, err := keys.EnsureKEKFile(kekFile); err != nil {
			return nil, err
		}
		if _, err := os.Stat(fpFile); errors.Is(err, os.ErrNotExist) {
			if err := keys.NewKeyFile(fpFile); err != nil {
				return nil, err
			}
		}
	}
	kek, err := keys.LoadKEKFile(kekFile)
	if err != nil {
		return nil, fmt.Errorf("%w (create a development PKI and KEK with `make certs`, or set --kek-file)", err)
	}
	s.kek = kek
	if s.fingerprints, err = keys.LoadFingerprintKeyFile(fpFile); err != nil {
		return nil, fmt.Errorf("%w (`make certs` creates one beside the KEK, or set --fingerprint-key-file)", err)
	}

	roles := authz.RolesFile{Staff: cfg.Staff, OIDCSubjects: cfg.OIDCSubjects}
	if roles.Staff == nil {
		rolesFile := cfg.RolesFile
		if rolesFile == "" {
			rolesFile = filepath.Join(dir, RolesFileName)
		}
		roles, err = authz.LoadRoles(rolesFile)
		if errors.Is(err, os.ErrNotExist) && s.insecure && cfg.RolesFile == "" {
			roles, err = authz.DevRoles(), nil
		}
		if err != nil {
			return nil, err
		}
	}
	if s.policy, err = authz.New(td, roles.Staff, authz.WithOIDCSubjects(roles.OIDCSubjects)); err != nil {
		return nil, err
	}
	s.console = cfg.ConsoleIdentity
	if s.console == "" {
		s.console = "spiffe://" + td + "/" + auth.KindService + "/" + ConsoleName
	}
	// The console's calls are never its own: an identity that also calls
	// as itself (a person, one of the suite's services) would lose that.
	if id, err := auth.ParseSPIFFE(s.console); err != nil || id.TrustDomain() != td || id.Kind != auth.KindService || slices.Contains(pki.Services, id.Name) {
		return nil, fmt.Errorf("runner: --console-identity %q must be a service identity of trust domain %s other than the suite's own services", s.console, td)
	}
	if cfg.OIDCIssuer != "" {
		aud := cfg.OIDCAudience
		if aud == "" {
			aud = DefaultOIDCAudience
		}
		if s.persons, err = persontoken.New(cfg.OIDCIssuer, aud); err != nil {
			return nil, err
		}
	}
	if s.insecure {
		return s, nil
	}

	files := s.pki.Files("service/" + cfg.Name)
	if s.grpcTLS, err = files.ServerTLS(); err != nil {
		return nil, err
	}
	leaf := s.grpcTLS.Certificates[0].Leaf
	if leaf == nil || len(leaf.URIs) != 1 || leaf.URIs[0].Scheme != "spiffe" {
		return nil, fmt.Errorf("runner: %s has no SPIFFE URI SAN", files.Cert)
	}
	if leaf.URIs[0].Host != td {
		return nil, fmt.Errorf("runner: %s is of trust domain %q, not the pinned %q (--trust-domain)", files.Cert, leaf.URIs[0].Host, td)
	}
	cas, err := pki.LoadCACerts(files.CA)
	if err != nil {
		return nil, err
	}
	crlFile, required := cfg.CRLFile, cfg.CRLFile != ""
	if !required {
		crlFile = s.pki.CRL()
	}
	rev, err := pki.LoadRevocations(crlFile, cas[0], required, func(err error) {
		logger.Error("certificate revocation list not reloaded; the previous one stays in force", "file", crlFile, "err", err)
	})
	if err != nil {
		return nil, err
	}
	// One check for gRPC and the embedded NATS alike: the CA may sign for
	// other trust domains, and a revoked certificate still chains to it.
	s.grpcTLS.VerifyConnection = pki.VerifyPeer(td, rev)
	s.natsServerTLS = s.grpcTLS.Clone()
	s.natsUsers = natsacl.Users(s.trustDomain, "oncall")
	return s, nil
}

// issuer is the OpenID issuer of the console's person tokens, "" when the
// console is refused.
func (s *security) issuer() string {
	if s.persons == nil {
		return ""
	}
	return s.persons.Issuer()
}

// natsOptions are the client options of identity service/name.
func (s *security) natsOptions(name string) ([]nats.Option, error) {
	if s.insecure {
		return nil, nil
	}
	cfg, err := s.pki.Files("service/" + name).ClientTLS()
	if err != nil {
		return nil, err
	}
	return []nats.Option{nats.Secure(cfg), nats.CustomInboxPrefix(natsacl.InboxPrefix(name))}, nil
}

// componentConns opens and closes the connections of [Deps.As].
type componentConns struct {
	sec    *security
	url    string
	base   Deps
	self   string
	logger *slog.Logger

	mu    sync.Mutex
	conns []*nats.Conn
	deps  map[string]Deps // one connection per service
}

func (c *componentConns) as(name string) (Deps, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.deps[name]; ok {
		return d, nil
	}
	if name == c.self {
		return c.base, nil
	}
	opts, err := c.sec.natsOptions(name)
	if err != nil {
		return Deps{}, err
	}
	nc, err := natsx.Connect(c.url, name, append(opts, natsx.WithLogger(c.logger))...)
	if err != nil {
		return Deps{}, err
	}
	c.conns = append(c.conns, nc)
	d, err := newDeps(nc, c.sec, c.base.Logger, c.base.Replicas, name, c.base.index)
	if err != nil {
		return Deps{}, err
	}
	d.as = c.as
	d.Adequacy = c.base.Adequacy
	if c.deps == nil {
		c.deps = map[string]Deps{}
	}
	c.deps[name] = d
	return d, nil
}

// drain drains every component connection, before the server stops.
func (c *componentConns) drain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, nc := range c.conns {
		if err := drain(nc); err != nil {
			c.logger.Warn("draining nats connection", "conn", nc.Opts.Name, "err", err)
		}
	}
	c.conns = nil
	c.deps = nil
}

// newDeps builds the dependencies over one connection; its stores share
// the index ix (nil: the process's first, which makes one).
func newDeps(nc *nats.Conn, sec *security, logger *slog.Logger, replicas int, name string, ix *eventstore.Index) (Deps, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return Deps{}, fmt.Errorf("jetstream: %w", err)
	}
	kr, err := keys.Lazy(js, sec.kek)
	if err != nil {
		return Deps{}, err
	}
	if ix == nil {
		ix = eventstore.NewIndex(0)
	}
	return Deps{NC: nc, JS: js, Store: newStore(js, kr, logger, name, ix), Logger: logger, Replicas: replicas, Keys: kr, Fingerprints: sec.fingerprints, index: ix}, nil
}
