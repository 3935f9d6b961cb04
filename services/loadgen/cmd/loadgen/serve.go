package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"time"

	"github.com/ddrsuite/ddr/services/loadgen/bench"
	"github.com/ddrsuite/ddr/services/loadgen/launch"
	"github.com/ddrsuite/ddr/services/platform/runner"
)

// The suite and the baselines' servers run in processes of their own, the
// load generator's clients in this one: a client in the server's process
// shares its scheduler and heap and flatters neither side the same way
// (issue 19's pinned baseline). Each child prints one JSON line with its
// addresses once it serves, and stops when its stdin closes.

// served is what a child prints.
type served struct {
	GRPCAddr string `json:"grpc_addr,omitempty"`
	NATSURL  string `json:"nats_url,omitempty"`
	EchoAddr string `json:"echo_addr,omitempty"`
	// PprofAddr serves net/http/pprof of the child, when the parent
	// asked for profiles (-profile-dir).
	PprofAddr string `json:"pprof_addr,omitempty"`
	Error     string `json:"error,omitempty"`
}

// serve is the child's side: it runs what (suite or baselines) in dir
// with sec until stdin closes.
func serve(ctx context.Context, what, dir string, sec launch.Security) error {
	var out served
	var stop func() error
	switch what {
	case "suite":
		s, err := bench.StartSuite(ctx, bench.SuiteOptions{DataDir: dir, Sec: sec})
		if err != nil {
			return err
		}
		out.GRPCAddr, out.NATSURL, stop = s.Info.GRPCAddr, s.Info.NATSURL, s.Stop
	case "baselines":
		echo, err := bench.StartEcho(sec)
		if err != nil {
			return err
		}
		url, stopJS, err := bench.ServeJetStream(dir, sec)
		if err != nil {
			echo.Stop()
			return err
		}
		out.EchoAddr, out.NATSURL = echo.Addr, url
		stop = func() error { echo.Stop(); stopJS(); return nil }
	default:
		return fmt.Errorf("serve: unknown %q", what)
	}
	if os.Getenv(pprofEnv) != "" {
		addr, err := servePprof()
		if err != nil {
			_ = stop()
			return err
		}
		out.PprofAddr = addr
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		_ = stop()
		return err
	}
	// Until the parent closes stdin (or dies) or a signal ends ctx.
	closed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(closed) }()
	select {
	case <-closed:
	case <-ctx.Done():
	}
	return stop()
}

// pprofEnv, set in a child's environment, makes it serve net/http/pprof
// on a loopback port of its own (-profile-dir).
const pprofEnv = "DDR_BENCH_CHILD_PPROF"

// servePprof serves the profiles of this process on loopback and returns
// the address.
func servePprof() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), nil
}

// profile takes a CPU profile of the child for d and writes it to path.
func (c *child) profile(ctx context.Context, d time.Duration, path string) error {
	if c.PprofAddr == "" {
		return errors.New("the child serves no profiles")
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", c.PprofAddr, max(1, int(d.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	f, err := os.Create(path) //nolint:gosec // G304: the operator's -profile-dir.
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// child is a running serving process.
type child struct {
	served
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startChild runs this binary again to serve what in dir.
// With profiles, it serves its CPU profile ([child.profile]).
func startChild(ctx context.Context, what, dir string, sec launch.Security, profiles bool) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	//nolint:gosec // G204: our own binary with our own arguments.
	cmd := exec.CommandContext(ctx, self, "-serve", what, "-serve-dir", dir, "-serve-pki", sec.PKIDir, "-serve-kek", sec.KEKFile)
	cmd.Stderr = os.Stderr
	if profiles {
		cmd.Env = append(os.Environ(), pprofEnv+"=1")
	}
	cmd.WaitDelay = 30 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &c.served)
	}
	if err == nil && c.Error != "" {
		err = errors.New(c.Error)
	}
	if err != nil {
		_ = c.stop()
		return nil, fmt.Errorf("%s process: %w", what, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return c, nil
}

// stop closes the child's stdin and waits for it to exit.
func (c *child) stop() error {
	_ = c.stdin.Close()
	return c.cmd.Wait()
}

// suiteOf is the suite the child serves, for the clients of this process.
func (c *child) suiteOf(sec launch.Security) *bench.Suite {
	return bench.RemoteSuite(runner.Info{GRPCAddr: c.GRPCAddr, NATSURL: c.NATSURL}, sec, c.stop)
}
