// Package launch starts the processes of a load or fault run (the ddr
// service binaries and nats-server) and dials them. Every service process
// gets its flags from [Command] and every client its credentials from
// [Dial], so how the suite authenticates (development identity header or
// mTLS) is decided in one place.
package launch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/pki"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

// Security is how services and clients authenticate.
type Security struct {
	// PKIDir, when set, is a development PKI (see package pki): services
	// serve mTLS and clients present certificates issued by its CA. Empty
	// runs the insecure development mode (--dev-identity).
	PKIDir string
	// KEKFile is the key-encryption key every process shares (it must
	// exist), outside every data directory; the fingerprint key is beside
	// it.
	KEKFile string
}

// DevPKI makes dir a complete development PKI, as `make certs` does: the
// CA and certificates (services, NATS nodes, people), the staff roles and
// the key-encryption key every service process shares.
func DevPKI(dir string) (Security, error) {
	if _, _, err := pki.Ensure(pki.Dir(dir), pki.EnsureOptions{}); err != nil {
		return Security{}, err
	}
	if _, err := authz.WriteStaff(filepath.Join(dir, runner.RolesFileName), authz.DevStaff()); err != nil {
		return Security{}, err
	}
	// The keys live outside the data directories, as the runner requires:
	// in secrets/ beside the PKI directory.
	secrets := filepath.Join(filepath.Dir(filepath.Clean(dir)), "secrets")
	if err := os.MkdirAll(secrets, 0o700); err != nil {
		return Security{}, err
	}
	kek := filepath.Join(secrets, runner.KEKFileName)
	if _, err := keys.EnsureKEKFile(kek); err != nil {
		return Security{}, err
	}
	// The processes load the fingerprint key from beside the KEK.
	if _, err := keys.EnsureFingerprintKeyFile(kek); err != nil {
		return Security{}, err
	}
	return Security{PKIDir: dir, KEKFile: kek}, nil
}

// Service is one service process.
type Service struct {
	Bin      string // path of the binary, e.g. .build/bin/intake
	Name     string // intake, assessment, notification or reporting
	GRPCAddr string
	NATSURLs []string
	Replicas int
	DataDir  string // the process's own files (its PKI copy, the KEK)
	Extra    []string
}

// Command returns the command running s. It is the one place the flags of
// a service process are chosen.
func Command(sec Security, s Service) *exec.Cmd {
	args := []string{
		"--grpc-addr", s.GRPCAddr,
		"--nats-url", strings.Join(s.NATSURLs, ","),
		"--replicas", strconv.Itoa(max(s.Replicas, 1)),
		"--data-dir", s.DataDir,
		"--metrics-addr", "",
		"--log-json",
		// The load and fault runs measure throughput and durability: one
		// staff identity polls every request, far beyond a person's rate,
		// so the per-caller limit (tested on its own) is off here.
		"--rate-limit", "0",
	}
	if sec.KEKFile != "" {
		// Every process seals and opens personal data with one key.
		args = append(args, "--kek-file", sec.KEKFile)
	}
	if sec.PKIDir == "" {
		args = append(args, "--dev-identity")
	} else {
		args = append(args, "--pki-dir", sec.PKIDir)
	}
	args = append(args, s.Extra...)
	return exec.Command(s.Bin, args...)
}

// Dial connects to addr as the caller uri (a SPIFFE-style URI).
func Dial(sec Security, addr, uri string) (*grpc.ClientConn, error) {
	if sec.PKIDir == "" {
		id, err := auth.ParseSPIFFE(uri)
		if err != nil {
			return nil, err
		}
		return grpcclient.Dial(addr, grpcclient.WithDevIdentity(id))
	}
	cfg, err := clientTLS(pki.Dir(sec.PKIDir), uri)
	if err != nil {
		return nil, err
	}
	return grpcclient.Dial(addr, grpcclient.WithTLS(cfg))
}

var caCache sync.Map // pki dir -> *pki.CA

// clientTLS issues a short-lived certificate for uri from the PKI's CA, so
// any number of distinct group members can call.
func clientTLS(dir pki.Dir, uri string) (*tls.Config, error) {
	v, ok := caCache.Load(dir)
	if !ok {
		ca, err := pki.LoadCA(dir)
		if err != nil {
			return nil, err
		}
		v, _ = caCache.LoadOrStore(dir, ca)
	}
	ca, ok := v.(*pki.CA)
	if !ok {
		return nil, fmt.Errorf("CA cache holds %T for %s", v, dir)
	}
	leaf, err := ca.Issue(uri, time.Hour)
	if err != nil {
		return nil, err
	}
	cert, err := leaf.TLS()
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: ca.Pool(), Certificates: []tls.Certificate{cert}}, nil
}

// Proc is a started process that can be killed and started again with the
// same command line.
type Proc struct {
	Name string
	path string
	args []string
	env  []string
	log  *os.File

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts cmd with its output appended to logPath.
func Start(name string, cmd *exec.Cmd, logPath string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	p := &Proc{Name: name, path: cmd.Path, args: cmd.Args[1:], env: cmd.Env, log: f}
	if err := p.start(); err != nil {
		_ = f.Close()
		return nil, err
	}
	return p, nil
}

func (p *Proc) start() error {
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.log, p.log
	// Its own process group, so a kill reaches nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return nil
}

// Kill sends SIGKILL (no chance to flush or drain) and waits for the exit.
func (p *Proc) Kill() { p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits, falling back to SIGKILL after 20 s.
func (p *Proc) Stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.Kill()
	}
}

func (p *Proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	<-done
}

// Restart starts the same command line again (after Kill or Stop).
func (p *Proc) Restart() error { return p.start() }

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Close stops the process and closes its log.
func (p *Proc) Close() {
	p.Stop()
	_ = p.log.Close()
}

// WaitTCP waits until addr accepts connections.
func WaitTCP(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not listening: %w", addr, errors.Join(ctx.Err(), err))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// FreePort returns a loopback port free at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("listener address %v is not TCP", l.Addr())
	}
	return addr.Port, nil
}

func execCommand(bin string, args ...string) *exec.Cmd { return exec.Command(bin, args...) }
