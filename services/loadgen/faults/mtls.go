package faults

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	"github.com/ddrsuite/ddr/services/loadgen/bench"
	"github.com/ddrsuite/ddr/services/loadgen/launch"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/pki"
)

// ShowMTLS prints how the running deployment authenticates, from both
// ends: each NATS node's view of its client connections (TLS version and
// the user its certificate mapped to, from the monitoring endpoint), each
// service's "ddr ready" line, each service's gRPC server identity and TLS
// state as a caller with a group member's certificate sees them, and a
// call without a client certificate, which must be refused.
func (e *Env) ShowMTLS(ctx context.Context, w io.Writer) error {
	if e.Sec.PKIDir == "" {
		fmt.Fprintln(w, "mtls: off (insecure development mode)")
		return nil
	}
	for _, n := range e.Nodes {
		conns, err := connz(ctx, n.HTTPPort)
		if err != nil {
			return fmt.Errorf("connz of %s: %w", n.Name, err)
		}
		for _, c := range conns {
			fmt.Fprintf(w, "mtls: nats %s client %-13s tls %-4s %s user %s\n", n.Name, c.Name, c.TLSVersion, c.TLSCipher, c.AuthorizedUser)
			if c.TLSVersion == "" || !strings.HasPrefix(c.AuthorizedUser, "spiffe://") {
				return fmt.Errorf("nats %s: connection %q without TLS or certificate user", n.Name, c.Name)
			}
		}
	}
	for _, name := range ServiceNames {
		if l := readyLine(filepath.Join(e.Dir, name+".log")); l != "" {
			fmt.Fprintf(w, "mtls: %s log: %s\n", name, l)
		}
		member := bench.Members[0]
		conn, err := launch.Dial(e.Sec, e.Addrs[name], member)
		if err != nil {
			return err
		}
		var p peer.Peer
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: grpcService[name]}, grpc.Peer(&p))
		_ = conn.Close()
		if err != nil {
			return fmt.Errorf("grpc %s over mTLS: %w", name, err)
		}
		info, ok := p.AuthInfo.(credentials.TLSInfo)
		if !ok || len(info.State.PeerCertificates) == 0 {
			return fmt.Errorf("grpc %s: no TLS peer", name)
		}
		fmt.Fprintf(w, "mtls: grpc %s %s: %s, server %s, client certificate %s\n", name, e.Addrs[name],
			tls.VersionName(info.State.Version), info.State.PeerCertificates[0].URIs[0], member)
		// The server's side: the caller its access log names, taken from
		// the certificate (no identity header is sent).
		if l := waitLogLine(ctx, filepath.Join(e.Dir, name+".log"), `"caller":"`+member+`"`); l != "" {
			fmt.Fprintf(w, "mtls: %s log: %s\n", name, l)
		}

		// Trusting the CA but presenting nothing: the server's handshake
		// refuses the caller before any method runs.
		ca, err := pki.LoadCA(pki.Dir(e.Sec.PKIDir))
		if err != nil {
			return err
		}
		anon, err := grpcclient.Dial(e.Addrs[name], grpcclient.WithTLS(&tls.Config{MinVersion: tls.VersionTLS13, RootCAs: ca.Pool()}))
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = healthpb.NewHealthClient(anon).Check(cctx, &healthpb.HealthCheckRequest{Service: grpcService[name]})
		cancel()
		_ = anon.Close()
		if err == nil {
			return fmt.Errorf("grpc %s answered a caller without a client certificate", name)
		}
		fmt.Fprintf(w, "mtls: grpc %s without a client certificate: refused (%s)\n", name, firstLine(err.Error()))
	}
	return nil
}

type connInfo struct {
	Name           string `json:"name"`
	TLSVersion     string `json:"tls_version"`
	TLSCipher      string `json:"tls_cipher_suite"`
	AuthorizedUser string `json:"authorized_user"`
}

func connz(ctx context.Context, port int) ([]connInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/connz?auth=true", port), nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var body struct {
		Connections []connInfo `json:"connections"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return nil, err
	}
	return body.Connections, nil
}

// readyLine is the last "ddr ready" log line of a service: it says whether
// the process serves mTLS.
func readyLine(path string) string { return lastLine(path, `"ddr ready"`) }

// waitLogLine waits a little for a line containing s: the access log line
// of a call may be written just after its answer.
func waitLogLine(ctx context.Context, path, s string) string {
	for range 20 {
		if l := lastLine(path, s); l != "" {
			return l
		}
		select {
		case <-ctx.Done():
			return ""
		case <-time.After(100 * time.Millisecond):
		}
	}
	return ""
}

// lastLine is the last line of path containing s.
func lastLine(path, s string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var last string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			last = sc.Text()
		}
	}
	return last
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}
