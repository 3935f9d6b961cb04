package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
)

func planCmd(g *globals) *cobra.Command { //nolint:dupl // a command group: name, help, examples and subcommands, the shape of every group
	return group("plan", "Notices, holds and what still blocks disclosure (clauses 2.2, 4)",
		`  ddrctl plan get 0193c0de-...
  ddrctl plan holds`,
		planGetCmd(g), holdsCmd(g), redirectCmd(g), exemptCmd(g), dpaOutcomeCmd(g), dispatchCmd(g), weakenCmd(g), confirmCmd(g),
		checkCmd(g), liftHoldCmd(g), waiverCmd(g), retryCmd(g))
}

func (g *globals) notification() (notificationv1.NotificationServiceClient, error) {
	return stub(g, notificationv1.NewNotificationServiceClient)
}

func planTable(t *tw, p *notificationv1.Plan) {
	in := p.GetInputs()
	t.kv("REQUEST", p.GetRequestId(),
		"STATUS", enumName(p.GetStatus()),
		"DECISION", enumName(in.GetDecision()),
		"COUNTRY", fmt.Sprintf("%s (adequate: %s)", orDash(in.GetAuthorityCountry()), yesno(in.GetAdequacy().GetAdequate())),
		"CUSTOMER", orDash(in.GetCustomerId()),
		"LEAD DPA", orDash(in.GetLeadDpa()))
	if len(p.GetAuthorities()) > 0 {
		t.kv("DPAS (2.2)", strings.Join(p.GetAuthorities(), ", "))
	}
	if p.GetHoldTime() != nil {
		t.kv("ON HOLD SINCE", ts(p.GetHoldTime()))
	}
	if p.GetHoldLiftTime() != nil {
		t.kv("HOLD LIFTED", ts(p.GetHoldLiftTime()))
	}
	if p.GetClearTime() != nil {
		t.kv("CLEARED", ts(p.GetClearTime()))
	}
	stepsTable(t, p)
	if len(p.GetBlockers()) > 0 {
		t.section("BLOCKERS", "CLAUSE", "EXPLANATION")
		for _, b := range p.GetBlockers() {
			t.row(b.GetClause(), oneLine(b.GetExplanation(), 110))
		}
	} else {
		t.section("BLOCKERS: none")
	}
	redirectsTable(t, p)
	if len(p.GetDeliveries()) > 0 {
		t.section("DELIVERIES", "STEP", "RECIPIENT", "CHANNEL", "RESULT")
		for _, d := range p.GetDeliveries() {
			res := "delivered: " + oneLine(d.GetReceipt(), 40)
			if d.GetFailed() {
				res = "failed: " + d.GetFailureReason()
			}
			t.row(enumName(d.GetStep()), d.GetRecipient(), enumName(d.GetChannel()), res)
		}
	}
	if len(p.GetExemptions()) > 0 {
		t.section("EXEMPTIONS", "STEP", "REASON", "BASIS")
		for _, e := range p.GetExemptions() {
			t.row(enumName(e.GetStep()), e.GetReason(), oneLine(e.GetBasis(), 80))
		}
	}
	if len(p.GetConsultations()) > 0 {
		t.section("DPA CONSULTATIONS (4.2.1)", "DPA", "OUTCOME", "SUMMARY")
		for _, c := range p.GetConsultations() {
			t.row(c.GetAuthority(), enumName(c.GetOutcome()), oneLine(c.GetSummary(), 80))
		}
	}
	if len(p.GetLifts()) > 0 {
		t.section("SAFEGUARDS LIFTED (two people)", "LIFT", "CLAUSE", "STATE", "RECORDED BY", "CONFIRMED BY", "CONFIRMER NEEDS")
		for _, l := range p.GetLifts() {
			state := "pending"
			if l.GetConfirmedBy() != "" {
				state = "confirmed"
			}
			t.row(l.GetId(), l.GetClause(), state, l.GetRecordedBy(), orDash(l.GetConfirmedBy()), strings.Join(l.GetConfirmRoles(), " or "))
		}
	}
	if len(p.GetWeakenings()) > 0 {
		var ks []string
		for _, k := range p.GetWeakenings() {
			ks = append(ks, enumName(k))
		}
		t.section("KEPT OWED UNTIL A WEAKENING IS CONFIRMED: " + strings.Join(ks, ", "))
	}
	if len(p.GetWaiverEfforts()) > 0 {
		t.section("WAIVER EFFORTS (4.2.2)", "KIND", "OUTCOME", "PERSON", "NOTES")
		for _, w := range p.GetWaiverEfforts() {
			t.row(enumName(w.GetKind()), enumName(w.GetOutcome()), orDash(w.GetPerson()), oneLine(w.GetNotes(), 60))
		}
	}
	if len(p.GetFlags()) > 0 {
		t.section("FLAGS", "CODE", "CLAUSE", "EXPLANATION")
		for _, f := range p.GetFlags() {
			t.row(f.GetCode(), f.GetClause(), oneLine(f.GetExplanation(), 80))
		}
	}
}

func planGetCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("get", "Show a request's plan and what still blocks disclosure", `  ddrctl plan get 0193c0de-...`,
		onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			res, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
			return res.GetPlan(), err
		}, planTable))
}

func holdsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "holds",
		Short:   "List the requests on hold (clause 4.2.1), oldest first",
		Example: `  ddrctl plan holds -o json`,
		Args:    args(0),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			no, err := g.notification()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd)
			defer cancel()
			all := &notificationv1.ListHoldsResponse{}
			req := &notificationv1.ListHoldsRequest{PageSize: 500}
			for {
				res, err := no.ListHolds(ctx, req)
				if err != nil {
					return err
				}
				all.Holds = append(all.Holds, res.GetHolds()...)
				if req.PageToken = res.GetNextPageToken(); req.PageToken == "" {
					break
				}
			}
			return g.print(all, func(t *tw) {
				t.row("REQUEST", "COUNTRY", "CLAUSE", "SINCE", "AGE", "WAITING FOR")
				for _, h := range all.GetHolds() {
					t.row(h.GetRequestId(), h.GetCountry(), h.GetClause(), ts(h.GetHoldTime()), dur(h.GetAge()), oneLine(h.GetWaitingFor(), 90))
				}
			})
		}),
	}
}

func redirectCmd(g *globals) *cobra.Command {
	var outcome *enumFlag
	var support string
	// customer: which controller customer's redirect, when there are several.
	var customer string
	cmd := &cobra.Command{
		Use:   "redirect REQUEST_ID",
		Short: "Record the authority's answer to going to the customer directly (clause 4.1.1)",
		Long: `Redirect records what the authority answered when asked to make its request to
the customer directly. "agreed" ends the request as redirected and needs the
support given to the customer; any other answer opens the customer notice of
clause 4.1.2.`,
		Example: `  ddrctl plan redirect 0193c0de-... --outcome agreed --support "sent the customer the demand and our contract terms"
  ddrctl plan redirect 0193c0de-... --outcome declined
  ddrctl plan redirect 0193c0de-... --customer c2 --outcome declined`,
		Args: args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, recordRedirect(&outcome, &support, &customer), planTable),
	}
	outcome = enumVar(cmd, "outcome", "the authority's answer", notificationv1.RedirectOutcome(0).Descriptor(), false)
	cmd.Flags().StringVar(&support, "support", "", "support given to the customer (required when agreed)")
	cmd.Flags().StringVar(&customer, "customer", "", "which controller customer's redirect (c1, c2, ...; required when the request has several)")
	mustFlag(cmd, "outcome")
	return cmd
}

// proposed is the answer of a proposal: the plan and the lift a second
// person confirms.
type proposed interface {
	proto.Message
	GetPlan() *notificationv1.Plan
	GetLiftId() string
}

func proposedTable[M proposed](t *tw, m M) {
	t.kv("LIFT", m.GetLiftId()+" (nothing is lifted until a second person confirms: ddrctl plan confirm "+m.GetPlan().GetRequestId()+" --lift "+m.GetLiftId()+")")
	planTable(t, m.GetPlan())
}

