package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
)

// Issue 16, intake's side for the Privacy Team: the whole request as
// received with every amendment (clause 3.3), the targets revealed only
// with a recorded reason, and a withdrawal the authority told staff of.

func init() {
	registerSub("case", caseRequestCmd, revealCmd, recordWithdrawalCmd)
}

func (g *globals) intakeStaff() (intakev1.IntakeServiceClient, error) {
	return stub(g, intakev1.NewIntakeServiceClient)
}

func caseRequestCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("request", "Show the whole request as received and every amendment; targets sealed (see case reveal)", `  ddrctl case request 0193c0de-...
  ddrctl case request 0193c0de-... -o yaml`,
		onRequest(g, g.intakeStaff, func(ctx context.Context, in intakev1.IntakeServiceClient, id string) (*intakev1.ReviewRequest, error) {
			res, err := in.GetRequestForReview(ctx, &intakev1.GetRequestForReviewRequest{RequestId: id})
			return res.GetRequest(), err
		}, reviewTable))
}

func reviewTable(t *tw, r *intakev1.ReviewRequest) {
	c := r.GetContent()
	a, lp, em := c.GetAuthority(), c.GetLegalProcess(), c.GetEmergency()
	t.kv("REQUEST", r.GetRequestId(),
		"GROUP MEMBER", r.GetGroupMember(),
		"AUTHORITY", fmt.Sprintf("%s (%s, %s)", a.GetName(), enumName(a.GetKind()), orDash(a.GetCountry())),
		"CHANNEL", enumName(c.GetChannel()),
		"SENDER", orDash(c.GetSenderAddress()),
		"LEGAL PROCESS", fmt.Sprintf("%s %s", enumName(lp.GetType()), orDash(lp.GetReference())),
		"ISSUED BY", orDash(lp.GetIssuingBody()),
		"PURPOSE", oneLine(c.GetStatedPurpose(), 100),
		"SCOPE", fmt.Sprintf("%s: %s", enumName(c.GetScopeSelector()), oneLine(c.GetScopeDescription(), 90)),
		"CATEGORIES", categories(c.GetDataCategories()),
		"PERIOD", ts(c.GetTimeRange().GetFrom())+" to "+ts(c.GetTimeRange().GetTo()),
		"EMERGENCY", yesno(em.GetClaimed()),
		"HARM", oneLine(em.GetHarmDescribed(), 100),
		"GAG", fmt.Sprintf("%s %s until %s", yesno(c.GetGag().GetPresent()), orDash(c.GetGag().GetReference()), ts(c.GetGag().GetExpiresAt())),
		"DEADLINE", ts(c.GetDeadline()),
		"NOTES", oneLine(c.GetNotes(), 100),
		"RECEIVED", ts(c.GetReceivedAt()),
		"SUBMITTED", ts(r.GetSubmitTime()),
		"LATE FORWARDING", yesno(r.GetLateForwarding()),
		"WITHDRAWN", withdrawal(r))
	t.section("CUSTOMERS", "CUSTOMER", "ROLE", "ESTABLISHMENT")
	if c.GetCustomerId() != "" {
		// The one-customer form: a customer of unknown role.
		t.row(c.GetCustomerId(), enumName(intakev1.CustomerRole_CUSTOMER_ROLE_UNSPECIFIED), orDash(c.GetCustomerEstablishment()))
	}
	for _, cu := range c.GetCustomers() {
		t.row(cu.GetCustomerId(), enumName(cu.GetRole()), orDash(cu.GetEstablishment()))
	}
	erased := ""
	if r.GetTargetsErased() {
		erased = ", erased"
	}
	t.section(fmt.Sprintf("TARGETS (%d, sealed%s)", r.GetTargetCount(), erased), "REF", "KIND")
	for _, tg := range c.GetTargets() {
		t.row(tg.GetRef(), enumName(tg.GetKind()))
	}
	t.section("ATTACHMENTS", "URI", "MEDIA TYPE", "SHA-256")
	for _, at := range c.GetAttachments() {
		t.row(at.GetUri(), orDash(at.GetMediaType()), at.GetSha256())
	}
	t.section("AMENDMENTS", "TIME", "INFORMATION", "ATTACHMENTS")
	for _, am := range r.GetAmendments() {
		t.row(ts(am.GetAmendTime()), oneLine(am.GetInformation(), 80), fmt.Sprint(len(am.GetAttachments())))
	}
	t.section("REVEALS", "TIME", "BY", "ROLES", "REASON")
	for _, rv := range r.GetReveals() {
		t.row(ts(rv.GetRevealTime()), rv.GetRevealedBy(), strings.Join(rv.GetRoles(), ","), oneLine(rv.GetReason(), 60))
	}
}

func categories(cs []intakev1.DataCategory) string {
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, enumName(c))
	}
	return orDash(strings.Join(names, ","))
}

func withdrawal(r *intakev1.ReviewRequest) string {
	switch {
	case r.GetWithdrawTime() == nil:
		return "no"
	case r.GetWithdrawalRecordedBy() != "":
		return ts(r.GetWithdrawTime()) + " (recorded by " + r.GetWithdrawalRecordedBy() + ")"
	}
	return ts(r.GetWithdrawTime()) + " (reported by the group member)"
}

func revealCmd(g *globals) *cobra.Command {
	var reason string
	cmd := idCmd("reveal", "Show the request's target values; the reveal (you, your roles, when, why) goes into the record first",
		`  ddrctl case reveal 0193c0de-... --reason "check the accounts exist before deciding"`,
		onRequest(g, g.intakeStaff, func(ctx context.Context, in intakev1.IntakeServiceClient, id string) (*intakev1.RevealTargetsResponse, error) {
			return in.RevealTargets(ctx, &intakev1.RevealTargetsRequest{RequestId: id, Reason: reason})
		}, func(t *tw, r *intakev1.RevealTargetsResponse) {
			t.kv("REVEALED", ts(r.GetRevealTime()))
			t.section("TARGETS", "REF", "KIND", "VALUE")
			for _, tg := range r.GetTargets() {
				v := tg.GetValue()
				if tg.GetErased() {
					v = "(erased)"
				}
				t.row(tg.GetRef(), enumName(tg.GetKind()), v)
			}
		}))
	cmd.Flags().StringVar(&reason, "reason", "", "why the values must be seen (kept in the record)")
	mustFlag(cmd, "reason")
	return cmd
}

func recordWithdrawalCmd(g *globals) *cobra.Command {
	var reason string
	cmd := idCmd("record-withdrawal", "Record that the authority told you directly it withdrew the request",
		`  ddrctl case record-withdrawal 0193c0de-... --reason "prosecutor phoned: order revoked"`,
		onRequest(g, g.intakeStaff, func(ctx context.Context, in intakev1.IntakeServiceClient, id string) (*intakev1.RecordWithdrawalResponse, error) {
			return in.RecordWithdrawal(ctx, &intakev1.RecordWithdrawalRequest{RequestId: id, Reason: reason})
		}, func(t *tw, r *intakev1.RecordWithdrawalResponse) {
			t.kv("WITHDRAWN", ts(r.GetWithdrawTime()))
		}))
	cmd.Flags().StringVar(&reason, "reason", "", "what the authority said (kept in the record)")
	mustFlag(cmd, "reason")
	return cmd
}
