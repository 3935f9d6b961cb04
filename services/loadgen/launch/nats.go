package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// NATSNode is one nats-server process with JetStream.
type NATSNode struct {
	Name       string
	Port       int
	StoreDir   string
	SyncAlways bool
	// Cluster, when set, joins a cluster.
	ClusterName string
	ClusterPort int
	Routes      []string // nats-route://127.0.0.1:<port> of every member
}

// URL is the node's client URL.
func (n NATSNode) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.Port) }

// Config renders the node's configuration file (the format of
// deploy/nats/*.conf).
func (n NATSNode) Config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %s\nhost: 127.0.0.1\nport: %d\n", n.Name, n.Port)
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n", n.StoreDir)
	if n.SyncAlways {
		b.WriteString("  sync_interval: always\n")
	}
	b.WriteString("}\n")
	if n.ClusterName != "" {
		fmt.Fprintf(&b, "cluster {\n  name: %s\n  host: 127.0.0.1\n  port: %d\n  routes: [\n", n.ClusterName, n.ClusterPort)
		for _, r := range n.Routes {
			fmt.Fprintf(&b, "    %s\n", r)
		}
		b.WriteString("  ]\n}\n")
	}
	return b.String()
}

// StartNATS writes the node's config into dir and starts bin on it.
func StartNATS(bin, dir string, n NATSNode) (*Proc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, n.Name+".conf")
	if err := os.WriteFile(conf, []byte(n.Config()), 0o644); err != nil {
		return nil, err
	}
	cmd := execCommand(bin, "-c", conf)
	return Start(n.Name, cmd, filepath.Join(dir, n.Name+".log"))
}
