// Command ddr-pki creates the development PKI the suite runs on by default:
// a CA, a certificate per service (server and client, SANs localhost and
// 127.0.0.1) and per development identity, the staff roles file, and, in a
// secrets directory outside the data directory, the key-encryption key and
// the fingerprint key. Run again, it keeps what is valid and renews the rest.
//
//	go run ./services/platform/cmd/ddr-pki -dir ./data/pki -secrets ./secrets
//
// The revoke subcommand adds certificates to the CA's revocation list,
// <dir>/crl.pem, which running processes reload at their next handshake:
//
//	go run ./services/platform/cmd/ddr-pki revoke -dir ./data/pki ./data/pki/staff/alice.crt
//
// It also runs the KEK's lifecycle, on the host that holds the secrets
// (these are not ddrctl commands: ddrctl speaks to the services over the
// API, and the KEK must never cross it; the keys are files on this host):
//
//	ddr-pki recovery-key -out FILE             a new recovery key (keep it offline)
//	ddr-pki backup  -kek FILE -recovery FILE -out BACKUP
//	ddr-pki restore -backup BACKUP -recovery FILE -kek FILE
//	ddr-pki rotate  -data-dir ./data -kek FILE  (a single-node suite, stopped)
//	ddr-pki signing-key [-out FILE] [-name NAME]  the transparency signing key, beside the KEK
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsx"
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
	var err error
	if len(os.Args) > 1 && os.Args[1] != "" && os.Args[1][0] != '-' {
		err = sub(os.Args[1], os.Args[2:])
	} else {
		dir := flag.String("dir", "./data/pki", "directory of the PKI")
		secrets := flag.String("secrets", runner.SecretsDir("./data"), "directory of the KEK and the fingerprint key (outside the data directory)")
		flag.Parse()
		err = run(pki.Dir(*dir), *secrets)
	}
	if err != nil {
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

func run(dir pki.Dir, secrets string) error {
	_, written, err := pki.Ensure(dir, pki.EnsureOptions{})
	if err != nil {
		return err
	}
	for _, f := range written {
		fmt.Println("wrote", f)
	}
	roles := filepath.Join(string(dir), runner.RolesFileName)
	if ok, err := authz.WriteRoles(roles, authz.DevRoles()); err != nil {
		return err
	} else if ok {
		fmt.Println("wrote", roles)
	} else if added, err := addDevSubjects(roles); err != nil {
		return err
	} else if added {
		fmt.Println("added the dev OpenID provider's users (oidc_subjects) to", roles)
	}
	kek := filepath.Join(secrets, runner.KEKFileName)
	// The KEK used to live in the PKI directory, inside the data: move it
	// out rather than make a new one (which would leave the data sealed
	// for good).
	for _, f := range []string{runner.KEKFileName, keys.FingerprintKeyFileName} {
		legacy, dst := filepath.Join(string(dir), f), filepath.Join(secrets, f)
		if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(legacy); err == nil {
				if err := os.MkdirAll(secrets, 0o700); err != nil {
					return err
				}
				if err := os.Rename(legacy, dst); err != nil {
					return err
				}
				fmt.Println("moved", legacy, "to", dst)
			}
		}
	}
	if ok, err := keys.EnsureKEKFile(kek); err != nil {
		return err
	} else if ok {
		fmt.Println("wrote", kek)
	}
	if _, err := os.Stat(filepath.Join(secrets, keys.FingerprintKeyFileName)); errors.Is(err, os.ErrNotExist) {
		fp, err := keys.EnsureFingerprintKeyFile(kek)
		if err != nil {
			return err
		}
		fmt.Println("wrote", fp)
	}
	fmt.Printf("PKI ready in %s (CA %s), keys in %s\n", dir, dir.CACert(), secrets)
	return nil
}

