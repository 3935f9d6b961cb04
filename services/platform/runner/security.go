package runner

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsacl"
	"github.com/ddrsuite/ddr/services/platform/natsx"
	"github.com/ddrsuite/ddr/services/platform/pki"
)

// Files of the development PKI directory besides the certificates.
const (
	RolesFileName = "roles.json"
	KEKFileName   = "kek"
)

// As returns the dependencies of service name with a NATS connection of
// its own, as its own NATS user: in a process hosting several services
// (the all-in-one) each gets only its own permissions. Where the process
// is that service, or in insecure development mode, it returns d itself.
func (d Deps) As(name string) (Deps, error) {
	if d.as == nil {
		return d, nil
	}
	return d.as(name)
}

// security is what the process needs to authenticate and authorise.
type security struct {
	insecure    bool
	pki         pki.Dir
	trustDomain string
	policy      *authz.Policy
	kek         []byte
	fingerprint *keys.Fingerprinter
	grpcTLS     *tls.Config
	// natsServerTLS, for the embedded server; users map client certificates.
	natsServerTLS *tls.Config
	natsUsers     []*server.User
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
		kekFile = filepath.Join(dir, KEKFileName)
		if s.insecure {
			// Development without a PKI still seals personal data.
			if _, err := keys.EnsureKEKFile(kekFile); err != nil {
				return nil, err
			}
		}
	}
	kek, err := keys.LoadKEKFile(kekFile)
	if err != nil {
		return nil, fmt.Errorf("%w (create a development PKI and KEK with `make certs`, or set --kek-file)", err)
	}
	s.kek = kek
	// The fingerprint key sits beside the KEK and is provisioned with it;
	// development creates it like the KEK.
	fpFile := filepath.Join(filepath.Dir(kekFile), keys.FingerprintKeyFileName)
	if s.insecure {
		if fpFile, err = keys.EnsureFingerprintKeyFile(kekFile); err != nil {
			return nil, err
		}
	}
	if s.fingerprint, err = keys.LoadFingerprintKeyFile(fpFile); err != nil {
		return nil, fmt.Errorf("%w (create it with `make certs`, beside the KEK)", err)
	}

	staff := cfg.Staff
	if staff == nil {
		rolesFile := cfg.RolesFile
		if rolesFile == "" {
			rolesFile = filepath.Join(dir, RolesFileName)
		}
		staff, err = authz.LoadStaff(rolesFile)
		if errors.Is(err, os.ErrNotExist) && s.insecure && cfg.RolesFile == "" {
			staff, err = authz.DevStaff(), nil
		}
		if err != nil {
			return nil, err
		}
	}
	if s.policy, err = authz.New(td, staff); err != nil {
		return nil, err
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
}

func (c *componentConns) as(name string) (Deps, error) {
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
	c.mu.Lock()
	c.conns = append(c.conns, nc)
	c.mu.Unlock()
	d, err := newDeps(nc, c.sec, c.base.Logger, c.base.Replicas)
	if err != nil {
		return Deps{}, err
	}
	d.as = c.as
	d.Adequacy = c.base.Adequacy
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
}

// newDeps builds the dependencies over one connection.
func newDeps(nc *nats.Conn, sec *security, logger *slog.Logger, replicas int) (Deps, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return Deps{}, fmt.Errorf("jetstream: %w", err)
	}
	kr, err := keys.Lazy(js, sec.kek)
	if err != nil {
		return Deps{}, err
	}
	return Deps{NC: nc, JS: js, Store: eventstore.NewStore(js, eventstore.WithLogger(logger)), Logger: logger, Replicas: replicas, Keys: kr, Fingerprints: sec.fingerprint}, nil
}
