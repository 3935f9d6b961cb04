package natsacl

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ddrsuite/ddr/services/platform/pki"
)

// Node is one nats-server of a deployment, as [Node.Config] renders it.
type Node struct {
	Name     string
	Host     string // listen address of clients and routes; default 127.0.0.1
	Port     int    // clients
	HTTPPort int    // monitoring on Host; 0: none
	StoreDir string // JetStream
	// SyncAlways fsyncs every write before acknowledging it.
	SyncAlways bool
	// ClusterName, when set, joins the cluster of Routes on ClusterPort.
	ClusterName string
	ClusterPort int
	Routes      []string // nats-route://host:port of every member
	// TLS, when set, is the secure mode: TLS on client and route
	// connections, client certificates mapped to the users of [Users].
	// Nil renders a plaintext server without users (development only).
	TLS *NodeTLS
	// Header is the comment at the top of the file.
	Header string
}

// NodeTLS are the files and identities of a secure node.
type NodeTLS struct {
	CAFile, CertFile, KeyFile string
	// TrustDomain names the users: spiffe://<TrustDomain>/service/<name>.
	TrustDomain string
	// SRE are the operators given a user (state only, no messages).
	SRE []string
}

// ClusterIdentity is the "kind/name" every node's certificate carries: a
// route is accepted only from a certificate with this URI SAN, so no
// service's certificate can join the cluster and bypass its permissions.
const ClusterIdentity = "nats/cluster"

// URL is the node's client URL.
func (n Node) URL() string {
	scheme := "nats"
	if n.TLS != nil {
		scheme = "tls"
	}
	return fmt.Sprintf("%s://%s:%d", scheme, n.host(), n.Port)
}

func (n Node) host() string {
	if n.Host == "" {
		return "127.0.0.1"
	}
	return n.Host
}

// Config renders the node's nats-server configuration file. The users
// and their permissions are [Users], the same table the embedded server
// uses, so a standalone cluster grants exactly what the all-in-one does.
func (n Node) Config() string {
	var b strings.Builder
	if n.Header != "" {
		for _, l := range strings.Split(strings.TrimRight(n.Header, "\n"), "\n") {
			b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
		}
	}
	fmt.Fprintf(&b, "server_name: %s\nhost: %s\nport: %d\n", n.Name, n.host(), n.Port)
	if n.HTTPPort != 0 {
		fmt.Fprintf(&b, "http: %s\n", hostPort(n.host(), n.HTTPPort))
	}
	if t := n.TLS; t != nil {
		b.WriteString("\n# Clients: TLS 1.3 only, a certificate from the CA required; the URI SAN\n" +
			"# of the certificate is the NATS user (verify_and_map).\n")
		writeTLS(&b, "", t)
	}
	fmt.Fprintf(&b, "\njetstream {\n  store_dir: %s\n", strconv.Quote(n.StoreDir))
	if n.SyncAlways {
		b.WriteString("  # fsync every write before acknowledging it: a node crash or power loss\n" +
			"  # loses nothing acknowledged.\n  sync_interval: always\n")
	}
	b.WriteString("}\n")
	if n.ClusterName != "" {
		fmt.Fprintf(&b, "\ncluster {\n  name: %s\n  host: %s\n  port: %d\n", n.ClusterName, n.host(), n.ClusterPort)
		if t := n.TLS; t != nil {
			b.WriteString("  # Routes: TLS both ways, and only a node's certificate is a route.\n")
			writeTLS(&b, "  ", t)
			fmt.Fprintf(&b, "  authorization {\n    user: %s\n  }\n", strconv.Quote(spiffe(t.TrustDomain, ClusterIdentity)))
		}
		b.WriteString("  routes: [\n")
		for _, r := range n.Routes {
			fmt.Fprintf(&b, "    %s\n", r)
		}
		b.WriteString("  ]\n}\n")
	}
	if t := n.TLS; t != nil {
		b.WriteString("\n# One user per service (services/platform/natsacl): its own subjects,\n" +
			"# consumers and buckets only.\nauthorization {\n  users: [\n")
		for _, u := range Users(t.TrustDomain, t.SRE...) {
			writeUser(&b, u)
		}
		b.WriteString("  ]\n}\n")
	}
	return b.String()
}

