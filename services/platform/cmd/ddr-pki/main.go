// Command ddr-pki creates the development PKI the suite runs on by default:
// a CA, a certificate per service (server and client, SANs localhost and
// 127.0.0.1) and per development identity, the staff roles file and the
// key-encryption key. Run again, it keeps what is valid and renews the rest.
//
//	go run ./services/platform/cmd/ddr-pki -dir ./data/pki
//
// The revoke subcommand adds certificates to the CA's revocation list,
// <dir>/crl.pem, which running processes reload at their next handshake:
//
//	go run ./services/platform/cmd/ddr-pki revoke -dir ./data/pki ./data/pki/staff/alice.crt
package main

import (
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/pki"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "revoke" {
		fs := flag.NewFlagSet("ddr-pki revoke", flag.ExitOnError)
		dir := fs.String("dir", "./data/pki", "directory of the PKI")
		fs.Usage = func() {
			fmt.Fprintln(fs.Output(), "usage: ddr-pki revoke [-dir DIR] CERT.crt...")
			fs.PrintDefaults()
		}
		_ = fs.Parse(os.Args[2:])
		if fs.NArg() == 0 {
			fs.Usage()
			os.Exit(2)
		}
		if err := revoke(pki.Dir(*dir), fs.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "ddr-pki:", err)
			os.Exit(1)
		}
		return
	}
	dir := flag.String("dir", "./data/pki", "directory of the PKI")
	flag.Parse()
	if err := run(pki.Dir(*dir)); err != nil {
		fmt.Fprintln(os.Stderr, "ddr-pki:", err)
		os.Exit(1)
	}
}

// revoke puts each certificate file on the CA's revocation list.
func revoke(dir pki.Dir, certFiles []string) error {
	for _, f := range certFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE" {
			return fmt.Errorf("%s: no PEM certificate", f)
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		crl, err := pki.Revoke(dir, cert, time.Now())
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Printf("revoked %s (serial %s) in %s\n", f, cert.SerialNumber, crl)
	}
	return nil
}

func run(dir pki.Dir) error {
	_, written, err := pki.Ensure(dir, pki.EnsureOptions{})
	if err != nil {
		return err
	}
	for _, f := range written {
		fmt.Println("wrote", f)
	}
	roles := filepath.Join(string(dir), runner.RolesFileName)
	if ok, err := authz.WriteStaff(roles, authz.DevStaff()); err != nil {
		return err
	} else if ok {
		fmt.Println("wrote", roles)
	}
	kek := filepath.Join(string(dir), runner.KEKFileName)
	if ok, err := keys.EnsureKEKFile(kek); err != nil {
		return err
	} else if ok {
		fmt.Println("wrote", kek)
	}
	if _, err := keys.EnsureFingerprintKeyFile(kek); err != nil {
		return err
	}
	fmt.Printf("PKI ready in %s (CA %s)\n", dir, dir.CACert())
	return nil
}
