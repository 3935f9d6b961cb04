package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
)

func planCmd(g *globals) *cobra.Command {
	return group("plan", "Notices, holds and what still blocks disclosure (clauses 2.2, 4)",
		`  ddrctl plan get 0193c0de-...
  ddrctl plan holds`,
		planGetCmd(g), holdsCmd(g), redirectCmd(g), exemptionCmd(g), dpaCmd(g), liftHoldCmd(g), waiverCmd(g), retryCmd(g))
}

func (g *globals) notification() (notificationv1.NotificationServiceClient, error) {
	cl, err := g.client()
	if err != nil {
		return nil, err
	}
	return notificationv1.NewNotificationServiceClient(cl.Conn()), nil
}

func planTable(t *tw, p *notificationv1.Plan) {
	in := p.GetInputs()
	t.kv("REQUEST", p.GetRequestId(),
		"STATUS", enumName(p.GetStatus()),
		"DECISION", enumName(in.GetDecision()),
		"COUNTRY", fmt.Sprintf("%s (adequate: %s)", orDash(in.GetAuthorityCountry()), yesno(in.GetAdequacy().GetAdequate())),
		"CUSTOMER", orDash(in.GetCustomerId()),
		"LEAD DPA", orDash(in.GetLeadDpa()))
	if p.GetHoldTime() != nil {
		t.kv("ON HOLD SINCE", ts(p.GetHoldTime()))
	}
	if p.GetHoldLiftTime() != nil {
		t.kv("HOLD LIFTED", ts(p.GetHoldLiftTime()))
	}
	if p.GetClearTime() != nil {
		t.kv("CLEARED", ts(p.GetClearTime()))
	}
	t.section("STEPS", "STEP", "CLAUSE", "STATUS", "NOTE")
	for _, s := range p.GetSteps() {
		note := s.GetSkipReason()
		if note == "" {
			note = s.GetDetail()
		}
		t.row(enumName(s.GetKind()), s.GetClause(), enumName(s.GetStatus()), oneLine(note, 80))
	}
	if len(p.GetBlockers()) > 0 {
		t.section("BLOCKERS", "CLAUSE", "EXPLANATION")
		for _, b := range p.GetBlockers() {
			t.row(b.GetClause(), oneLine(b.GetExplanation(), 110))
		}
	} else {
		t.section("BLOCKERS: none")
	}
	if r := p.GetRedirect(); r != nil {
		t.section("REDIRECT (4.1.1)")
		t.kv("OUTCOME", enumName(r.GetOutcome()), "SUPPORT", oneLine(r.GetSupport(), 80), "RECORDED BY", orDash(r.GetRecordedBy()))
	}
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
	var support string
	var outcome *enumFlag
	cmd := &cobra.Command{
		Use:   "redirect REQUEST_ID",
		Short: "Record the authority's answer to going to the customer directly (clause 4.1.1)",
		Long: `Redirect records what the authority answered when asked to make its request to
the customer directly. "agreed" ends the request as redirected and needs the
support given to the customer; any other answer opens the customer notice of
clause 4.1.2.`,
		Example: `  ddrctl plan redirect 0193c0de-... --outcome agreed --support "sent the customer the demand and our contract terms"
  ddrctl plan redirect 0193c0de-... --outcome declined`,
		Args: args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			res, err := no.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id, Outcome: notificationv1.RedirectOutcome(outcome.get()), Support: support})
			return res.GetPlan(), err
		}, planTable),
	}
	outcome = enumVar(cmd, "outcome", "the authority's answer", notificationv1.RedirectOutcome(0).Descriptor(), false)
	cmd.Flags().StringVar(&support, "support", "", "support given to the customer (required when agreed)")
	mustFlag(cmd, "outcome")
	return cmd
}

func exemptionCmd(g *globals) *cobra.Command {
	var reason, basis string
	var step *enumFlag
	cmd := &cobra.Command{
		Use:   "exemption REQUEST_ID",
		Short: "Record that a notice is not given because the law or an imminent risk prohibits it",
		Example: `  ddrctl plan exemption 0193c0de-... --step notify-customer --reason prohibited --basis "gag order AG 12/26, s. 3"
  ddrctl plan exemption 0193c0de-... --step hold-and-consult-dpa --reason imminent-risk --basis "threat to life"`,
		Args: args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			res, err := no.RecordExemption(ctx, &notificationv1.RecordExemptionRequest{
				RequestId: id, Step: notificationv1.StepKind(step.get()), Reason: normalizeReason(reason), Basis: basis,
			})
			return res.GetPlan(), err
		}, planTable),
	}
	step = enumVar(cmd, "step", "the notice not given", notificationv1.StepKind(0).Descriptor(), false)
	cmd.Flags().StringVar(&reason, "reason", "", "prohibited or imminent-risk")
	cmd.Flags().StringVar(&basis, "basis", "", "the law, order or facts it rests on")
	_ = cmd.RegisterFlagCompletionFunc("reason", fixedCompletion("prohibited", "imminent-risk"))
	mustFlag(cmd, "step", "reason", "basis")
	return cmd
}

// normalizeReason maps "imminent-risk" to the service's IMMINENT_RISK.
func normalizeReason(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
}

func dpaCmd(g *globals) *cobra.Command {
	var authority, summary string
	var outcome *enumFlag
	cmd := &cobra.Command{
		Use:   "dpa REQUEST_ID",
		Short: "Record a data protection authority's answer to the consultation (clause 4.2.1)",
		Long: `Dpa records a DPA's answer. The lead DPA's no-objection lifts the hold at once;
other answers are recorded and the hold stands until lift-hold or an
exemption.`,
		Example: `  ddrctl plan dpa 0193c0de-... --authority DPC-IE --outcome no-objection --summary "no objection, letter of 2026-12-01"`,
		Args:    args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			res, err := no.RecordDpaConsultation(ctx, &notificationv1.RecordDpaConsultationRequest{
				RequestId: id, Authority: authority, Outcome: notificationv1.ConsultationOutcome(outcome.get()), Summary: summary,
			})
			return res.GetPlan(), err
		}, planTable),
	}
	cmd.Flags().StringVar(&authority, "authority", "", "the DPA, as configured (e.g. DPC-IE)")
	outcome = enumVar(cmd, "outcome", "its answer", notificationv1.ConsultationOutcome(0).Descriptor(), false)
	cmd.Flags().StringVar(&summary, "summary", "", "what it said")
	mustFlag(cmd, "authority", "outcome")
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
	cmd := &cobra.Command{
		Use:   "waiver REQUEST_ID",
		Short: "Record a best effort to get a prohibition waived (clause 4.2.2)",
		Example: `  ddrctl plan waiver 0193c0de-... --kind inform-obligations --outcome informed --notes "letter to the prosecutor"
  ddrctl plan waiver 0193c0de-... --kind allow-customer-personnel --outcome granted --person "J. Doe, legal"`,
		Args: args(1, "REQUEST_ID"),
		RunE: onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			req := &notificationv1.RecordWaiverEffortRequest{
				RequestId: id, Kind: notificationv1.WaiverEffortKind(kind.get()), Outcome: notificationv1.WaiverOutcome(outcome.get()), Person: person, Notes: notes,
			}
			if at != "" {
				t, err := parseTime(at)
				if err != nil {
					return nil, usageErr(fmt.Errorf("--at: %w", err))
				}
				req.EffortTime = t
			}
			res, err := no.RecordWaiverEffort(ctx, req)
			return res.GetPlan(), err
		}, planTable),
	}
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
