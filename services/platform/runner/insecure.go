package runner

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// ErrInsecureNotLoopback refuses the insecure development mode on an
// address another machine could reach.
var ErrInsecureNotLoopback = errors.New("runner: --dev-identity serves only on loopback addresses")

// checkInsecureListeners refuses to start the insecure mode unless every
// address the process listens on (gRPC, the embedded NATS, metrics, health) is a
// loopback address: in that mode anyone who reaches a port is whoever they
// claim to be.
func checkInsecureListeners(cfg Config) error {
	if !cfg.DevIdentity {
		return nil
	}
	addrs := []struct{ what, addr string }{{"--grpc-addr", cfg.GRPCAddr}}
	if cfg.NATSURL == "" {
		addrs = append(addrs, struct{ what, addr string }{"--nats-listen", cfg.NATSListen})
	}
	if cfg.MetricsAddr != "" {
		addrs = append(addrs, struct{ what, addr string }{"--metrics-addr", cfg.MetricsAddr})
	}
	if cfg.HealthAddr != "" {
		addrs = append(addrs, struct{ what, addr string }{"--health-addr", cfg.HealthAddr})
	}
	var errs []error
	for _, a := range addrs {
		if !loopbackAddr(a.addr) {
			errs = append(errs, fmt.Errorf("%w: %s %q", ErrInsecureNotLoopback, a.what, a.addr))
		}
	}
	return errors.Join(errs...)
}

// loopbackAddr says whether host:port names a loopback host: a loopback IP
// or "localhost". An empty host means every interface, so it is not.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// observeInsecureMode exports ddr_insecure_mode, 1 while the process runs
// the insecure mode, so an alert can fire on any process that does.
func observeInsecureMode(insecure bool) (func(), error) {
	v := 0.0
	if insecure {
		v = 1
	}
	return telemetry.ObserveGauges("github.com/ddrsuite/ddr/services/platform/runner", telemetry.Gauge{
		Name:        "ddr.insecure_mode",
		Description: "1 when the process runs the insecure development mode (plaintext, identity from a header)",
		Observe:     func(context.Context) float64 { return v },
	})
}
