// Command ddr-cluster runs the deployment layout on one machine (`make
// run-cluster`): the 3-node NATS JetStream cluster of deploy/nats (TLS on
// clients and routes, one NATS user per service), the streams and buckets
// at 3 replicas, and two replicas of each service as processes of their
// own. Interrupt it (Ctrl-C) and it stops them all: the services drain and
// stop first, then the nodes.
//
// Run it from the repository root after `make certs`: the node
// configurations it starts nats-server on are the committed
// deploy/nats/n{1,2,3}.conf, which name ./data/pki and ./data/nats.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ddrsuite/ddr/services/loadgen/faults"
	"github.com/ddrsuite/ddr/services/loadgen/launch"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/natsacl"
)

// The services' fixed addresses: replica i of the k-th service listens on
// gRPC port 7601+k+10i and serves metrics on 9471+k+10i (intake 7601 and
// 7611, assessment 7602 and 7612, ...), beside deploy/README.md's
// single-replica ports.
const (
	grpcBase    = 7601
	metricsBase = 9471
)

func main() {
	bin := flag.String("bin", ".build/cluster", "directory the service binaries and nats-server are built into")
	dir := flag.String("dir", "data/cluster", "directory of the service replicas' data and of every process's log")
	pkiDir := flag.String("pki-dir", "data/pki", "the PKI deploy/nats names (make certs)")
	kek := flag.String("kek-file", "secrets/kek", "the key-encryption key every replica shares (make certs)")
	conf := flag.String("nats-conf", "deploy/nats", "directory of the nodes' configurations")
	perService := flag.Int("replicas-per-service", 2, "processes of each service")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *bin, *dir, *pkiDir, *kek, *conf, *perService); err != nil {
		fmt.Fprintln(os.Stderr, "ddr-cluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, bin, dir, pkiDir, kek, conf string, perService int) error {
	for _, f := range []string{filepath.Join(pkiDir, "ca.crt"), kek} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%w (run make certs first)", err)
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	fmt.Fprintf(out, "building the services and nats-server into %s\n", bin)
	bctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	err := faults.Build(bctx, bin)
	cancel()
	if err != nil {
		return err
	}
	sec := launch.Security{PKIDir: pkiDir, KEKFile: kek}
	env := &faults.Env{Dir: dir, Bin: bin, Sec: sec, PerService: perService,
		Port: func(svc string, i int) int { return grpcBase + index(svc) + 10*i },
		Extra: func(svc string, i int) []string {
			return []string{
				"--metrics-addr", "127.0.0.1:" + strconv.Itoa(metricsBase+index(svc)+10*i),
				// A person's rate, as a deployment runs (launch.Command
				// turns the limit off for load runs).
				"--rate-limit", strconv.FormatFloat(grpcserver.DefaultRateLimit, 'f', -1, 64),
			}
		},
	}
	defer func() {
		fmt.Fprintln(out, "stopping: services first, then the NATS nodes")
		env.Close()
		fmt.Fprintln(out, "stopped")
	}()
	// The committed node configurations, as deploy/README.md starts them.
	env.Nodes = natsacl.DeployCluster()
	for _, n := range env.Nodes {
		p, err := launch.Start(n.Name, exec.Command(filepath.Join(bin, "nats-server"), "-c", filepath.Join(conf, n.Name+".conf")), filepath.Join(dir, n.Name+".log"))
		if err != nil {
			return err
		}
		env.NATS = append(env.NATS, p)
	}
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for _, n := range env.Nodes {
		if err := launch.WaitTCP(sctx, fmt.Sprintf("127.0.0.1:%d", n.Port)); err != nil {
			return fmt.Errorf("NATS node %s (see %s): %w", n.Name, filepath.Join(dir, n.Name+".log"), err)
		}
	}
	fmt.Fprintln(out, "NATS cluster up; provisioning the streams and buckets at 3 replicas, starting the services")
	// StartServices provisions as the admin identity, then starts each
	// replica and waits until it serves.
	if err := env.StartServices(sctx, 3); err != nil {
		return err
	}
	printLayout(out, env, pkiDir, dir)
	<-ctx.Done()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func index(svc string) int {
	for k, s := range faults.ServiceNames {
		if s == svc {
			return k
		}
	}
	panic("unknown service " + svc)
}

func printLayout(out io.Writer, env *faults.Env, pkiDir, dir string) {
	var urls []string
	for _, n := range env.Nodes {
		urls = append(urls, n.URL())
	}
	fmt.Fprintf(out, "\nddr cluster running (Ctrl-C stops it); logs in %s\n", dir)
	fmt.Fprintf(out, "  NATS     %s (monitoring http://127.0.0.1:8221 ... 8223)\n", strings.Join(urls, ","))
	for _, svc := range faults.ServiceNames {
		fmt.Fprintf(out, "  %-12s %s\n", svc, env.Target(svc))
	}
	fmt.Fprintf(out, `
ddrctl balances over a service's replicas when --addr lists them:
  go run ./services/ddrctl/cmd/ddrctl --pki-dir %[1]s --identity spiffe://ddr.local/group-member/acme-eu \
    --addr %[2]s request list
  go run ./services/ddrctl/cmd/ddrctl --pki-dir %[1]s --identity spiffe://ddr.local/staff/alice \
    --addr %[3]s case queue
`, pkiDir, env.Target("intake"), env.Target("assessment"))
}