func exemptCmd(g *globals) *cobra.Command {
	var reason, basis, evidence, statute, why, customer string
	var step *enumFlag
	cmd := &cobra.Command{
		Use:   "exempt REQUEST_ID",
		Short: "Propose that a notice or the hold is not given because the law or an imminent risk prohibits it",
		Long: `Exempt records one person's proposal, with its basis and evidence, that the
customer notice (4.1.2), the DPA notice (2.2) or the hold (4.2.1) is not given.
"prohibited" needs a recorded gag order or a --statute; "imminent-risk" needs
the authority's claim or a reviewer's justification, and --why-notice-defeats.
Nothing is lifted until a second person with the legal role, who did not
propose the decision, confirms it (ddrctl plan confirm).`,
		Example: `  ddrctl plan exempt 0193c0de-... --step notify-customer --reason prohibited --basis "gag order AG 12/26, s. 3" --evidence "AG 12/26"
  ddrctl plan exempt 0193c0de-... --step hold-and-consult-dpa --reason imminent-risk --basis "threat to life" --evidence "order p. 2" --why-notice-defeats "the suspect administers the tenant"`,
		Args: args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.ProposeExemptionResponse, error) {
			return no.ProposeExemption(ctx, &notificationv1.ProposeExemptionRequest{
				RequestId: id, Step: notificationv1.StepKind(step.get()), Reason: normalizeReason(reason), Basis: basis,
				EvidenceReference: evidence, Statute: statute, WhyNoticeDefeats: why, CustomerRef: customer,
			})
		}, proposedTable),
	}
	step = enumVar(cmd, "step", "the notice or hold not given", notificationv1.StepKind(0).Descriptor(), false)
	cmd.Flags().StringVar(&reason, "reason", "", "prohibited or imminent-risk")
	cmd.Flags().StringVar(&basis, "basis", "", "the law, order or facts it rests on")
	cmd.Flags().StringVar(&evidence, "evidence", "", "reference of the gag order, statute or risk finding")
	cmd.Flags().StringVar(&statute, "statute", "", "prohibited without a recorded gag: the statute legal cites")
	cmd.Flags().StringVar(&why, "why-notice-defeats", "", "imminent-risk: why prior notice would defeat the purpose")
	cmd.Flags().StringVar(&customer, "customer", "", "notify-customer with several controller customers: the one customer's notice (c1, c2, ...); empty: every customer's")
	_ = cmd.RegisterFlagCompletionFunc("reason", fixedCompletion("prohibited", "imminent-risk"))
	mustFlag(cmd, "step", "reason", "basis", "evidence")
	return cmd
}

// normalizeReason maps "imminent-risk" to the service's IMMINENT_RISK.
func normalizeReason(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}

func dpaOutcomeCmd(g *globals) *cobra.Command {
	var authority, summary, reference, date string
	var outcome *enumFlag
	cmd := &cobra.Command{
		Use:   "dpa-outcome REQUEST_ID",
		Short: "Propose a data protection authority's answer to the consultation (clauses 2.2, 4.2.1)",
		Long: `Dpa-outcome records one person's record of a DPA's answer, with the DPA's reply
reference and date, once the packet went out to it. "no-response" needs the
consultation period to have run since the packet (legal confirms). The
answer counts, and the lead DPA's no-objection lifts the hold, only once a
second person confirms it (ddrctl plan confirm).`,
		Example: `  ddrctl plan dpa-outcome 0193c0de-... --authority DPC-IE --outcome no-objection --reply-reference DPC-2026-118 --reply-date 2026-12-01
  ddrctl plan dpa-outcome 0193c0de-... --authority DPC-IE --outcome no-response`,
		Args: args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.ProposeConsultationOutcomeResponse, error) {
			req := &notificationv1.ProposeConsultationOutcomeRequest{
				RequestId: id, Authority: authority, Outcome: notificationv1.ConsultationOutcome(outcome.get()), Summary: summary, ReplyReference: reference,
			}
			t, err := optionalTime("reply-date", date)
			if err != nil {
				return nil, err
			}
			req.ReplyTime = t
			return no.ProposeConsultationOutcome(ctx, req)
		}, proposedTable),
	}
	cmd.Flags().StringVar(&authority, "authority", "", "the DPA, one of the plan's authorities (e.g. DPC-IE)")
	outcome = enumVar(cmd, "outcome", "its answer", notificationv1.ConsultationOutcome(0).Descriptor(), false)
	cmd.Flags().StringVar(&summary, "summary", "", "what it said")
	cmd.Flags().StringVar(&reference, "reply-reference", "", "the DPA's reference for its reply (not for no-response)")
	cmd.Flags().StringVar(&date, "reply-date", "", "the date of its reply, RFC 3339 or YYYY-MM-DD (not for no-response)")
	mustFlag(cmd, "authority", "outcome")
	return cmd
}

