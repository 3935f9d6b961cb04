// Package cli is ddrctl: the command line the Privacy Team, legal,
// operators and group-member staff use to work a request through the suite
// without writing gRPC by hand. It lives outside package main so tests run
// the very command tree the binary runs.
package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/ddrsuite/ddr/services/ddrctl/client"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/pki"
)

// Env is what a run of ddrctl reads from and writes to.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	// Getenv reads DDR_* defaults; nil: os.Getenv.
	Getenv func(string) string
	// PollInterval overrides the watch interval default (tests).
	PollInterval time.Duration
}

// globals are the flags every command shares.
type globals struct {
	env      Env
	addr     string
	identity string
	tlsCA    string
	tlsCert  string
	tlsKey   string
	pkiDir   string
	output   string
	timeout  time.Duration

	cl *client.Client
}

// envFlag is a global flag that the environment may also set, as DDR_ and
// its name (DDR_TLS_CA for --tls-ca); a flag given wins.
type envFlag struct {
	p                       *string
	name, short, def, usage string
}

func (f envFlag) env() string {
	return "DDR_" + strings.ToUpper(strings.ReplaceAll(f.name, "-", "_"))
}

func (g *globals) envFlags() []envFlag {
	return []envFlag{
		{&g.addr, "addr", "", "127.0.0.1:7600", "suite gRPC address, or a comma-separated list of replicas"},
		{&g.identity, "identity", "", "", "caller SPIFFE URI sent in the development identity header"},
		{&g.tlsCA, "tls-ca", "", "", "PEM CA bundle to verify the server; enables TLS"},
		{&g.tlsCert, "tls-cert", "", "", "PEM client certificate for mTLS"},
		{&g.tlsKey, "tls-key", "", "", "PEM key of the client certificate"},
		{&g.pkiDir, "pki-dir", "", "", "development PKI directory: use its CA and the certificate of --identity for mTLS"},
		{&g.output, "output", "o", "table", "output format: table, json or yaml"},
	}
}

// Main runs ddrctl with args and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	g := &globals{env: env}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if g.cl != nil {
		_ = g.cl.Close()
	}
	if err == nil {
		return ExitOK
	}
	return report(env.Stderr, g.addr, err)
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "ddrctl",
		Short: "Work government data requests through the ddr suite",
		Long: `ddrctl is the command line of the ddr suite: group members submit and follow
requests; the Privacy Team reviews and decides cases, runs the notices and holds
of a request's plan, and shows its written record and the transparency report.

Connection settings come from flags or the environment (a flag wins):
  --addr      DDR_ADDR       suite address (default 127.0.0.1:7600, what make run serves), or a
                             comma-separated list of one service's replicas (make run-cluster)
  --identity  DDR_IDENTITY   caller identity for development servers (x-ddr-identity header),
                             spiffe://ddr.local/group-member/<entity> or spiffe://ddr.local/staff/<user>
  --tls-ca    DDR_TLS_CA     CA bundle to trust (TLS)
  --tls-cert  DDR_TLS_CERT   client certificate (mTLS: the certificate is the identity,
  --tls-key   DDR_TLS_KEY    and --identity is not sent)
  --pki-dir   DDR_PKI_DIR    a development PKI (make certs, e.g. ./data/pki): --identity then
                             picks its certificate <pki-dir>/<kind>/<name>.crt for mTLS
  --output    DDR_OUTPUT     table (default), json or yaml

Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 invalid argument (one field
violation per line), 5 refused by the policy or the request's state (the clause
is printed), 6 not authenticated or not permitted, 7 suite unavailable,
130 interrupted.`,
		Example: `  # as a group member: submit a demand from a file and follow it
  export DDR_IDENTITY=spiffe://ddr.local/group-member/acme-eu
  ddrctl request submit -f demand.yaml
  ddrctl request watch 0193c0de-...

  # as the Privacy Team: the review queue
  ddrctl --identity spiffe://ddr.local/staff/alice case queue

  # shell completion
  source <(ddrctl completion bash)`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.applyEnv(cmd)
		},
	}
	pf := root.PersistentFlags()
	for _, f := range g.envFlags() {
		pf.StringVarP(f.p, f.name, f.short, f.def, f.usage+" (env "+f.env()+")")
	}
	pf.DurationVar(&g.timeout, "timeout", 30*time.Second, "bound of one command's calls")
	_ = root.RegisterFlagCompletionFunc("output", fixedCompletion("table", "json", "yaml"))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })

	root.AddCommand(requestCmd(g), caseCmd(g), planCmd(g), recordCmd(g), reportCmd(g), verifyCmd(g), dlqCmd(g), versionCmd(g))
	for _, grp := range root.Commands() {
		for _, sub := range extraSubcommands[grp.Name()] {
			grp.AddCommand(sub(g))
		}
	}
	return root
}

// extraSubcommands are subcommands a file adds to a group ("case", "plan",
// "record", "request") from its own init, so that the commands of one area
// live in one file beside their tests.
var extraSubcommands = map[string][]func(*globals) *cobra.Command{}

// registerSub adds subcommands to the group named group.
func registerSub(group string, subs ...func(*globals) *cobra.Command) {
	extraSubcommands[group] = append(extraSubcommands[group], subs...)
}

