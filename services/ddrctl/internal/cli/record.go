package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	commonv1 "github.com/ddrsuite/ddr/gen/ddr/common/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

func recordCmd(g *globals) *cobra.Command {
	return group("record", "The written record of a request: show, verify, record how it ended",
		`  ddrctl record get 0193c0de-...
  ddrctl record verify 0193c0de-...`,
		recordGetCmd(g), recordVerifyCmd(g), dispositionCmd(g), restrictCmd(g), confirmRestrictionCmd(g), recordProofCmd(g), recordConsistencyCmd(g), recordOpenCmd(g))
}

func (g *globals) reporting() (reportingv1.ReportingServiceClient, error) {
	return stub(g, reportingv1.NewReportingServiceClient)
}

func short(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)[:min(16, 2*len(b))]
}

func recordGetCmd(g *globals) *cobra.Command {
	return idCmd("get", "Show every event of a request's record, in order, hash-chained",
		`  ddrctl record get 0193c0de-...
  ddrctl record get 0193c0de-... -o json > record-0193c0de.json   # a copy to verify later`,
		showRecord(g, func(t *tw, rec *reportingv1.Record) {
			t.section("", "SEQ", "EVENT", "ACTOR", "TIME", "HASH")
			for _, e := range rec.GetEntries() {
				t.row(fmt.Sprint(e.GetSequence()), e.GetEventType(), orDash(e.GetActor()), ts(e.GetEventTime()), short(e.GetEntryHash()))
			}
		}))
}

// showRecord runs a command that prints a request's record (record get,
// record show): the summary line both share, then its rows.
func showRecord(g *globals, rows func(t *tw, rec *reportingv1.Record)) func(*cobra.Command, []string) error {
	return calling(g, g.reporting, func(ctx context.Context, re reportingv1.ReportingServiceClient, _ *cobra.Command, a []string) error {
		res, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: a[0]})
		if err != nil {
			return err
		}
		rec := res.GetRecord()
		return g.print(rec, func(t *tw) {
			t.kv("REQUEST", rec.GetRequestId(), "CLOSED", yesno(rec.GetClosed()), "ENTRIES", fmt.Sprint(len(rec.GetEntries())), "HEAD", short(rec.GetHeadHash()))
			rows(t, rec)
		})
	})
}

func recordVerifyCmd(g *globals) *cobra.Command {
	var copyFile string
	cmd := &cobra.Command{
		Use:   "verify REQUEST_ID",
		Short: "Recompute a record's hash chain from the stream (or check a stored copy)",
		Long: `Verify recomputes the request's hash chain from the append-only stream and names
the first entry that does not match. With --copy it checks a stored copy of the
record (the JSON of 'record get -o json') against the stream instead. An invalid
record exits 1.`,
		Example: `  ddrctl record verify 0193c0de-...
  ddrctl record verify 0193c0de-... --copy record-0193c0de.json`,
		Args: args(1, "REQUEST_ID"),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			req := &reportingv1.VerifyRecordRequest{RequestId: a[0]}
			if copyFile != "" {
				b, err := os.ReadFile(copyFile)
				if err != nil {
					return usageErr(err)
				}
				req.Copy = &reportingv1.Record{}
				if err := protojson.Unmarshal(b, req.Copy); err != nil {
					return usageErr(fmt.Errorf("%s: %w", copyFile, err))
				}
			}
			re, ctx, cancel, err := dial(g, cmd, g.reporting)
			if err != nil {
				return err
			}
			defer cancel()
			res, err := re.VerifyRecord(ctx, req)
			if err != nil {
				return err
			}
			if err := g.print(res, func(t *tw) {
				t.kv("VALID", yesno(res.GetValid()), "ENTRIES CHECKED", fmt.Sprint(res.GetEntriesChecked()), "SEALS CHECKED", fmt.Sprint(res.GetSealsChecked()))
				if !res.GetValid() {
					t.kv("FIRST BREAK", fmt.Sprintf("entry %d (stream sequence %d)", res.GetFirstBreakIndex(), res.GetFirstBreakSequence()), "DETAIL", res.GetDetail())
				}
			}); err != nil {
				return err
			}
			if !res.GetValid() {
				return &exitError{code: ExitError, err: fmt.Errorf("record %s does not verify", a[0])}
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&copyFile, "copy", "", "a stored copy of the record (JSON) to check")
	_ = cmd.MarkFlagFilename("copy", "json")
	return cmd
}

func dispositionCmd(g *globals) *cobra.Command {
	var accounts int32
	var at string
	var outcome, categories, means *enumFlag
	cmd := &cobra.Command{
		Use:   "disposition REQUEST_ID",
		Short: "Record how a request finally ended: what was disclosed, or the outcome",
		Long: `Disposition records what was finally handed over (--category, --accounts,
--means), accepted only once the request was cleared (clauses 2.1, 2.2), or the
terminal outcome when nothing was (--outcome).`,
		Example: `  ddrctl record disposition 0193c0de-... --category subscriber --accounts 1 --means secure-portal
  ddrctl record disposition 0193c0de-... --outcome rejected`,
		Args: args(1, "REQUEST_ID"),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			req := &reportingv1.RecordDispositionRequest{RequestId: a[0]}
			disclosed := cmd.Flags().Changed("category") || cmd.Flags().Changed("accounts") || cmd.Flags().Changed("means")
			switch {
			case disclosed && cmd.Flags().Changed("outcome"):
				return usageErr(fmt.Errorf("give either --outcome or what was disclosed, not both"))
			case disclosed:
				d := &reportingv1.Disclosure{Categories: enumList[reportingv1.DataCategory](categories), Accounts: accounts, Means: reportingv1.DeliveryMeans(means.get())}
				t, err := flagTime("at", at)
				if err != nil {
					return err
				}
				d.DiscloseTime = t
				req.Kind = &reportingv1.RecordDispositionRequest_Disclosure{Disclosure: d}
			case cmd.Flags().Changed("outcome"):
				req.Kind = &reportingv1.RecordDispositionRequest_Outcome{Outcome: reportingv1.TerminalOutcome(outcome.get())}
			default:
				return usageErr(fmt.Errorf("give --outcome, or --category/--accounts/--means of the disclosure"))
			}
			re, ctx, cancel, err := dial(g, cmd, g.reporting)
			if err != nil {
				return err
			}
			defer cancel()
			res, err := re.RecordDisposition(ctx, req)
			if err != nil {
				return err
			}
			d := res.GetDisposition()
			return g.print(d, func(t *tw) {
				if dis := d.GetDisclosure(); dis != nil {
					var cats []string
					for _, c := range dis.GetCategories() {
						cats = append(cats, enumName(c))
					}
					t.kv("DISCLOSED", fmt.Sprintf("%v to %d account(s) by %s", cats, dis.GetAccounts(), enumName(dis.GetMeans())))
				} else {
					t.kv("OUTCOME", enumName(d.GetOutcome()))
				}
				t.kv("RECORDED", ts(d.GetRecordTime()), "BY", orDash(d.GetRecordedBy()))
			})
		}),
	}
	outcome = enumVar(cmd, "outcome", "how it ended without a disclosure", reportingv1.TerminalOutcome(0).Descriptor(), false)
	categories = enumVar(cmd, "category", "categories disclosed; repeatable", reportingv1.DataCategory(0).Descriptor(), true)
	means = enumVar(cmd, "means", "how the data reached the authority", reportingv1.DeliveryMeans(0).Descriptor(), false)
	cmd.Flags().Int32Var(&accounts, "accounts", 0, "number of accounts disclosed")
	cmd.Flags().StringVar(&at, "at", "now", "when it was disclosed, RFC 3339")
	return cmd
}