func dispatchCmd(g *globals) *cobra.Command {
	var authority, reference, sent string
	var outcome bool
	var means *enumFlag
	cmd := &cobra.Command{
		Use:   "dispatch REQUEST_ID",
		Short: "Propose that the DPA packet, or the notice of how the request ended, went out by hand (clauses 2.2, 5.1)",
		Long: `Dispatch records one person's record of a DPA packet sent without e-mail or
webhook, with its portal receipt or postal reference. It counts as sent once
a second person confirms it (ddrctl plan confirm). With --outcome it records
instead the notice telling a consulted DPA how the request ended (5.1),
sent by hand after the end.`,
		Example: `  ddrctl plan dispatch 0193c0de-... --authority CNIL --means post --reference RR-1234-FR --sent 2026-12-01
  ddrctl plan dispatch 0193c0de-... --authority CNIL --means portal --reference CNIL-77 --outcome`,
		Args: args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.ProposeManualDispatchResponse, error) {
			t, err := flagTime("sent", sent)
			if err != nil {
				return nil, err
			}
			req := &notificationv1.ProposeManualDispatchRequest{
				RequestId: id, Authority: authority, Means: notificationv1.DispatchMeans(means.get()), Reference: reference, SentTime: t,
			}
			if outcome {
				req.Step = notificationv1.StepKind_STEP_KIND_NOTIFY_DPA_OUTCOME
			}
			return no.ProposeManualDispatch(ctx, req)
		}, proposedTable),
	}
	cmd.Flags().StringVar(&authority, "authority", "", "the DPA, one of the plan's authorities")
	means = enumVar(cmd, "means", "how it went out", notificationv1.DispatchMeans(0).Descriptor(), false)
	cmd.Flags().StringVar(&reference, "reference", "", "the portal receipt or postal reference")
	cmd.Flags().StringVar(&sent, "sent", "now", "when it was sent, RFC 3339 or YYYY-MM-DD")
	cmd.Flags().BoolVar(&outcome, "outcome", false, "the notice of how the request ended (5.1), not the packet")
	mustFlag(cmd, "authority", "means", "reference")
	return cmd
}

func weakenCmd(g *globals) *cobra.Command {
	var basis, evidence string
	var step *enumFlag
	cmd := &cobra.Command{
		Use:   "weaken REQUEST_ID",
		Short: "Propose dropping a step the changed facts no longer require",
		Long: `Weaken records one person's proposal that a step once owed is dropped because
the facts changed (a correction, an amendment, a configuration). The step
stays owed until a second person with the legal role confirms it.`,
		Example: `  ddrctl plan weaken 0193c0de-... --step notify-customer --basis "the customer is not the controller after all" --evidence "amendment of 2026-12-01"`,
		Args:    args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.ProposeWeakeningResponse, error) { //nolint:dupl // one RPC with a kind, a basis and a reference, as case challenge-outcome: only the method differs
			return no.ProposeWeakening(ctx, &notificationv1.ProposeWeakeningRequest{
				RequestId: id, Step: notificationv1.StepKind(step.get()), Basis: basis, EvidenceReference: evidence,
			})
		}, proposedTable),
	}
	step = enumVar(cmd, "step", "the step to drop", notificationv1.StepKind(0).Descriptor(), false)
	cmd.Flags().StringVar(&basis, "basis", "", "why the step is no longer owed")
	cmd.Flags().StringVar(&evidence, "evidence", "", "the correction, amendment or configuration it rests on")
	mustFlag(cmd, "step", "basis", "evidence")
	return cmd
}

