package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/structpb"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/reporting/ports"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

func reportPublishCmd(g *globals) *cobra.Command {
	var (
		period, out string
		correction  bool
	)
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish a half-year's report to the signed public log and write the static site",
		Long: `Publish adds the report of a finished half-year to the public log, signed with
the company's transparency key, and writes the whole static site to --out:
an index of every published period, each report as HTML (with charts), CSV
and JSON, its signed statement, the log's checkpoint and the public key. A
published report never changes: publishing a period again adds nothing and
writes the same bytes; --correction publishes a new report of the period
that names the one it corrects. Check the result with 'ddrctl verify site'.`,
		Example: `  ddrctl report publish --period 2026-H2 --out site/
  ddrctl report publish --period 2026-H2 --correction --out site/`,
		Args: args(0),
		RunE: calling(g, g.reporting, func(ctx context.Context, re reportingv1.ReportingServiceClient, _ *cobra.Command, _ []string) error {
			// Streamed: a site of any size comes through, where one
			// message would meet the 4 MiB receive limit.
			stream, err := re.PublishTransparencySite(ctx, &reportingv1.PublishTransparencySiteRequest{Period: period, Correction: correction})
			if err != nil {
				return err
			}
			pub, err := ports.ReceiveSite(stream.Recv)
			if err != nil {
				return err
			}
			if err := transparency.WriteSite(out, pub.Site); err != nil {
				return err
			}
			paths := make([]any, 0, len(pub.Site))
			for _, f := range ports.SiteFiles(pub.Site) {
				paths = append(paths, f.GetPath())
			}
			res, err := structpb.NewStruct(map[string]any{"name": pub.Name, "added": pub.Added, "files": paths, "site": out})
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) {
				t.kv("REPORT", pub.Name, "ADDED", yesno(pub.Added), "FILES", fmt.Sprint(len(pub.Site)), "SITE", out)
			})
		}),
	}
	cmd.Flags().StringVar(&period, "period", "", "half-year, e.g. 2026-H2")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the site to")
	cmd.Flags().BoolVar(&correction, "correction", false, "publish a correction of the period's latest report")
	mustFlag(cmd, "period")
	mustFlag(cmd, "out")
	return cmd
}

func verifyCmd(g *globals) *cobra.Command {
	return group("verify", "Check published reports and DPA record proofs offline, with the public key alone",
		`  ddrctl verify site site/ --key public-key.txt
  ddrctl verify site site/ --key public-key.txt --previous kept-checkpoint
  ddrctl verify record proof.json --key public-key.txt --origin example.com/transparency/record-log`,
		verifySiteCmd(g), verifyRecordCmd(g))
}

func verifySiteCmd(g *globals) *cobra.Command {
	var key, previous string
	cmd := &cobra.Command{
		Use:   "site DIR",
		Short: "Check a published transparency site: signatures, files, and the public log",
		Long: `Verify site needs no access to the suite: only the published files and a public
key you hold from elsewhere (any key of the log's chain). It checks every
report's signed statement against its files (a changed figure fails), that
the reports rebuild the log's signed checkpoint (a removed report fails),
that each signature is by the key current at its place in the log (a
forged or retired key's signature fails), and, with --previous, that the
log extends a checkpoint you kept from an earlier visit. Keep
log/checkpoint for next time. Exits 1 when anything does not verify.`,
		Example: `  ddrctl verify site site/ --key public-key.txt
  ddrctl verify site site/ --key public-key.txt --previous kept-checkpoint`,
		Args: args(1, "DIR"),
		RunE: run(func(_ *cobra.Command, a []string) error {
			anchor, err := os.ReadFile(key)
			if err != nil {
				return usageErr(err)
			}
			var prev []byte
			if previous != "" {
				if prev, err = os.ReadFile(previous); err != nil {
					return usageErr(err)
				}
			}
			c, err := transparency.VerifySite(os.DirFS(a[0]), string(anchor), prev)
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			reports := make([]any, len(c.Reports))
			for i, r := range c.Reports {
				reports[i] = r
			}
			out, err := structpb.NewStruct(map[string]any{"valid": true, "log": c.Checkpoint.Origin, "checkpoint_size": c.Checkpoint.Size, "reports": reports})
			if err != nil {
				return err
			}
			return g.print(out, func(t *tw) {
				t.kv("VALID", "yes", "LOG", c.Checkpoint.Origin, "CHECKPOINT SIZE", fmt.Sprint(c.Checkpoint.Size))
				t.section("REPORTS", "INDEX", "NAME")
				for i, n := range c.Reports {
					t.row(fmt.Sprint(i), n)
				}
			})
		}),
	}
	cmd.Flags().StringVar(&key, "key", "", "public key file (a note verifier key) you trust")
	cmd.Flags().StringVar(&previous, "previous", "", "a signed checkpoint kept from an earlier visit")
	mustFlag(cmd, "key")
	return cmd
}
