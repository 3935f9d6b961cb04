package natsacl_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/ddrsuite/ddr/services/platform/natsacl"
	"github.com/ddrsuite/ddr/services/platform/pki"
)

// The committed cluster configuration is what the table renders: change
// natsacl.Services (or the renderer) without `make natsconf`, and this fails.
func TestDeployConfigsAreRenderedFromTheTable(t *testing.T) {
	for _, n := range natsacl.DeployCluster() {
		path := filepath.Join("..", "..", "..", "deploy", "nats", n.Name+".conf")
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != n.Config() {
			t.Errorf("%s is not what services/platform/natsacl renders: run `make natsconf` and commit deploy/nats", path)
		}
	}
}

func TestClusterIdentityIsIssuedByTheDevelopmentPKI(t *testing.T) {
	if !slices.Contains(pki.NATSIdentities, natsacl.ClusterIdentity) {
		t.Fatalf("pki.NATSIdentities %v lacks %s, the certificate deploy/nats uses", pki.NATSIdentities, natsacl.ClusterIdentity)
	}
}

// devPKI is a development PKI in a temporary directory.
func devPKI(t *testing.T) pki.Dir {
	t.Helper()
	dir := pki.Dir(t.TempDir())
	if _, _, err := pki.Ensure(dir, pki.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// node renders a single secure node on free ports over dir and parses the
// file the way nats-server -c does.
func node(t *testing.T, dir pki.Dir) (natsacl.Node, *server.Options) {
	t.Helper()
	cert, key := dir.Cert(natsacl.ClusterIdentity)
	n := natsacl.Node{
		Name: "t1", Port: -1, StoreDir: filepath.Join(t.TempDir(), "js"),
		ClusterName: "ddr", ClusterPort: -1, Routes: []string{"nats-route://127.0.0.1:1"},
		TLS: &natsacl.NodeTLS{CAFile: dir.CACert(), CertFile: cert, KeyFile: key, TrustDomain: pki.TrustDomain, SRE: []string{"oncall"}},
	}
	conf := filepath.Join(t.TempDir(), "t1.conf")
	if err := os.WriteFile(conf, []byte(n.Config()), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("nats-server rejects the rendered config: %v\n%s", err, n.Config())
	}
	return n, opts
}

// The file grants exactly the users and permissions of the table, and
// requires TLS with certificate mapping on clients and routes.
func TestRenderedConfigGrantsExactlyTheTable(t *testing.T) {
	_, opts := node(t, devPKI(t))
	want := natsacl.Users(pki.TrustDomain, "oncall")
	if len(opts.Users) != len(want) {
		t.Fatalf("config has %d users, table %d", len(opts.Users), len(want))
	}
	for i, u := range want {
		got := opts.Users[i]
		if got.Username != u.Username || !reflect.DeepEqual(got.Permissions, u.Permissions) {
			t.Errorf("user %d: config %s %+v, table %s %+v", i, got.Username, got.Permissions, u.Username, u.Permissions)
		}
	}
	if !opts.TLSMap || opts.TLSConfig == nil || opts.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert || opts.TLSConfig.MinVersion != tls.VersionTLS13 {
		t.Errorf("clients: TLSMap %v, TLS config %v; want verify_and_map (verified client certificates) over TLS 1.3", opts.TLSMap, opts.TLSConfig != nil)
	}
	if !opts.Cluster.TLSMap || opts.Cluster.TLSConfig == nil || opts.Cluster.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert || opts.Cluster.Username != "spiffe://"+pki.TrustDomain+"/"+natsacl.ClusterIdentity {
		t.Errorf("routes: TLSMap %v, user %q; want verify_and_map pinned to the cluster identity", opts.Cluster.TLSMap, opts.Cluster.Username)
	}
}

// A running server from the rendered file admits a service by its
// certificate with that service's permissions, and nobody else.
func TestRenderedConfigAdmitsServicesByCertificateOnly(t *testing.T) {
	dir := devPKI(t)
	_, opts := node(t, dir)
	opts.Cluster = server.ClusterOpts{} // a single node is enough here
	opts.Routes = nil
	opts.NoSigs, opts.NoLog = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	connect := func(files pki.Files, opts ...nats.Option) (*nats.Conn, error) {
		cfg, err := files.ClientTLS()
		if err != nil {
			t.Fatal(err)
		}
		return nats.Connect(s.ClientURL(), append(opts, nats.Secure(cfg), nats.MaxReconnects(0))...)
	}

	violations := make(chan error, 4)
	nc, err := connect(dir.Files("service/intake"), nats.CustomInboxPrefix(natsacl.InboxPrefix("intake")),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { violations <- err }))
	if err != nil {
		t.Fatalf("intake with its certificate: %v", err)
	}
	defer nc.Close()
	if err := nc.Publish("ddr.req.r1.assessment.opened", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-violations:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Errorf("intake publishing assessment's event: %v, want a permissions violation", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("intake published assessment's event without a permissions violation")
	}

	// A certificate from the CA that names no NATS user: no connection.
	if nc, err := connect(dir.Files("group-member/acme-eu")); err == nil {
		nc.Close()
		t.Error("a group member's certificate connected to NATS")
	}
	// The right name from another CA: no handshake.
	other := devPKI(t)
	foreign := dir.Files("service/intake")
	foreign.Cert, foreign.Key = other.Cert("service/intake")
	if nc, err := connect(foreign); err == nil {
		nc.Close()
		t.Error("service/intake's name on a certificate of another CA connected to NATS")
	}
}

// errLog keeps a server's error lines.
type errLog struct{ errs chan string }

func (l errLog) Noticef(string, ...any) {}
func (l errLog) Warnf(string, ...any)   {}
func (l errLog) Fatalf(string, ...any)  {}
func (l errLog) Debugf(string, ...any)  {}
func (l errLog) Tracef(string, ...any)  {}
func (l errLog) Errorf(format string, v ...any) {
	select {
	case l.errs <- fmt.Sprintf(format, v...):
	default:
	}
}

// startNode renders n, starts it in this process and returns it.
func startNode(t *testing.T, n natsacl.Node, log server.Logger) *server.Server {
	t.Helper()
	conf := filepath.Join(t.TempDir(), n.Name+".conf")
	if err := os.WriteFile(conf, []byte(n.Config()), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	opts.NoSigs = true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if log != nil {
		s.SetLoggerV2(log, false, false, false)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatalf("%s not ready", n.Name)
	}
	return s
}

// A route is accepted from a node's certificate only: a service's
// certificate, issued by the same CA, cannot join the cluster (and so
// cannot bypass its NATS permissions through a route).
func TestRoutesAdmitOnlyTheClusterIdentity(t *testing.T) {
	dir := devPKI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	route := []string{fmt.Sprintf("nats-route://127.0.0.1:%d", port)}
	nodeTLS := func(identity string) *natsacl.NodeTLS {
		cert, key := dir.Cert(identity)
		return &natsacl.NodeTLS{CAFile: dir.CACert(), CertFile: cert, KeyFile: key, TrustDomain: pki.TrustDomain}
	}
	node := func(name string, clusterPort int, identity string) natsacl.Node {
		return natsacl.Node{Name: name, Port: -1, StoreDir: filepath.Join(t.TempDir(), "js"),
			ClusterName: "ddr", ClusterPort: clusterPort, Routes: route, TLS: nodeTLS(identity)}
	}

	log := errLog{errs: make(chan string, 64)}
	a := startNode(t, node("a", port, natsacl.ClusterIdentity), log)
	startNode(t, node("intruder", -1, "service/intake"), nil)
	startNode(t, node("c", -1, natsacl.ClusterIdentity), nil)

	// Both have dialled a; wait for c's route and for a's refusal of the
	// intruder's.
	deadline := time.After(30 * time.Second)
	refused := false
	for !refused || a.NumRoutes() == 0 {
		select {
		case e := <-log.errs:
			if strings.Contains(e, "rid:") && strings.Contains(e, server.ErrAuthentication.Error()) {
				refused = true
			}
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("after 30s: route refused %v, routes of a %d", refused, a.NumRoutes())
		}
	}
	rz, err := a.Routez(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rz.Routes {
		if r.RemoteName == "intruder" {
			t.Fatal("a node presenting service/intake's certificate became a route")
		}
	}
}
