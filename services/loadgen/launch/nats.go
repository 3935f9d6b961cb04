package launch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/ddrsuite/ddr/services/platform/natsacl"
	"github.com/ddrsuite/ddr/services/platform/pki"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

// NATSNode is one nats-server process with JetStream, rendered by the same
// code as the committed deploy/nats configurations: with TLS set, TLS on
// clients and routes and the per-service users of package natsacl.
type NATSNode = natsacl.Node

// NodeTLS is the secure mode of a node over the security's PKI, or nil in
// the insecure development mode.
func (sec Security) NodeTLS() *natsacl.NodeTLS {
	if sec.PKIDir == "" {
		return nil
	}
	d := pki.Dir(sec.PKIDir)
	cert, key := d.Cert(natsacl.ClusterIdentity)
	return &natsacl.NodeTLS{CAFile: d.CACert(), CertFile: cert, KeyFile: key, TrustDomain: pki.TrustDomain, SRE: []string{"oncall"}}
}

// StartNATS writes the node's config into dir and starts bin on it.
func StartNATS(bin, dir string, n NATSNode) (*Proc, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, n.Name+".conf")
	if err := os.WriteFile(conf, []byte(n.Config()), 0o600); err != nil {
		return nil, err
	}
	cmd := execCommand(bin, "-c", conf)
	return Start(n.Name, cmd, filepath.Join(dir, n.Name+".log"))
}

// ConnectNATS connects to urls as the identity "kind/name" of the PKI
// (its certificate, and a service's own inbox prefix), or plainly in the
// insecure mode.
func ConnectNATS(sec Security, urls []string, kindName string) (*nats.Conn, error) {
	var opts []nats.Option
	if sec.PKIDir != "" {
		cfg, err := pki.Dir(sec.PKIDir).Files(kindName).ClientTLS()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(cfg))
		if svc, ok := strings.CutPrefix(kindName, "service/"); ok {
			opts = append(opts, nats.CustomInboxPrefix(natsacl.InboxPrefix(svc)))
		}
	}
	return nats.Connect(strings.Join(urls, ","), opts...)
}

// Provision creates the streams and the data-key bucket as the admin
// identity (service/ddr), as `ddr-natsconf -provision` does for deploy/nats:
// with mTLS a service's own user may not, and a service process waits for
// them. In the insecure mode every service creates them itself.
func Provision(ctx context.Context, sec Security, urls []string, replicas int) error {
	if sec.PKIDir == "" {
		return nil
	}
	nc, err := ConnectNATS(sec, urls, "service/"+natsacl.Admin)
	if err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	defer nc.Close()
	if err := runner.Provision(ctx, nc, replicas); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	return nil
}
