package cli

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
)

// Issue 18: verifying who is asking, through the authority directory.

func init() {
	registerSub("case", verifyContactsCmd, caseVerifyCmd, verifyScopeCmd)
}

func (g *globals) verification() (assessmentv1.VerificationServiceClient, error) {
	return stub(g, assessmentv1.NewVerificationServiceClient)
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

// verifyScopeCmd shows the verification scope in force; its subcommands
// change it under the two-person rule (issue 15): a wider scope takes
// effect at once, a narrower one when a second person confirms it.
func verifyScopeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify-scope",
		Short: "Show which disclosures need a confirmed verification of the requester (clause 2.1), the narrowing waiting for a second person, and the history",
		Long: `The verification scope says which disclosures wait for a confirmed
verification of the requester beyond emergency and imminent-risk ones
(always): emergency (none more), unverified (also any to a requester the
directory did not verify) or all. It is stored; the startup flag
--assessment-verify-scope is only its initial value, and a narrower flag at a
restart does not narrow it. Widening takes effect at once; narrowing weakens
a safeguard and takes effect only when an approver or legal who did not
propose it confirms.`,
		Example: `  ddrctl case verify-scope
  ddrctl case verify-scope -o json`,
		Args: args(0),
		RunE: calling(g, g.verification, func(ctx context.Context, v assessmentv1.VerificationServiceClient, _ *cobra.Command, _ []string) error {
			r, err := v.GetVerificationScope(ctx, &assessmentv1.GetVerificationScopeRequest{})
			if err != nil {
				return err
			}
			return g.print(r, func(t *tw) {
				scopeSettingRows(t, r.GetInForce())
				scopePendingRows(t, r.GetPending())
				t.section("HISTORY", "SCOPE", "CHANGED BY", "CHANGED", "CONFIRMED BY", "SOURCE", "REASON")
				for _, h := range r.GetHistory() {
					t.row(scopeName(h.GetScope()), orDash(h.GetChangedBy()), ts(h.GetChangeTime()), orDash(h.GetConfirmedBy()), orDash(h.GetSource()), orDash(h.GetReason()))
				}
			})
		}),
	}
	cmd.AddCommand(verifyScopeSetCmd(g), verifyScopeConfirmCmd(g))
	return cmd
}

func verifyScopeSetCmd(g *globals) *cobra.Command {
	var reason string
	var scope *enumFlag
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Change the verification scope: a wider one is in force at once, a narrower one waits for a second person",
		Example: `  ddrctl case verify-scope set --scope all --reason "forged emergency requests reported across the sector"
  ddrctl case verify-scope set --scope emergency --reason "the directory now covers every authority we hear from"`,
		Args: args(0),
		RunE: calling(g, g.verification, func(ctx context.Context, v assessmentv1.VerificationServiceClient, _ *cobra.Command, _ []string) error {
			r, err := v.ProposeVerificationScope(ctx, &assessmentv1.ProposeVerificationScopeRequest{
				Scope: assessmentv1.VerificationScope(scope.get()), Reason: reason,
			})
			if err != nil {
				return err
			}
			return g.print(r, func(t *tw) {
				t.kv("IN FORCE NOW", yesno(r.GetInForceNow()))
				scopeSettingRows(t, r.GetInForce())
				scopePendingRows(t, r.GetPending())
			})
		}),
	}
	scope = enumVar(cmd, "scope", "the scope to set", assessmentv1.VerificationScope(0).Descriptor(), false)
	cmd.Flags().StringVar(&reason, "reason", "", "why, about the configuration (never about people)")
	mustFlag(cmd, "scope")
	mustFlag(cmd, "reason")
	return cmd
}

func verifyScopeConfirmCmd(g *globals) *cobra.Command {
	var proposal string
	cmd := &cobra.Command{
		Use:     "confirm",
		Short:   "Confirm a narrowing of the verification scope someone else proposed (approver or legal)",
		Example: `  ddrctl case verify-scope confirm --proposal 0193c0de-...`,
		Args:    args(0),
		RunE: calling(g, g.verification, func(ctx context.Context, v assessmentv1.VerificationServiceClient, _ *cobra.Command, _ []string) error {
			r, err := v.ConfirmVerificationScope(ctx, &assessmentv1.ConfirmVerificationScopeRequest{ProposalId: proposal})
			if err != nil {
				return err
			}
			return g.print(r, func(t *tw) { scopeSettingRows(t, r.GetInForce()) })
		}),
	}
	cmd.Flags().StringVar(&proposal, "proposal", "", "the proposal id \"case verify-scope\" shows")
	mustFlag(cmd, "proposal")
	return cmd
}

// scopeName is a scope as people type it: "emergency", "unverified", "all".
func scopeName(s assessmentv1.VerificationScope) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "VERIFICATION_SCOPE_"))
}

func scopeSettingRows(t *tw, s *assessmentv1.VerificationScopeSetting) {
	t.kv("SCOPE IN FORCE", scopeName(s.GetScope()), "CHANGED BY", orDash(s.GetChangedBy()), "CHANGED", ts(s.GetChangeTime()),
		"CONFIRMED BY", orDash(s.GetConfirmedBy()), "SOURCE", orDash(s.GetSource()), "REASON", orDash(s.GetReason()))
}

func scopePendingRows(t *tw, p *assessmentv1.VerificationScopeProposal) {
	if p == nil {
		return
	}
	t.kv("PENDING PROPOSAL", p.GetProposalId(), "PENDING SCOPE", scopeName(p.GetFromScope())+" -> "+scopeName(p.GetScope()),
		"PROPOSED BY", orDash(p.GetLift().GetRecordedBy()), "PROPOSED", ts(p.GetLift().GetRecordTime()),
		"CONFIRM ROLES", strings.Join(p.GetLift().GetConfirmRoles(), " or "), "BASIS", orDash(p.GetLift().GetBasis()))
}
