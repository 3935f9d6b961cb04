// Command ddr-images builds ddr's OCI images (`make images`): each binary
// statically (CGO_ENABLED=0, the time zone database embedded), then an
// image of it from an empty base (package images), written as an OCI
// image layout <out>/<name>.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/deploy/images"
)

// binaries are the images: name -> package, built in the ddr workspace.
var binaries = map[string]string{
	"intake":       "./services/intake/cmd/intake",
	"assessment":   "./services/assessment/cmd/assessment",
	"notification": "./services/notification/cmd/notification",
	"reporting":    "./services/reporting/cmd/reporting",
	"ddr":          "./services/allinone/cmd/ddr",
	"ddrctl":       "./services/ddrctl/cmd/ddrctl",
	"ddr-natsconf": "./services/platform/cmd/ddr-natsconf",
	// The NATS server of deploy/k8s, from the Go module the platform
	// requires, so the cluster runs the version the tests ran.
	"nats-server": "github.com/nats-io/nats-server/v2",
}

func main() {
	root := flag.String("root", ".", "the repository root (where go.work is)")
	out := flag.String("out", ".build/images", "directory of the OCI image layouts")
	version := flag.String("version", "dev", "image tag and version label")
	commit := flag.String("commit", "", "revision label (the git commit)")
	created := flag.Int64("created", 0, "image time, Unix seconds (the commit's, so a rebuild is identical)")
	source := flag.String("source", "https://github.com/ddrsuite/ddr", "source label")
	arch := flag.String("arch", runtime.GOARCH, "GOARCH of the images")
	caFile := flag.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates to put in the images")
	flag.Parse()
	err := run(context.Background(), *root, *out, *caFile, *arch, images.Spec{Version: *version, Commit: *commit, Source: *source, Created: time.Unix(*created, 0).UTC()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ddr-images:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root, out, caFile, arch string, base images.Spec) error {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("CA certificates (the ca-certificates package): %w", err)
	}
	binDir, err := os.MkdirTemp("", "ddr-images")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	for name, pkg := range binaries {
		if err := build(ctx, root, filepath.Join(binDir, name), pkg, arch, base.Version); err != nil {
			return err
		}
		bin, err := os.ReadFile(filepath.Join(binDir, name))
		if err != nil {
			return err
		}
		s := base
		s.Name, s.Binary, s.Arch, s.CACerts = name, bin, arch, ca
		img, err := images.Image(s)
		if err != nil {
			return err
		}
		ref := "ddr/" + name + ":" + base.Version
		if err := images.WriteLayout(filepath.Join(out, name), img, ref); err != nil {
			return err
		}
		d, err := img.Digest()
		if err != nil {
			return err
		}
		fmt.Printf("%-40s %s  %s\n", ref, d, filepath.Join(out, name))
	}
	return nil
}

// build builds pkg statically for linux/arch in the workspace (whatever
// GOWORK this command runs under).
func build(ctx context.Context, root, out, pkg, arch, version string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "timetzdata",
		"-ldflags", "-s -w -X github.com/ddrsuite/ddr/services/ddrctl/internal/cli.Version="+version, "-o", out, pkg)
	cmd.Dir = root
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GOWORK=") {
			env = append(env, e)
		}
	}
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}
