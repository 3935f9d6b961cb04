// Command ddrctl is the command line of the ddr suite; see package cli and
// `ddrctl --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ddrsuite/ddr/services/ddrctl/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
