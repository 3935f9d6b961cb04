package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ddrsuite/ddr/services/platform/config"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// EnvPrefix prefixes the environment variables that set flags: --grpc-addr
// is also DDR_GRPC_ADDR. A flag given on the command line wins.
const EnvPrefix = "DDR"

// CommandLineOnly are the flags no environment variable sets: the insecure
// mode must be asked for on the command line, in plain sight (a stray
// DDR_DEV_IDENTITY=1 in a unit file once turned mTLS off).
var CommandLineOnly = []string{"dev-identity"}

// Main parses fs (already holding the service's own flags) together with
// cfg's, builds a logger, runs until SIGINT or SIGTERM and exits. It is the
// whole body of every main package.
func Main(fs *flag.FlagSet, cfg *Config, build BuildFunc) {
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if err := config.ApplyEnv(fs, EnvPrefix, CommandLineOnly...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logger := telemetry.NewLogger(os.Stderr, level, cfg.LogJSON)
	slog.SetDefault(logger)
	for _, name := range CommandLineOnly {
		if env := config.EnvName(EnvPrefix, name); os.Getenv(env) != "" {
			logger.Warn("environment variable ignored: set this only on the command line", "variable", env, "flag", "--"+name)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, *cfg, logger, build); err != nil && !errors.Is(err, context.Canceled) {
		logger.Error("exiting", "err", err)
		stop()
		os.Exit(1)
	}
}

// parseLevel reads debug, info, warn or error, in any case, with an
// optional offset ("debug-4").
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: %w", s, err)
	}
	return l, nil
}

// MainService is the whole body of a single service's main package: the
// runner's flags and the service's own (C's RegisterFlags), then [Main]
// with the one component newService builds, against an external NATS.
//
//	func main() { runner.MainService[service.Config]("intake", service.New) }
func MainService[C any, PC interface {
	*C
	RegisterFlags(fs *flag.FlagSet)
}, S Component](name string, newService func(context.Context, Deps, C) (S, error)) {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	var rc Config
	rc.RegisterFlags(fs, name, false)
	var sc C
	PC(&sc).RegisterFlags(fs)
	Main(fs, &rc, func(ctx context.Context, d Deps) ([]Component, error) {
		c, err := newService(ctx, d, sc)
		if err != nil {
			return nil, err
		}
		return []Component{c}, nil
	})
}