func confirmCmd(g *globals) *cobra.Command {
	var lift string
	cmd := &cobra.Command{
		Use:   "confirm REQUEST_ID",
		Short: "Confirm, as the second person, a lift someone else proposed",
		Long: `Confirm is the second pair of eyes on an exemption, a DPA outcome, a manual
dispatch or a weakening: you cannot confirm what you recorded, nor a lift on
a decision you proposed, and you need the role the lift names (see the
SAFEGUARDS LIFTED section of ddrctl plan get). Only now does it take effect.`,
		Example: `  ddrctl plan confirm 0193c0de-... --lift consultation/DPC-IE/1`,
		Args:    args(1, "REQUEST_ID"),
		RunE:    onRequest(g, g.notification, confirmLift(&lift), planTable),
	}
	cmd.Flags().StringVar(&lift, "lift", "", "the lift's id, as ddrctl plan get lists it")
	mustFlag(cmd, "lift")
	return cmd
}

// confirmLift confirms the lift named by the --lift flag.
func confirmLift(lift *string) func(context.Context, notificationv1.NotificationServiceClient, string) (*notificationv1.Plan, error) {
	return func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
		res, err := no.ConfirmLift(ctx, &notificationv1.ConfirmLiftRequest{RequestId: id, LiftId: *lift})
		return res.GetPlan(), err
	}
}

func checkCmd(g *globals) *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "check REQUEST_ID",
		Short: "Check a disclosure may go out on a date: every blocking clause, adequacy judged again",
		Long: `Check asks the disclosure gate: adequacy is judged again as of the date (a
loss places a hold) and every blocker is listed in the refusal, most specific
clause first. Exit code 0: nothing blocks.`,
		Example: `  ddrctl plan check 0193c0de-...
  ddrctl plan check 0193c0de-... --at 2026-12-01`,
		Args: args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			req := &notificationv1.CheckDisclosureRequest{RequestId: id}
			t, err := optionalTime("at", at)
			if err != nil {
				return nil, err
			}
			req.DisclosureTime = t
			res, err := no.CheckDisclosure(ctx, req)
			return res.GetPlan(), err
		}, planTable),
	}
	cmd.Flags().StringVar(&at, "at", "", "the disclosure date, RFC 3339 or YYYY-MM-DD (default: now)")
	return cmd
}

func liftHoldCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("lift-hold", "Lift a hold on the lead DPA's recorded answer (clause 4.2.1)", `  ddrctl plan lift-hold 0193c0de-...`,
		onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			res, err := no.LiftHold(ctx, &notificationv1.LiftHoldRequest{RequestId: id})
			return res.GetPlan(), err
		}, planTable))
}

func waiverCmd(g *globals) *cobra.Command {
	var person, notes, at string
	var kind, outcome *enumFlag
	cmd := idCmd("waiver", "Record a best effort to get a prohibition waived (clause 4.2.2)",
		`  ddrctl plan waiver 0193c0de-... --kind inform-obligations --outcome informed --notes "letter to the prosecutor"
  ddrctl plan waiver 0193c0de-... --kind allow-customer-personnel --outcome granted --person "J. Doe, legal"`,
		onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			req := &notificationv1.RecordWaiverEffortRequest{
				RequestId: id, Kind: notificationv1.WaiverEffortKind(kind.get()), Outcome: notificationv1.WaiverOutcome(outcome.get()), Person: person, Notes: notes,
			}
			t, err := optionalTime("at", at)
			if err != nil {
				return nil, err
			}
			req.EffortTime = t
			res, err := no.RecordWaiverEffort(ctx, req)
			return res.GetPlan(), err
		}, planTable))
	kind = enumVar(cmd, "kind", "the effort", notificationv1.WaiverEffortKind(0).Descriptor(), false)
	outcome = enumVar(cmd, "outcome", "how it ended", notificationv1.WaiverOutcome(0).Descriptor(), false)
	cmd.Flags().StringVar(&person, "person", "", "who made the effort (default: you)")
	cmd.Flags().StringVar(&notes, "notes", "", "what was done")
	cmd.Flags().StringVar(&at, "at", "", "when, RFC 3339 (default: now)")
	mustFlag(cmd, "kind", "outcome")
	return cmd
}

func retryCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("retry", "Attempt the request's owed notices now instead of at their next backoff", `  ddrctl plan retry 0193c0de-...`,
		onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			res, err := no.RetryDelivery(ctx, &notificationv1.RetryDeliveryRequest{RequestId: id})
			return res.GetPlan(), err
		}, planTable))
}