// applyEnv fills unset persistent flags from the environment.
func (g *globals) applyEnv(cmd *cobra.Command) error {
	for _, ef := range g.envFlags() {
		f := cmd.Flags().Lookup(ef.name)
		if f == nil || f.Changed {
			continue
		}
		if v := g.env.Getenv(ef.env()); v != "" {
			if err := f.Value.Set(v); err != nil {
				return usageErr(fmt.Errorf("environment variable %s: %w", ef.env(), err))
			}
		}
	}
	switch g.output {
	case "table", "json", "yaml":
	default:
		return usageErr(fmt.Errorf("--output %q: want table, json or yaml", g.output))
	}
	return nil
}

// client connects on first use.
// stub is a typed client (newClient, a generated NewXServiceClient) on the
// connection of g.client.
func stub[C any](g *globals, newClient func(grpc.ClientConnInterface) C) (C, error) {
	cl, err := g.client()
	if err != nil {
		var none C
		return none, err
	}
	return newClient(cl.Conn()), nil
}

func (g *globals) client() (*client.Client, error) {
	if g.cl != nil {
		return g.cl, nil
	}
	if g.pkiDir != "" && g.identity != "" && g.tlsCert == "" {
		id, err := auth.ParseSPIFFE(g.identity)
		if err != nil {
			return nil, usageErr(fmt.Errorf("--identity: %w", err))
		}
		dir := pki.Dir(g.pkiDir)
		g.tlsCert, g.tlsKey = dir.Cert(id.Kind + "/" + id.Name)
		if g.tlsCA == "" {
			g.tlsCA = dir.CACert()
		}
		g.identity = ""
	} else if g.pkiDir != "" && g.tlsCA == "" {
		g.tlsCA = pki.Dir(g.pkiDir).CACert()
	}
	var tlsCfg *tls.Config
	if g.tlsCA != "" || g.tlsCert != "" || g.tlsKey != "" {
		var err error
		if tlsCfg, err = client.TLSConfig(g.tlsCA, g.tlsCert, g.tlsKey); err != nil {
			return nil, usageErr(err)
		}
	}
	if g.tlsCert != "" && g.identity != "" {
		fmt.Fprintln(g.env.Stderr, "ddrctl: using the client certificate as the identity; --identity is not sent")
	}
	opts := []client.Option{
		client.WithIdentity(g.identity),
		client.WithRetry(client.Retry{Attempts: 4, Initial: 250 * time.Millisecond, Max: 2 * time.Second, AttemptTimeout: g.timeout}),
	}
	if tlsCfg != nil {
		opts = append(opts, client.WithTLSConfig(tlsCfg))
	}
	cl, err := client.New(g.addr, opts...)
	if err != nil {
		if strings.Contains(err.Error(), "identity") {
			return nil, usageErr(err)
		}
		return nil, err
	}
	g.cl = cl
	return cl, nil
}

// onRequest is the shape of the commands on one request (case, plan):
// connect, call with the REQUEST_ID argument under --timeout, show the
// answer as a table or in the --output format.
func onRequest[C any, M proto.Message](g *globals, connect func() (C, error), call func(ctx context.Context, c C, id string) (M, error), table func(*tw, M)) func(*cobra.Command, []string) error {
	return calling(g, connect, func(ctx context.Context, c C, _ *cobra.Command, a []string) error {
		m, err := call(ctx, c, a[0])
		if err != nil {
			return err
		}
		return g.print(m, func(t *tw) { table(t, m) })
	})
}

// calling is the RunE of a command that calls the suite straight away:
// connect, then body under --timeout. A command that checks its input
// first calls [dial] after the checks instead.
func calling[C any](g *globals, connect func() (C, error), body func(ctx context.Context, c C, cmd *cobra.Command, a []string) error) func(*cobra.Command, []string) error {
	return run(func(cmd *cobra.Command, a []string) error {
		c, ctx, cancel, err := dial(g, cmd, connect)
		if err != nil {
			return err
		}
		defer cancel()
		return body(ctx, c, cmd, a)
	})
}

// dial is how every command that calls the suite begins: connect (g.client,
// g.reporting, ...) and bound the command's calls by --timeout. The caller
// defers cancel; on an error there is nothing to cancel.
func dial[C any](g *globals, cmd *cobra.Command, connect func() (C, error)) (C, context.Context, context.CancelFunc, error) {
	c, err := connect()
	if err != nil {
		var zero C
		return zero, nil, nil, err
	}
	ctx, cancel := g.ctx(cmd)
	return c, ctx, cancel, nil
}

// idCmd is a command whose only input is its REQUEST_ID argument.
func idCmd(use, short, example string, runE func(*cobra.Command, []string) error) *cobra.Command {
	return &cobra.Command{Use: use + " REQUEST_ID", Short: short, Example: example, Args: args(1, "REQUEST_ID"), RunE: runE}
}

// ctx bounds a command's calls by --timeout.
func (g *globals) ctx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), g.timeout)
}

// group is a command that only holds subcommands: an unknown subcommand is
// a usage error rather than a help page with exit 0.
func group(use, short, example string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr(fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath()))
			}
			return cmd.Help()
		},
	}
	c.AddCommand(subs...)
	return c
}

// args checks the positional arguments as a usage error.
func args(n int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if len(a) != n {
			return usageErr(fmt.Errorf("%s takes %d argument(s) (%s), got %d", cmd.CommandPath(), n, strings.Join(names, ", "), len(a)))
		}
		return nil
	}
}

func fixedCompletion(vals ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return vals, cobra.ShellCompDirectiveNoFileComp
	}
}

// mustFlag marks flags required; cobra reports a missing one as a usage
// error through the flag error func.
func mustFlag(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmd.MarkFlagRequired(n); err != nil {
			panic(err) // a typo in a flag name: a programming error
		}
	}
}

var errInterrupted = errors.New("interrupted")
