package images_test

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/ddrsuite/ddr/deploy/images"
)

// An image read back from its OCI layout runs its static binary as the
// non-root user, carries the version and commit labels, and holds the CA
// certificates and nothing of a base image.
func TestImageIsNonRootStaticAndLabelled(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "hello")
	build := exec.Command("go", "build", "-trimpath", "-tags", "timetzdata", "-o", bin, "./testdata/hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ca := []byte("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n")
	created := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	img, err := images.Image(images.Spec{Name: "hello", Binary: b, Arch: runtime.GOARCH, CACerts: ca, Version: "0.1.0", Commit: "0123abcd", Source: "https://example.com/ddr", Created: created})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "layout", "hello")
	if err := images.WriteLayout(out, img, "ddr/hello:0.1.0"); err != nil {
		t.Fatal(err)
	}

	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "ddr/hello:0.1.0" {
		t.Fatalf("index: %+v", im.Manifests)
	}
	got, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if mt, err := got.MediaType(); err != nil || !strings.Contains(string(mt), "oci") {
		t.Errorf("manifest media type %q (%v), want OCI", mt, err)
	}
	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != images.User || strings.HasPrefix(c.User, "0") || c.User == "" {
		t.Errorf("user %q, want the non-root %s", c.User, images.User)
	}
	if len(c.Entrypoint) != 1 || c.Entrypoint[0] != "/usr/local/bin/hello" {
		t.Errorf("entrypoint %q", c.Entrypoint)
	}
	for k, want := range map[string]string{images.LabelVersion: "0.1.0", images.LabelRevision: "0123abcd", images.LabelTitle: "hello", images.LabelSource: "https://example.com/ddr"} {
		if c.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], want)
		}
	}
	if !cf.Created.Equal(created) || cf.OS != "linux" {
		t.Errorf("created %v os %s", cf.Created, cf.OS)
	}

	layers, err := got.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers (%v), want 1 on an empty base", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
	}
	if h := files["usr/local/bin/hello"]; h == nil || h.Mode != 0o755 || h.Size != int64(len(b)) {
		t.Errorf("binary: %+v", h)
	}
	if h := files["etc/ssl/certs/ca-certificates.crt"]; h == nil || h.Size != int64(len(ca)) {
		t.Errorf("CA certificates: %+v", h)
	}
	if h := files["home/nonroot/"]; h == nil || h.Uid != images.UID {
		t.Errorf("home of the non-root user: %+v", h)
	}
	if len(files) > 15 {
		t.Errorf("%d entries: more than the binary, the user and the certificates", len(files))
	}
}

// A binary that needs a dynamic loader is refused: the image has none.
func TestDynamicBinaryIsRefused(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	// The race-enabled test binary links libc; a plain one may be static.
	if images.CheckStatic(b) == nil {
		t.Skip("this test binary is static; nothing dynamic to refuse")
	}
	if _, err := images.Image(images.Spec{Name: "x", Binary: b, CACerts: []byte("x")}); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Fatalf("a dynamic binary: %v", err)
	}
}