func sub(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	kekFile := fs.String("kek", filepath.Join(runner.SecretsDir("./data"), runner.KEKFileName), "KEK file")
	recovery := fs.String("recovery", "", "recovery key file")
	out := fs.String("out", "", "file to write")
	backup := fs.String("backup", "", "KEK backup file")
	dataDir := fs.String("data-dir", "./data", "the (stopped) suite's data directory")
	keyName := fs.String("name", "ddr-transparency", "signing-key: the key's name in its signatures (e.g. the website's host)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch name {
	case "recovery-key":
		if *out == "" {
			return errors.New("recovery-key: -out is required")
		}
		if err := keys.NewKeyFile(*out); err != nil {
			return err
		}
		fmt.Println("wrote", *out, "(keep it offline, apart from the KEK and the data)")
	case "backup":
		kek, rk, err := load(*kekFile, *recovery)
		if err != nil {
			return err
		}
		b, err := keys.BackupKEK(kek, rk)
		if err != nil {
			return err
		}
		if *out == "" {
			return errors.New("backup: -out is required")
		}
		if err := os.WriteFile(*out, b, 0o400); err != nil { //nolint:gosec // G703: the path is the operator's own flag; this CLI runs with their rights.
			return err
		}
		fmt.Printf("wrote %s (KEK %s sealed under the recovery key)\n", *out, keys.KEKID(kek))
	case "restore":
		rk, err := keys.LoadKEKFile(*recovery)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(*backup) //nolint:gosec // G703: the path is the operator's own flag; this CLI runs with their rights.
		if err != nil {
			return err
		}
		kek, err := keys.RestoreKEK(b, rk)
		if err != nil {
			return err
		}
		if err := keys.WriteKeyFile(*kekFile, kek); err != nil {
			return err
		}
		fmt.Printf("restored KEK %s to %s\n", keys.KEKID(kek), *kekFile)
	case "rotate":
		return rotate(*dataDir, *kekFile)
	case "signing-key":
		// The transparency signing key (clause 5.1) lives with the KEK. To
		// rotate it, make a new one and start reporting with the new file
		// and the old as --reporting-previous-signing-key-file: the next
		// publication publishes the new key signed by both.
		if *out == "" {
			*out = filepath.Join(filepath.Dir(*kekFile), keys.SigningKeyFileName)
		}
		vkey, err := keys.NewSigningKeyFile(*out, *keyName)
		if err != nil {
			return err
		}
		fmt.Printf("wrote %s; its public key, to publish and to give DPAs:\n%s\n", *out, vkey)
	default:
		return fmt.Errorf("unknown command %q (recovery-key, backup, restore, rotate, signing-key)", name)
	}
	return nil
}

func load(kekFile, recovery string) (kek, rk []byte, err error) {
	if kek, err = keys.LoadKEKFile(kekFile); err != nil {
		return nil, nil, err
	}
	if rk, err = keys.LoadKEKFile(recovery); err != nil {
		return nil, nil, fmt.Errorf("recovery key: %w", err)
	}
	return kek, rk, nil
}

// rotate re-wraps every data key of the stopped suite's data directory
// under a new KEK, then replaces the KEK file: the old KEK is gone.
func rotate(dataDir, kekFile string) error {
	old, err := keys.LoadKEKFile(kekFile)
	if err != nil {
		return err
	}
	// An interrupted rotation left its new KEK here: go on with it (keys
	// it re-wrapped already are recognised).
	next := kekFile + ".new"
	if _, err := os.Stat(next); errors.Is(err, os.ErrNotExist) { //nolint:gosec // G703: the path is the operator's own flag; this CLI runs with their rights.
		if err := keys.NewKeyFile(next); err != nil {
			return err
		}
	}
	newKEK, err := keys.LoadKEKFile(next)
	if err != nil {
		return err
	}
	s, err := natsx.StartEmbedded(natsx.EmbeddedConfig{StoreDir: filepath.Join(dataDir, "jetstream"), Port: natsx.RandomPort, SyncAlways: true}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer natsx.Shutdown(s)
	nc, err := natsx.ConnectInProcess(s, "ddr-pki")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	kr, err := keys.Lazy(js, old)
	if err != nil {
		return err
	}
	n, err := kr.RotateKEK(context.Background(), newKEK)
	if err != nil {
		return fmt.Errorf("rotation stopped after %d keys (run it again: keys done are kept): %w", n, err)
	}
	if err := os.Rename(next, kekFile); err != nil { //nolint:gosec // G703: the path is the operator's own flag; this CLI runs with their rights.
		return err
	}
	fmt.Printf("re-wrapped %d data keys under KEK %s; KEK %s retired. Back up the new KEK now (ddr-pki backup).\n", n, keys.KEKID(newKEK), keys.KEKID(old))
	return nil
}

// addDevSubjects gives a roles file written before the console (issue 23)
// the dev provider's users, so `make run` signs them in; a file that has
// oidc_subjects, even empty, is the operator's and stays as it is.
func addDevSubjects(path string) (bool, error) {
	f, err := authz.LoadRoles(path)
	if err != nil || f.OIDCSubjects != nil {
		return false, err
	}
	f.OIDCSubjects = authz.DevSubjects()
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return false, err
	}
	return true, os.WriteFile(path, append(b, '\n'), 0o644) //nolint:gosec // G306: public configuration, like the certificates
}
