package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/cobra"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

func reportCmd(g *globals) *cobra.Command {
	return group("report", "The semi-annual transparency report (clause 5.1)",
		`  ddrctl report generate --period 2026-H1
  ddrctl report export --period 2026-H1 --format html --out report-2026-H1.html`,
		reportGenerateCmd(g), reportExportCmd(g), reportVerifyCmd(g), reportPublishCmd(g))
}

// reportFigures is the part of the report's JSON export a person reads at
// a glance; the export itself is the reporting service's format.
type reportFigures struct {
	Totals           map[string]int `json:"totals"`
	ByLegalProcess   []keyCount     `json:"by_legal_process"`
	ByCountry        []keyCount     `json:"by_country"`
	ByOutcome        []keyCount     `json:"by_outcome"`
	NationalSecurity struct {
		Status string `json:"status"`
	} `json:"national_security"`
	Notes []string `json:"notes"`
}

type keyCount struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

func (g *globals) getReport(cmd *cobra.Command, period string, format reportingv1.ReportFormat) (*reportingv1.TransparencyReport, error) {
	re, err := g.reporting()
	if err != nil {
		return nil, err
	}
	ctx, cancel := g.ctx(cmd)
	defer cancel()
	res, err := re.GetTransparencyReport(ctx, &reportingv1.GetTransparencyReportRequest{Period: period, Format: format})
	if err != nil {
		return nil, err
	}
	return res.GetReport(), nil
}

func reportGenerateCmd(g *globals) *cobra.Command {
	var period string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Build the transparency report of a finished half-year and show its figures",
		Long: `Generate builds the report of a half-year (e.g. 2026-H1: January to June, UTC, by
date received) from the record and shows its figures. A period that is not
over yet is refused (exit 5). Use 'report export' for the files to publish.`,
		Example: `  ddrctl report generate --period 2026-H1
  ddrctl report generate --period 2026-H1 -o json`,
		Args: args(0),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			rep, err := g.getReport(cmd, period, reportingv1.ReportFormat_REPORT_FORMAT_JSON)
			if err != nil {
				return err
			}
			return g.print(rep, func(t *tw) {
				t.kv("PERIOD", rep.GetPeriod(),
					"REQUESTS COUNTED", fmt.Sprint(rep.GetRequestsCounted()),
					"MERKLE ROOT", short(rep.GetMerkleRoot()),
					"RECORD SEQUENCE", fmt.Sprint(rep.GetRecordSequence()),
					"GENERATED", ts(rep.GetGenerateTime()))
				var f reportFigures
				if err := json.Unmarshal(rep.GetContent(), &f); err != nil {
					t.kv("FIGURES", "(not readable: "+err.Error()+")")
					return
				}
				keys := make([]string, 0, len(f.Totals))
				for k := range f.Totals {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				t.section("TOTALS", "FIGURE", "COUNT")
				for _, k := range keys {
					t.row(k, fmt.Sprint(f.Totals[k]))
				}
				for _, s := range []struct {
					title string
					kc    []keyCount
				}{{"BY LEGAL PROCESS", f.ByLegalProcess}, {"BY COUNTRY", f.ByCountry}, {"BY OUTCOME", f.ByOutcome}} {
					if len(s.kc) == 0 {
						continue
					}
					t.section(s.title, "KEY", "COUNT")
					for _, kc := range s.kc {
						t.row(kc.Key, fmt.Sprint(kc.Count))
					}
				}
				if f.NationalSecurity.Status != "" {
					t.section("")
					t.kv("NATIONAL SECURITY", f.NationalSecurity.Status)
				}
			})
		}),
	}
	cmd.Flags().StringVar(&period, "period", "", "half-year, e.g. 2026-H1")
	mustFlag(cmd, "period")
	return cmd
}

func reportExportCmd(g *globals) *cobra.Command {
	var period, out string
	var format *enumFlag
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the transparency report as JSON, CSV or an HTML page",
		Long: `Export writes the report's content, to publish on the website or hand to a data
protection authority. The JSON export is what 'report verify' checks.`,
		Example: `  ddrctl report export --period 2026-H1 --format json --out report-2026-H1.json
  ddrctl report export --period 2026-H1 --format html > report.html`,
		Args: args(0),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			rep, err := g.getReport(cmd, period, reportingv1.ReportFormat(format.get()))
			if err != nil {
				return err
			}
			w := g.env.Stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			if _, err := w.Write(rep.GetContent()); err != nil {
				return err
			}
			if out != "" && out != "-" {
				fmt.Fprintf(g.env.Stderr, "wrote %s (%s, %d requests counted)\n", out, rep.GetContentType(), rep.GetRequestsCounted())
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&period, "period", "", "half-year, e.g. 2026-H1")
	format = enumVar(cmd, "format", "export format (default json)", reportingv1.ReportFormat(0).Descriptor(), false)
	cmd.Flags().StringVar(&out, "out", "", "file to write (default: standard output)")
	mustFlag(cmd, "period")
	return cmd
}

func reportVerifyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify REPORT_JSON",
		Short: "Recompute a published report from the record and name the first figure that differs",
		Long: `Verify sends a report's JSON export (a file, or "-" for standard input) to be
recomputed from the record. A report that does not match exits 1.`,
		Example: `  ddrctl report verify report-2026-H1.json`,
		Args:    args(1, "REPORT_JSON"),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			var (
				b   []byte
				err error
			)
			if a[0] == "-" {
				b, err = io.ReadAll(g.env.Stdin)
			} else {
				b, err = os.ReadFile(a[0])
			}
			if err != nil {
				return usageErr(err)
			}
			re, err := g.reporting()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd)
			defer cancel()
			res, err := re.VerifyTransparencyReport(ctx, &reportingv1.VerifyTransparencyReportRequest{ReportJson: b})
			if err != nil {
				return err
			}
			if err := g.print(res, func(t *tw) {
				t.kv("VALID", yesno(res.GetValid()), "MERKLE ROOT", short(res.GetMerkleRoot()))
				if !res.GetValid() {
					t.kv("DIMENSION", res.GetDimension(), "KEY", res.GetKey(), "PUBLISHED", res.GetExpected(), "RECORD SAYS", res.GetFound(), "DETAIL", res.GetDetail())
				}
			}); err != nil {
				return err
			}
			if !res.GetValid() {
				return &exitError{code: ExitError, err: fmt.Errorf("the report does not match the record")}
			}
			return nil
		}),
	}
	return cmd
}