func hostPort(host string, port int) string { return host + ":" + strconv.Itoa(port) }

func spiffe(trustDomain, kindName string) string { return "spiffe://" + trustDomain + "/" + kindName }

func writeTLS(b *strings.Builder, indent string, t *NodeTLS) {
	fmt.Fprintf(b, "%stls {\n", indent)
	for _, kv := range [][2]string{{"cert_file", t.CertFile}, {"key_file", t.KeyFile}, {"ca_file", t.CAFile}} {
		fmt.Fprintf(b, "%s  %s: %s\n", indent, kv[0], strconv.Quote(filepath.ToSlash(kv[1])))
	}
	fmt.Fprintf(b, "%s  min_version: \"1.3\"\n%s  verify_and_map: true\n%s  timeout: 5\n%s}\n", indent, indent, indent, indent)
}

func writeUser(b *strings.Builder, u *server.User) {
	fmt.Fprintf(b, "    {\n      user: %s\n", strconv.Quote(u.Username))
	if p := u.Permissions; p != nil {
		b.WriteString("      permissions: {\n")
		writeSubjects(b, "publish", p.Publish)
		writeSubjects(b, "subscribe", p.Subscribe)
		b.WriteString("      }\n")
	}
	b.WriteString("    }\n")
}

func writeSubjects(b *strings.Builder, name string, sp *server.SubjectPermission) {
	if sp == nil {
		return
	}
	fmt.Fprintf(b, "        %s: {\n", name)
	for _, l := range []struct {
		k string
		v []string
	}{{"allow", sp.Allow}, {"deny", sp.Deny}} {
		if len(l.v) == 0 {
			continue
		}
		fmt.Fprintf(b, "          %s: [\n", l.k)
		for _, s := range l.v {
			// Quoted: an unquoted $ starts a variable in this format.
			fmt.Fprintf(b, "            %s\n", strconv.Quote(s))
		}
		b.WriteString("          ]\n")
	}
	b.WriteString("        }\n")
}

// DeployCluster is the 3-node cluster of deploy/nats on one machine: client
// ports 4221-4223, routes 6221-6223, monitoring 8221-8223, data under
// ./data/nats/n<N> and the development PKI in ./data/pki (`make certs`),
// paths relative to the repository root, where the servers are started.
func DeployCluster() []Node {
	const pkiDir = "./data/pki"
	var routes []string
	for i := 1; i <= 3; i++ {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", 6220+i))
	}
	var nodes []Node
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("n%d", i)
		nodes = append(nodes, Node{
			Name: name, Host: "127.0.0.1", Port: 4220 + i, HTTPPort: 8220 + i,
			StoreDir: "./data/nats/" + name, SyncAlways: true,
			ClusterName: "ddr", ClusterPort: 6220 + i, Routes: routes,
			TLS: &NodeTLS{
				CAFile:   pkiDir + "/ca.crt",
				CertFile: pkiDir + "/" + ClusterIdentity + ".crt",
				KeyFile:  pkiDir + "/" + ClusterIdentity + ".key",
				// The development PKI's trust domain (package pki) and
				// the operator the all-in-one also admits.
				TrustDomain: pki.TrustDomain,
				SRE:         []string{"oncall"},
			},
			Header: fmt.Sprintf("GENERATED from services/platform/natsacl by ddr-natsconf: do not edit; `make natsconf` rewrites it.\n\n"+
				"ddr: node %d of a 3-node NATS JetStream cluster on one machine (loopback), secure mode:\n"+
				"TLS on client and route connections, each service's client certificate mapped to its\n"+
				"user. The DDR stream runs at 3 replicas, so any one node can stop without losing an\n"+
				"acknowledged event or the ability to write.\n"+
				"Start from the repository root: make certs; .build/bin/nats-server -c deploy/nats/%s.conf", i, name),
		})
	}
	return nodes
}
