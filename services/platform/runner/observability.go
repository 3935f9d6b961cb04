package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// DefaultMetricsAddr is where a process serves /metrics unless told
// otherwise: loopback, like every other default listener.
const DefaultMetricsAddr = "127.0.0.1:9464"

// serveMetrics serves h at /metrics on addr until stop is called; it
// returns the bound address. An empty addr serves nothing.
func serveMetrics(addr string, h http.Handler, logger *slog.Logger) (bound string, stop func(), err error) {
	if addr == "" {
		return "", func() {}, nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server stopped", "err", err)
		}
	}()
	return lis.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// componentContext marks ctx as the work of c, so the spans of its
// consumers and background work are reported as its service, and gives
// them the opener of its personal data if the service is entitled to it.
func componentContext(ctx context.Context, c Component, d Deps) context.Context {
	for _, s := range c.GRPCServiceNames() {
		if name := telemetry.ComponentOfService(s); name != "" {
			return withOpener(telemetry.WithComponent(ctx, name), d, name)
		}
	}
	return ctx
}
