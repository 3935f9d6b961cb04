package cli

import (
	"context"
	"strconv"

	"github.com/spf13/cobra"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
)

// Issue 18: verifying who is asking, through the authority directory.

func init() {
	registerSub("case", verifyContactsCmd)
	registerSub("case", caseVerifyCmd)
}

func (g *globals) verification() (assessmentv1.VerificationServiceClient, error) {
	cl, err := g.client()
	if err != nil {
		return nil, err
	}
	return assessmentv1.NewVerificationServiceClient(cl.Conn()), nil
}

func verifyContactsCmd(g *globals) *cobra.Command {
	return idCmd("verify-contacts", "Show the directory's verified contacts of the requesting authority (clause 2.1), never the request's own",
		`  ddrctl case verify-contacts 0193c0de-...`,
		onRequest(g, g.verification, func(ctx context.Context, v assessmentv1.VerificationServiceClient, id string) (*assessmentv1.GetVerificationContactsResponse, error) {
			return v.GetVerificationContacts(ctx, &assessmentv1.GetVerificationContactsRequest{RequestId: id})
		}, contactsTable))
}

func caseVerifyCmd(g *globals) *cobra.Command {
	var channel, note string
	var outcome *enumFlag
	cmd := &cobra.Command{
		Use:   "verify REQUEST_ID",
		Short: "Record a call back to the authority through a directory contact (clause 2.1)",
		Long: `Verify records the outcome of verifying the request through one of the
contacts "case verify-contacts" lists (from the authority directory, never
from the request). An emergency or imminent-risk disclosure takes effect only
after a confirmed verification; unreachable keeps it blocked; forged leaves
only a reject, flags the authority for its later requests and opens a
security incident (a personal-data breach with its deadlines when data had
already been disclosed).`,
		Example: `  ddrctl case verify 0193c0de-... --channel phone:35316660000 --outcome confirmed --note "duty sergeant confirmed the request"
  ddrctl case verify 0193c0de-... --channel email:garda.ie --outcome forged`,
		Args: args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.verification, func(ctx context.Context, v assessmentv1.VerificationServiceClient, id string) (*assessmentv1.RecordVerificationResponse, error) {
			return v.RecordVerification(ctx, &assessmentv1.RecordVerificationRequest{
				RequestId: id, ChannelId: channel, Outcome: assessmentv1.VerificationOutcome(outcome.get()), Note: note,
			})
		}, verifiedTable),
	}
	outcome = enumVar(cmd, "outcome", "what the call back found", assessmentv1.VerificationOutcome(0).Descriptor(), false)
	cmd.Flags().StringVar(&channel, "channel", "", "channel id of a directory contact, as verify-contacts lists it")
	cmd.Flags().StringVar(&note, "note", "", "what was said (kept in the record)")
	mustFlag(cmd, "channel")
	mustFlag(cmd, "outcome")
	return cmd
}

func contactsTable(t *tw, r *assessmentv1.GetVerificationContactsResponse) {
	t.kv("AUTHORITY", r.GetAuthorityId(), "NAME", r.GetAuthorityName(), "SOURCE", orDash(r.GetSource()))
	verificationRows(t, r.GetVerification())
	t.section("CONTACTS", "CHANNEL ID", "CHANNEL", "VALUE")
	for _, c := range r.GetContacts() {
		t.row(c.GetChannelId(), c.GetChannel(), c.GetValue())
	}
}

func verifiedTable(t *tw, r *assessmentv1.RecordVerificationResponse) {
	verificationRows(t, r.GetVerification())
	caseTable(t, r.GetCase())
}

func verificationRows(t *tw, v *assessmentv1.RequesterVerification) {
	t.kv("SENDER VERIFIED", yesno(v.GetSenderVerified()), "REASON", orDash(v.GetReason()),
		"PRIOR FORGERIES", strconv.Itoa(int(v.GetPriorForgeries())), "REQUIRED FOR ANY DISCLOSURE", yesno(v.GetRequiredForAnyDisclosure()),
		"OUTCOME", enumName(v.GetOutcome()), "VERIFIED BY", orDash(v.GetVerifiedBy()), "VERIFIED", ts(v.GetVerifyTime()),
		"CHANNEL", orDash(v.GetChannelId()), "INCIDENT", orDash(v.GetIncidentId()))
}