func restrictCmd(g *globals) *cobra.Command {
	var reference string
	var restriction *enumFlag
	cmd := &cobra.Command{
		Use:   "restrict REQUEST_ID",
		Short: "Propose what law or a court order lets the transparency report say; a second legal person confirms (clause 5.1)",
		Long: `Restrict proposes a restriction of what the transparency report says about a
request (excluded-by-court-order, national-security), with the order or law
behind it, which is its whole basis. It takes effect only once a second person with the legal role
confirms it (record confirm-restriction). --restriction none lifts a
restriction at once: a report that says more needs no second person.`,
		Example: `  ddrctl record restrict 0193c0de-... --restriction excluded-by-court-order --reference "AG Berlin 4/26"
  ddrctl record restrict 0193c0de-... --restriction none`,
		Args: args(1, "REQUEST_ID"),
		RunE: calling(g, g.reporting, func(ctx context.Context, re reportingv1.ReportingServiceClient, _ *cobra.Command, a []string) error {
			r := reportingv1.ReportingRestriction(restriction.get())
			if r == reportingv1.ReportingRestriction_REPORTING_RESTRICTION_NONE {
				res, err := re.SetReportingRestriction(ctx, &reportingv1.SetReportingRestrictionRequest{RequestId: a[0], Restriction: r, LegalReference: reference})
				if err != nil {
					return err
				}
				return g.print(res, func(t *tw) { t.kv("LIFTED", ts(res.GetSetTime())) })
			}
			res, err := re.ProposeReportingRestriction(ctx, &reportingv1.ProposeReportingRestrictionRequest{
				RequestId: a[0], Restriction: r, LegalReference: reference,
			})
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) { restrictionLiftTable(t, res.GetLift()) })
		}),
	}
	restriction = enumVar(cmd, "restriction", "what the report may say", reportingv1.ReportingRestriction(0).Descriptor(), false)
	cmd.Flags().StringVar(&reference, "reference", "", "the order or law (kept in the record, never published)")
	mustFlag(cmd, "restriction")
	return cmd
}

func confirmRestrictionCmd(g *globals) *cobra.Command {
	return idCmd("confirm-restriction", "Confirm a proposed report restriction as the second legal person (clause 5.1)",
		`  DDR_IDENTITY=spiffe://ddr.local/staff/dana ddrctl record confirm-restriction 0193c0de-...`,
		calling(g, g.reporting, func(ctx context.Context, re reportingv1.ReportingServiceClient, _ *cobra.Command, a []string) error {
			res, err := re.ConfirmReportingRestriction(ctx, &reportingv1.ConfirmReportingRestrictionRequest{RequestId: a[0]})
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) { restrictionLiftTable(t, res.GetLift()) })
		}))
}

// restrictionLiftTable shows a two-person lift: what, by whom, and whether it is
// confirmed yet.
func restrictionLiftTable(t *tw, l *commonv1.Lift) {
	t.kv("LIFT", l.GetId(), "CLAUSE", l.GetClause(), "REFERENCE", orDash(l.GetEvidenceReference()),
		"RECORDED BY", orDash(l.GetRecordedBy()), "CONFIRMED BY", orDash(l.GetConfirmedBy()))
}
