// Command devoidc is the development OpenID provider (package devop) for
// `make run` and manual tests: the dev users alice, bob, carol and
// reception-acme-eu, password "dev", on loopback only. Never deploy it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ddrsuite/ddr/services/devoidc/devop"
)

func main() {
	var cfg devop.Config
	var redirects, readyFile string
	flag.StringVar(&cfg.Addr, "addr", devop.DefaultAddr, "listen address (loopback only; port 0: a free port)")
	flag.StringVar(&cfg.ClientID, "client-id", devop.DefaultClientID, "the console's OIDC client id")
	flag.StringVar(&redirects, "redirect-uris", "", "comma-separated redirect URIs allowed besides "+devop.DefaultRedirectURI)
	flag.StringVar(&readyFile, "ready-file", "", "file to write the issuer URL to once serving")
	flag.Parse()
	for r := range strings.SplitSeq(redirects, ",") {
		if r = strings.TrimSpace(r); r != "" {
			cfg.RedirectURIs = append(cfg.RedirectURIs, r)
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg.Logger = logger
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, readyFile); err != nil {
		logger.Error("devoidc", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg devop.Config, readyFile string) error {
	s, err := devop.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Println("dev OpenID provider (development only):", s.Issuer())
	if readyFile != "" {
		if err := os.WriteFile(readyFile, []byte(s.Issuer()+"\n"), 0o600); err != nil {
			_ = s.Close()
			return err
		}
	}
	return s.Wait()
}
