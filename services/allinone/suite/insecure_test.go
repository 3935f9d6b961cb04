package suite_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// The insecure mode takes anyone's word for who they are, so it must not
// start on an address another machine could reach. The test only checks
// the refusal: nothing is sent beyond loopback.
func TestInsecureModeRefusedOnNonLoopbackAddress(t *testing.T) {
	for _, tt := range []struct {
		name                      string
		grpc, natsListen, metrics string
		want                      string
	}{
		{"grpc on every interface", "0.0.0.0:0", "127.0.0.1:-1", "", "--grpc-addr"},
		{"grpc on an empty host", ":0", "127.0.0.1:-1", "", "--grpc-addr"},
		{"embedded nats on every interface", "127.0.0.1:0", "0.0.0.0:-1", "", "--nats-listen"},
		{"metrics on every interface", "127.0.0.1:0", "127.0.0.1:-1", "[::]:0", "--metrics-addr"},
		{"grpc on a non-loopback address", "192.0.2.1:7600", "127.0.0.1:-1", "", "--grpc-addr"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := runner.Config{
				Name: "ddr", DevIdentity: true, DataDir: t.TempDir(), Replicas: 1,
				GRPCAddr: tt.grpc, NATSListen: tt.natsListen, MetricsAddr: tt.metrics,
				ShutdownTimeout: 5 * time.Second,
				Ready:           func(runner.Info) { t.Error("the insecure process started") },
			}
			built := false
			all := suite.DefaultConfig()
			build := func(ctx context.Context, d runner.Deps) ([]runner.Component, error) {
				built = true
				return all.Build(ctx, d)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := runner.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), build)
			if !errors.Is(err, runner.ErrInsecureNotLoopback) {
				t.Fatalf("Run = %v, want ErrInsecureNotLoopback", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
			if built {
				t.Error("components were built before the refusal")
			}
		})
	}
}

// On loopback it starts, says so in its metrics, and the secure default
// says the opposite.
func TestInsecureModeIsVisibleInMetrics(t *testing.T) {
	insecure := startSuite(t, runnertest.Options{Insecure: true})
	if body := scrape(t, insecure.Info.MetricsAddr); !strings.Contains(body, "\nddr_insecure_mode 1\n") {
		t.Errorf("insecure process metrics lack ddr_insecure_mode 1:\n%s", ddrLines(body))
	}
	insecure.Stop(t)
	secure := startSuite(t, runnertest.Options{})
	if body := scrape(t, secure.Info.MetricsAddr); !strings.Contains(body, "\nddr_insecure_mode 0\n") {
		t.Errorf("mTLS process metrics lack ddr_insecure_mode 0:\n%s", ddrLines(body))
	}
}
