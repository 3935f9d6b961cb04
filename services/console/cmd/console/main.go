// Command console serves the Privacy Team console: the review of
// government data requests in a browser, as a gRPC client of the four
// services (see package web).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ddrsuite/ddr/services/console/web"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "console:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr = flag.String("addr", "127.0.0.1:7700", "HTTP listen address")
		cfg  web.Config
	)
	for _, svc := range []struct {
		name string
		addr *string
	}{{"intake", &cfg.IntakeAddr}, {"assessment", &cfg.AssessmentAddr}, {"notification", &cfg.NotificationAddr}, {"reporting", &cfg.ReportingAddr}} {
		flag.StringVar(svc.addr, svc.name+"-addr", "127.0.0.1:7600", svc.name+"'s gRPC address (comma list of replicas)")
	}
	flag.StringVar(&cfg.PKIDir, "pki-dir", "data/pki", "PKI directory with the CA and the console's certificate (service/console)")
	flag.StringVar(&cfg.OIDCIssuer, "oidc-issuer", "http://127.0.0.1:7701", "OpenID provider's issuer URL")
	flag.StringVar(&cfg.OIDCClientID, "oidc-client-id", "ddr-console", "the console's client id at the OpenID provider")
	flag.StringVar(&cfg.PublicURL, "public-url", "http://127.0.0.1:7700", "where people reach the console (https: Secure cookies)")
	flag.DurationVar(&cfg.SessionTTL, "session-ttl", 8*time.Hour, "longest session (never beyond the ID token's expiry)")
	flag.Parse()

	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg.Logger = log
	h, err := web.New(cfg)
	if err != nil {
		return err
	}
	if cl, ok := h.(io.Closer); ok {
		defer func() { _ = cl.Close() }()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Printf("console: serving on %s (sign in at %s)\n", ln.Addr(), cfg.PublicURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
