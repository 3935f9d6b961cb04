package config_test

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/config"
)

type flags struct {
	fs       *flag.FlagSet
	addr     *string
	endpoint *string
	timeout  *time.Duration
	dev      *bool
}

func newFlags(t *testing.T, args ...string) flags {
	t.Helper()
	fs := flag.NewFlagSet("intake", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := flags{
		fs:       fs,
		addr:     fs.String("addr", "127.0.0.1:9000", ""),
		endpoint: fs.String("otlp-endpoint", "", ""),
		timeout:  fs.Duration("timeout", time.Second, ""),
		dev:      fs.Bool("dev-identity", false, ""),
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestApplyEnvFillsFlagsNotGivenOnCommandLine(t *testing.T) {
	t.Setenv("INTAKE_OTLP_ENDPOINT", "127.0.0.1:4317")
	t.Setenv("INTAKE_TIMEOUT", "5s")
	t.Setenv("INTAKE_DEV_IDENTITY", "true")
	f := newFlags(t)

	if err := config.ApplyEnv(f.fs, "INTAKE"); err != nil {
		t.Fatal(err)
	}
	if *f.endpoint != "127.0.0.1:4317" || *f.timeout != 5*time.Second || !*f.dev {
		t.Errorf("got endpoint=%q timeout=%v dev=%v; want values from the environment", *f.endpoint, *f.timeout, *f.dev)
	}
	if *f.addr != "127.0.0.1:9000" {
		t.Errorf("addr = %q, want the default since INTAKE_ADDR is unset", *f.addr)
	}
}

func TestApplyEnvLetsCommandLineWin(t *testing.T) {
	t.Setenv("INTAKE_ADDR", "127.0.0.1:1")
	f := newFlags(t, "-addr", "127.0.0.1:2")

	if err := config.ApplyEnv(f.fs, "INTAKE"); err != nil {
		t.Fatal(err)
	}
	if *f.addr != "127.0.0.1:2" {
		t.Errorf("addr = %q, want the command line value", *f.addr)
	}
}

func TestApplyEnvErrorNamesVariableButNotValue(t *testing.T) {
	t.Setenv("INTAKE_TIMEOUT", "s3cr3t-not-a-duration")
	f := newFlags(t)

	err := config.ApplyEnv(f.fs, "INTAKE")
	if err == nil {
		t.Fatal("ApplyEnv() error = nil for a bad duration")
	}
	if !strings.Contains(err.Error(), "INTAKE_TIMEOUT") {
		t.Errorf("error %q does not name INTAKE_TIMEOUT", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %q repeats the value", err)
	}
}

func TestApplyEnvWithoutPrefixReadsBareName(t *testing.T) {
	t.Setenv("OTLP_ENDPOINT", "collector:4317")
	f := newFlags(t)

	if err := config.ApplyEnv(f.fs, ""); err != nil {
		t.Fatal(err)
	}
	if *f.endpoint != "collector:4317" {
		t.Errorf("endpoint = %q, want collector:4317", *f.endpoint)
	}
}

func TestApplyEnvNeverReadsCommandLineOnlyFlags(t *testing.T) {
	t.Setenv("INTAKE_DEV_IDENTITY", "1")
	t.Setenv("INTAKE_ADDR", "127.0.0.1:9100")
	f := newFlags(t)
	if err := config.ApplyEnv(f.fs, "INTAKE", "dev-identity"); err != nil {
		t.Fatal(err)
	}
	if *f.dev {
		t.Error("INTAKE_DEV_IDENTITY turned the command-line-only flag on")
	}
	if *f.addr != "127.0.0.1:9100" {
		t.Errorf("addr = %q, want the environment's", *f.addr)
	}
	f = newFlags(t, "-dev-identity")
	if err := config.ApplyEnv(f.fs, "INTAKE", "dev-identity"); err != nil || !*f.dev {
		t.Errorf("the flag on the command line: dev = %v, err = %v", *f.dev, err)
	}
}
