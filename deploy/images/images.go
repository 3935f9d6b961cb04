// Package images builds the OCI images of ddr without a Docker daemon or
// a base image (no registry is needed, none is reachable from a build
// machine): one layer on an empty base holding a static Go binary, the CA
// certificates and a non-root user; the time zone database is in the
// binary (built with -tags timetzdata). The images are written as OCI
// image layouts, which any registry client can push (crane, skopeo,
// oras) and a cluster node can import.
package images

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The non-root user every image runs as (distroless's "nonroot").
const (
	UID  = 65532
	User = "65532:65532"
	// BinDir holds the binary: the entrypoint is BinDir/<name>.
	BinDir = "/usr/local/bin"
	// CACertsPath is where the CA certificates go (Go's crypto/x509
	// looks there on Linux; SSL_CERT_FILE says so too).
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
)

// OCI image labels.
const (
	LabelTitle    = "org.opencontainers.image.title"
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
)

// Spec is one image.
type Spec struct {
	Name    string // the binary's name, the entrypoint
	Binary  []byte // a static linux executable
	Arch    string // GOARCH of Binary
	CACerts []byte // PEM bundle
	Version string
	Commit  string
	Source  string
	// Created is the image's time (the commit's, for builds that repeat
	// byte for byte).
	Created time.Time
}

// CheckStatic refuses an executable that needs a dynamic loader: the
// image has none.
func CheckStatic(binary []byte) error {
	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		return fmt.Errorf("images: not an ELF executable: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("images: the binary is dynamically linked (build with CGO_ENABLED=0)")
		}
	}
	return nil
}

// Image assembles the image of s.
func Image(s Spec) (v1.Image, error) {
	if err := CheckStatic(s.Binary); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	if len(s.CACerts) == 0 {
		return nil, fmt.Errorf("%s: no CA certificates", s.Name)
	}
	files, err := rootfs(s)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(files)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", s.Arch
	cf.Created = v1.Time{Time: s.Created}
	cf.Config = v1.Config{
		User:       User,
		Entrypoint: []string{BinDir + "/" + s.Name},
		WorkingDir: "/home/nonroot",
		Env:        []string{"SSL_CERT_FILE=" + CACertsPath},
		Labels: map[string]string{
			LabelTitle:    s.Name,
			LabelVersion:  s.Version,
			LabelRevision: s.Commit,
			LabelSource:   s.Source,
			LabelCreated:  s.Created.UTC().Format(time.RFC3339),
		},
	}
	return mutate.ConfigFile(img, cf)
}

// rootfs is the one layer: the user, the CA certificates, the binary.
func rootfs(s Spec) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mod := s.Created
	dir := func(name string, mode int64, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: mod})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mod}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	steps := []func() error{
		func() error { return dir("etc", 0o755, 0) },
		func() error {
			return file("etc/passwd", 0o644, fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, UID))
		},
		func() error { return file("etc/group", 0o644, fmt.Appendf(nil, "root:x:0:\nnonroot:x:%d:\n", UID)) },
		func() error { return dir("etc/ssl", 0o755, 0) },
		func() error { return dir("etc/ssl/certs", 0o755, 0) },
		func() error { return file(CACertsPath[1:], 0o644, s.CACerts) },
		func() error { return dir("home", 0o755, 0) },
		func() error { return dir("home/nonroot", 0o700, UID) },
		// Writable scratch for a process that needs one (the root file
		// system is read-only in deploy/k8s).
		func() error { return dir("tmp", 0o1777, 0) },
		func() error { return dir("usr", 0o755, 0) },
		func() error { return dir("usr/local", 0o755, 0) },
		func() error { return dir(BinDir[1:], 0o755, 0) },
		func() error { return file(BinDir[1:]+"/"+s.Name, 0o755, s.Binary) },
		tw.Close,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// WriteLayout writes img as an OCI image layout in dir (replacing what is
// there), its reference name ref (e.g. "ddr/intake:0.1.0") annotated.
func WriteLayout(dir string, img v1.Image, ref string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}))
}
