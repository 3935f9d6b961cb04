// Command ddr-natsconf renders the nats-server configurations of the
// secure 3-node cluster (deploy/nats) from the code's permission table
// (package natsacl), and provisions a cluster before the services start.
//
//	go run ./services/platform/cmd/ddr-natsconf -out deploy/nats          # make natsconf
//	go run ./services/platform/cmd/ddr-natsconf -provision \
//	    -nats-url tls://127.0.0.1:4221,tls://127.0.0.1:4222,tls://127.0.0.1:4223 -pki-dir ./data/pki
//
// Provisioning creates the DDR and DDR_DLQ streams and the data-key bucket
// as the admin identity (service/ddr): a service's own NATS user may not
// create or change them, so the separate service processes only check that
// they exist.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsacl"
	"github.com/ddrsuite/ddr/services/platform/pki"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

func main() {
	out := flag.String("out", "deploy/nats", "directory of the rendered n1.conf, n2.conf, n3.conf")
	provision := flag.Bool("provision", false, "create the streams and the data-key bucket on -nats-url instead of rendering")
	natsURL := flag.String("nats-url", "tls://127.0.0.1:4221,tls://127.0.0.1:4222,tls://127.0.0.1:4223", "with -provision: the cluster's client URLs")
	pkiDir := flag.String("pki-dir", "./data/pki", "with -provision: the PKI holding service/ddr's certificate")
	replicas := flag.Int("replicas", 3, "with -provision: replicas of the streams and the bucket")
	flag.Parse()
	var err error
	if *provision {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = provisionCluster(ctx, *natsURL, pki.Dir(*pkiDir), *replicas)
		cancel()
	} else {
		err = render(*out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ddr-natsconf:", err)
		os.Exit(1)
	}
}

func render(dir string) error {
	// The configs are committed (deploy/nats) and read by nats-server under
	// whatever uid runs it; they name files and subjects, no secret.
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // G301: public, committed configs (above)
		return err
	}
	for _, n := range natsacl.DeployCluster() {
		path := filepath.Join(dir, n.Name+".conf")
		if err := os.WriteFile(path, []byte(n.Config()), 0o644); err != nil { //nolint:gosec // G306: public, committed configs (above)
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}

func provisionCluster(ctx context.Context, url string, dir pki.Dir, replicas int) error {
	tlsCfg, err := dir.Files("service/" + natsacl.Admin).ClientTLS()
	if err != nil {
		return err
	}
	nc, err := nats.Connect(url, nats.Name("ddr-natsconf"), nats.Secure(tlsCfg),
		nats.CustomInboxPrefix(natsacl.InboxPrefix(natsacl.Admin)))
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := runner.Provision(ctx, nc, replicas); err != nil {
		return err
	}
	fmt.Printf("provisioned %s, %s and %s at %d replicas\n", eventstore.StreamName, eventstore.DLQStreamName, keys.Bucket, replicas)
	return nil
}
