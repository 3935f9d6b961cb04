// Command ddr-pki creates the development PKI the suite runs on by default:
// a CA, a certificate per service (server and client, SANs localhost and
// 127.0.0.1) and per development identity, the staff roles file and the
// key-encryption key. Run again, it keeps what is valid and renews the rest.
//
//	go run ./services/platform/cmd/ddr-pki -dir ./data/pki
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/pki"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

func main() {
	dir := flag.String("dir", "./data/pki", "directory of the PKI")
	flag.Parse()
	if err := run(pki.Dir(*dir)); err != nil {
		fmt.Fprintln(os.Stderr, "ddr-pki:", err)
		os.Exit(1)
	}
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
