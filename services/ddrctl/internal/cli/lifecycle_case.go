package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/ddrctl/client"
)

// Issue 16, the case's lifecycle: ask the member for more information,
// acknowledge a withdrawal, correct facts (a second person confirms a
// correction that weakens a step), link the cases of one demand.
func init() {
	registerSub("case", askCmd, ackWithdrawalCmd, correctCmd, confirmCorrectionCmd, linkCmd)
}

// caseFlagCmd is a case command on REQUEST_ID with one required text flag.
func caseFlagCmd(g *globals, use, short, example, flag, help string, call func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id, value string) (*assessmentv1.Case, error)) *cobra.Command {
	var value string
	cmd := idCmd(use, short, example, onRequest(g, g.assessment, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.Case, error) {
		return call(ctx, as, id, value)
	}, lifecycleCaseTable))
	cmd.Flags().StringVar(&value, flag, "", help)
	mustFlag(cmd, flag)
	return cmd
}

func askCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id and one flag: only the method differs
	return caseFlagCmd(g, "ask", "Ask the group member for more information; their amendment sends the case back to review",
		`  ddrctl case ask 0193c0de-... --question "Which period does the order cover?"`, "question", "what the member should supply",
		func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id, q string) (*assessmentv1.Case, error) {
			res, err := as.RequestInformation(ctx, &assessmentv1.RequestInformationRequest{RequestId: id, Question: q})
			return res.GetCase(), err
		})
}

func ackWithdrawalCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("ack-withdrawal", "Acknowledge the authority's withdrawal: the request closes as withdrawn (after a disclosure: recorded only)",
		`  ddrctl case ack-withdrawal 0193c0de-...`,
		onRequest(g, g.assessment, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.Case, error) {
			res, err := as.AcknowledgeWithdrawal(ctx, &assessmentv1.AcknowledgeWithdrawalRequest{RequestId: id})
			return res.GetCase(), err
		}, lifecycleCaseTable))
}

// correction is what case correct's flags say to correct.
type correction struct {
	customers    []string
	noCustomers  bool
	prohibition  string
	expires      string
	noProhibited bool
	country      string
	emergency    bool
	imminentRisk bool
}

func (k correction) build(cmd *cobra.Command) (*assessmentv1.FactCorrection, error) {
	out := &assessmentv1.FactCorrection{}
	if len(k.customers) > 0 || k.noCustomers {
		if len(k.customers) > 0 && k.noCustomers {
			return nil, usageErr(fmt.Errorf("--customer and --no-customers exclude each other"))
		}
		out.Customers = &assessmentv1.CustomerList{}
		for _, c := range k.customers {
			cu, err := client.ParseCustomer(c)
			if err != nil {
				return nil, usageErr(fmt.Errorf("--customer %q: %w", c, err))
			}
			out.Customers.Customers = append(out.Customers.Customers, cu)
		}
	}
	switch {
	case k.prohibition != "" && k.noProhibited:
		return nil, usageErr(fmt.Errorf("--prohibition and --no-prohibition exclude each other"))
	case k.noProhibited:
		out.Prohibition = &assessmentv1.Prohibition{}
	case k.prohibition != "":
		out.Prohibition = &assessmentv1.Prohibition{Present: true, Reference: k.prohibition}
		if k.expires != "" {
			at, err := time.Parse(time.RFC3339, k.expires)
			if err != nil {
				return nil, usageErr(fmt.Errorf("--prohibition-expires: want RFC 3339, e.g. 2026-12-31T00:00:00Z"))
			}
			out.Prohibition.ExpiresAt = timestamppb.New(at)
		}
	case k.expires != "":
		return nil, usageErr(fmt.Errorf("--prohibition-expires needs --prohibition"))
	}
	if k.country != "" {
		c := strings.ToUpper(k.country)
		out.AuthorityCountry = &c
	}
	if cmd.Flags().Changed("emergency") {
		out.EmergencyClaimed = &k.emergency
	}
	if cmd.Flags().Changed("imminent-risk") {
		out.ImminentRiskClaimed = &k.imminentRisk
	}
	if proto0(out) {
		return nil, usageErr(fmt.Errorf("say what to correct: --customer, --no-customers, --prohibition, --no-prohibition, --country, --emergency or --imminent-risk"))
	}
	return out, nil
}

func proto0(k *assessmentv1.FactCorrection) bool {
	return k.Customers == nil && k.Prohibition == nil && k.AuthorityCountry == nil && k.EmergencyClaimed == nil && k.ImminentRiskClaimed == nil
}

