package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/reporting/ports"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// The commands of clause 5.1's DPA access: a DPA fetches the copy of a
// request in its remit with its proofs, and checks it offline; staff open
// a request to a DPA.

func recordProofCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "proof REQUEST_ID",
		Short: "As a DPA: the copy of a request in your remit, without personal data, with record-log proofs",
		Long: `Proof gives a data protection authority the copy of a request it was notified
of or consulted on (or that staff opened to it): entry digests, types, times
and actors as roles with pseudonyms, and the inclusion proof of each seal in
the signed record log. Save it with -o json and check it offline with
'ddrctl verify record'. The read is recorded in the request's record. A
request outside your remit is not found.`,
		Example: `  ddrctl record proof 0193c0de-... -o json > proof-0193c0de.json`,
		Args:    args(1, "REQUEST_ID"),
		RunE: calling(g, g.reporting, func(ctx context.Context, re reportingv1.ReportingServiceClient, _ *cobra.Command, a []string) error {
			res, err := re.GetRecordProof(ctx, &reportingv1.GetRecordProofRequest{RequestId: a[0]})
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) {
				t.kv("REQUEST", res.GetRequestId(), "ENTRIES", fmt.Sprint(len(res.GetEntries())), "SEALS", fmt.Sprint(len(res.GetSeals())))
				t.section("", "SEQ", "EVENT", "ACTOR", "TIME", "HASH")
				for _, e := range res.GetEntries() {
					t.row(fmt.Sprint(e.GetSequence()), e.GetType(), orDash(e.GetActor()), ts(e.GetTime()), short(e.GetChainHash()))
				}
			})
		}),
	}
}

func recordOpenCmd(g *globals) *cobra.Command {
	var dpa, reason string
	cmd := idCmd("open-to-dpa", "Open a request's record copy to a DPA, with a reason (recorded)",
		`  ddrctl record open-to-dpa 0193c0de-... --dpa dpc-ie --reason "inquiry 2026/114"`,
		calling(g, g.reporting, func(ctx context.Context, re reportingv1.ReportingServiceClient, _ *cobra.Command, a []string) error {
			res, err := re.OpenRecordToDpa(ctx, &reportingv1.OpenRecordToDpaRequest{RequestId: a[0], Dpa: dpa, Reason: reason})
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) { t.kv("OPENED TO", dpa, "AT", ts(res.GetGrantTime())) })
		}))
	cmd.Flags().StringVar(&dpa, "dpa", "", "the DPA's identity name, e.g. dpc-ie")
	cmd.Flags().StringVar(&reason, "reason", "", "why it is opened, as a reference (the DPA's inquiry number, a letter's date): recorded in clear, so no names")
	mustFlag(cmd, "dpa")
	mustFlag(cmd, "reason")
	return cmd
}

func recordConsistencyCmd(g *globals) *cobra.Command {
	var old int64
	cmd := &cobra.Command{
		Use:     "consistency",
		Short:   "Prove the record log today extends a checkpoint you kept",
		Example: `  ddrctl record consistency --old-size 42 -o json > consistency.json`,
		Args:    args(0),
		RunE: calling(g, g.reporting, func(ctx context.Context, re reportingv1.ReportingServiceClient, _ *cobra.Command, _ []string) error {
			res, err := re.GetRecordLogConsistency(ctx, &reportingv1.GetRecordLogConsistencyRequest{OldSize: old})
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) { t.kv("PROOF HASHES", fmt.Sprint(len(res.GetProof()))) })
		}),
	}
	cmd.Flags().Int64Var(&old, "old-size", 0, "size of the record-log checkpoint you hold")
	mustFlag(cmd, "old-size")
	return cmd
}

func verifyRecordCmd(g *globals) *cobra.Command {
	var key, origin, previous, consistency string
	cmd := &cobra.Command{
		Use:   "record PROOF_JSON",
		Short: "As a DPA: check a record copy and its record-log proofs offline",
		Long: `Verify record checks what 'ddrctl record proof -o json' gave you, with the
public key alone: the checkpoint's signature, each seal against the chain
hash of the entry it covers, and each seal's inclusion in the record log.
With --previous (a checkpoint you kept) and --consistency (the JSON of
'ddrctl record consistency --old-size N' for it) it checks that the record
log extends what you saw before: a record rewritten since fails. Exits 1
when anything does not verify.`,
		Example: `  ddrctl verify record proof.json --key public-key.txt --origin example.com/transparency/record-log
  ddrctl verify record proof.json --key public-key.txt --origin example.com/transparency/record-log --previous old-proof.json --consistency consistency.json`,
		Args: args(1, "PROOF_JSON"),
		RunE: run(func(_ *cobra.Command, a []string) error {
			anchor, err := os.ReadFile(key)
			if err != nil {
				return usageErr(err)
			}
			var res reportingv1.GetRecordProofResponse
			if err := readJSON(a[0], &res); err != nil {
				return err
			}
			var prevCP []byte
			var cons reportingv1.GetRecordLogConsistencyResponse
			if previous != "" {
				var prev reportingv1.GetRecordProofResponse
				if err := readJSON(previous, &prev); err != nil {
					return err
				}
				if err := readJSON(consistency, &cons); err != nil {
					return err
				}
				prevCP = prev.GetCheckpoint()
				res.Checkpoint = cons.GetCheckpoint()
			}
			cp, err := transparency.VerifyRecordProof(ports.RecordProofFromProto(&res), string(anchor), origin, prevCP, ports.HashesFromProto(cons.GetProof()))
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			out, err := structpb.NewStruct(map[string]any{"valid": true, "request_id": res.GetRequestId(), "checkpoint_size": cp.Size, "seals": len(res.GetSeals())})
			if err != nil {
				return err
			}
			return g.print(out, func(t *tw) {
				t.kv("VALID", "yes", "REQUEST", res.GetRequestId(), "SEALS", fmt.Sprint(len(res.GetSeals())), "CHECKPOINT SIZE", fmt.Sprint(cp.Size))
			})
		}),
	}
	cmd.Flags().StringVar(&key, "key", "", "public key file (a note verifier key) you trust")
	cmd.Flags().StringVar(&origin, "origin", "", "the record log's name, e.g. example.com/transparency/record-log")
	cmd.Flags().StringVar(&previous, "previous", "", "an earlier proof JSON whose checkpoint you kept")
	cmd.Flags().StringVar(&consistency, "consistency", "", "the consistency proof JSON for --previous")
	mustFlag(cmd, "key")
	mustFlag(cmd, "origin")
	cmd.MarkFlagsRequiredTogether("previous", "consistency")
	return cmd
}

func readJSON(path string, m proto.Message) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return usageErr(err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, m); err != nil {
		return usageErr(fmt.Errorf("%s: %w", path, err))
	}
	return nil
}