func correctCmd(g *globals) *cobra.Command {
	var k correction
	var reason, evidence string
	cmd := &cobra.Command{
		Use:   "correct REQUEST_ID",
		Short: "Correct the customers, prohibition, country or emergency claims; a weakening correction waits for a second person",
		Long: `Correct corrects facts the case was opened with, with a reason. The flags
and the plan are computed again. A correction that removes or weakens a step
(a country that becomes adequate, a customer that stops being controller or
is removed, a prohibition added or extended, an emergency or imminent-risk
claim added) takes effect only once a second person with the approver or
legal role confirms it (case confirm-correction). A case with a decision
pending or in effect goes back to review when a correction takes effect.`,
		Example: `  ddrctl case correct 0193c0de-... --customer cust-1:controller:DE --customer cust-2:not-controller --reason "the order names two customers"
  ddrctl case correct 0193c0de-... --imminent-risk=false --reason "the authority withdrew the claim"`,
		Args: args(1, "REQUEST_ID"),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			fc, err := k.build(cmd)
			if err != nil {
				return err
			}
			as, ctx, cancel, err := dial(g, cmd, g.assessment)
			if err != nil {
				return err
			}
			defer cancel()
			res, err := as.ProposeFactCorrection(ctx, &assessmentv1.ProposeFactCorrectionRequest{RequestId: a[0], Correction: fc, Reason: reason, EvidenceReference: evidence})
			if err != nil {
				return err
			}
			return g.print(res, func(t *tw) {
				t.kv("CORRECTION", res.GetCorrectionId())
				lifecycleCaseTable(t, res.GetCase())
			})
		}),
	}
	f := cmd.Flags()
	f.StringArrayVar(&k.customers, "customer", nil, "a customer: ID[:controller|not-controller[:COUNTRY]]; repeatable; replaces the customers")
	f.BoolVar(&k.noCustomers, "no-customers", false, "the request concerns no customer")
	f.StringVar(&k.prohibition, "prohibition", "", "the reference of the non-disclosure order")
	f.StringVar(&k.expires, "prohibition-expires", "", "when the order ends (RFC 3339); with --prohibition")
	f.BoolVar(&k.noProhibited, "no-prohibition", false, "there is no non-disclosure order")
	f.StringVar(&k.country, "country", "", "the authority's country (ISO 3166-1 alpha-2)")
	f.BoolVar(&k.emergency, "emergency", false, "whether an emergency is claimed")
	f.BoolVar(&k.imminentRisk, "imminent-risk", false, "whether an imminent risk of serious harm is claimed")
	f.StringVar(&reason, "reason", "", "why the fact is corrected")
	f.StringVar(&evidence, "evidence", "", "a reference to the evidence (no personal data)")
	mustFlag(cmd, "reason")
	return cmd
}

func confirmCorrectionCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id and one flag: only the method differs
	return caseFlagCmd(g, "confirm-correction", "Confirm a correction that weakens a step, as the second person (approver or legal, not the proposer)",
		`  DDR_IDENTITY=spiffe://ddr.local/staff/bob ddrctl case confirm-correction 0193c0de-... --correction 0193c0e1-...`,
		"correction", "the correction's id (case correct prints it)",
		func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id, k string) (*assessmentv1.Case, error) {
			res, err := as.ConfirmFactCorrection(ctx, &assessmentv1.ConfirmFactCorrectionRequest{RequestId: id, CorrectionId: k})
			return res.GetCase(), err
		})
}

func linkCmd(g *globals) *cobra.Command {
	var to, reason string
	cmd := idCmd("link", "Link the case to another request of the same demand; the report counts the demand once",
		`  ddrctl case link 0193c0de-... --to 0193c0e2-... --reason "same warrant, sent to two group members"`,
		onRequest(g, g.assessment, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.Case, error) {
			res, err := as.LinkCase(ctx, &assessmentv1.LinkCaseRequest{RequestId: id, LinkedRequestId: to, Reason: reason})
			return res.GetCase(), err
		}, lifecycleCaseTable))
	cmd.Flags().StringVar(&to, "to", "", "the linked request's id")
	cmd.Flags().StringVar(&reason, "reason", "", "why it is the same demand")
	mustFlag(cmd, "to", "reason")
	return cmd
}

// lifecycleCaseTable is the case with its lifecycle: state, open question,
// reopenings, earlier decisions, corrections and links.
func lifecycleCaseTable(t *tw, c *assessmentv1.Case) {
	caseTable(t, c)
	lifecycleTable(t, c)
}

// lifecycleTable shows the lifecycle part of a case (issue 16).
func lifecycleTable(t *tw, c *assessmentv1.Case) {
	if c.GetLifecycleState() == "" {
		return
	}
	t.section("LIFECYCLE")
	t.kv("STATE", c.GetLifecycleState())
	if q := c.GetOpenQuestion(); q != nil {
		t.kv("QUESTION", oneLine(q.GetQuestion(), 100), "ASKED BY", orDash(q.GetAskedBy()))
	}
	if by := c.GetWithdrawalAcknowledgedBy(); by != "" {
		t.kv("WITHDRAWAL ACKNOWLEDGED BY", by)
	}
	if len(c.GetReopenings()) > 0 {
		t.section("REOPENED", "TRIGGER", "SUPERSEDED", "WHEN", "WHY")
		for _, r := range c.GetReopenings() {
			t.row(strings.ToLower(strings.TrimPrefix(r.GetTrigger(), "REOPEN_TRIGGER_")), orDash(r.GetSupersededDecisionId()), ts(r.GetReopenTime()), oneLine(r.GetReason(), 80))
		}
	}
	if len(c.GetEarlierDecisions()) > 0 {
		t.section("EARLIER DECISIONS", "ID", "KIND", "DECIDED BY")
		for _, d := range c.GetEarlierDecisions() {
			t.row(d.GetDecisionId(), enumName(d.GetKind()), orDash(d.GetDecidedBy()))
		}
	}
	if len(c.GetCorrections()) > 0 {
		t.section("CORRECTIONS", "ID", "BY", "EFFECTIVE", "CONFIRMED BY", "WEAKENS")
		for _, k := range c.GetCorrections() {
			var w []string
			for _, x := range k.GetWeakens() {
				w = append(w, x.GetClause())
			}
			t.row(k.GetCorrection().GetCorrectionId(), orDash(k.GetProposedBy()), yesno(k.GetEffective()), orDash(k.GetConfirmedBy()), orDash(strings.Join(w, ",")))
		}
	}
	if len(c.GetLinks()) > 0 {
		t.section("LINKED", "REQUEST", "BY", "REASON")
		for _, l := range c.GetLinks() {
			t.row(l.GetLinkedRequestId(), orDash(l.GetLinkedBy()), oneLine(l.GetReason(), 80))
		}
	}
}
