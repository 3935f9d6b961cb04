package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
)

func caseCmd(g *globals) *cobra.Command { //nolint:dupl // a command group: name, help, examples and subcommands, the shape of every group
	return group("case", "Review and decide cases (the Privacy Team, clause 3.3)",
		`  export DDR_IDENTITY=spiffe://ddr.local/staff/alice
  ddrctl case queue
  ddrctl case claim 0193c0de-...`,
		queueCmd(g), caseGetCmd(g), claimCmd(g), factorsCmd(g), counselCmd(g), challengeCmd(g), decideCmd(g), approveCmd(g), rejectCmd(g),
		justifyCmd(g), challengeOutcomeCmd(g), confirmOutcomeCmd(g))
}

func (g *globals) assessment() (assessmentv1.AssessmentServiceClient, error) {
	return stub(g, assessmentv1.NewAssessmentServiceClient)
}

func queueCmd(g *globals) *cobra.Command {
	var assignee string
	var statuses *enumFlag
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "The review queue: emergencies first, then by the nearest legal deadline",
		Example: `  ddrctl case queue
  ddrctl case queue --status pending-approval
  ddrctl case queue --assignee spiffe://ddr.local/staff/alice -o json`,
		Args: args(0),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			as, err := g.assessment()
			if err != nil {
				return err
			}
			ctx, cancel := g.ctx(cmd)
			defer cancel()
			all := &assessmentv1.ListCasesResponse{}
			req := &assessmentv1.ListCasesRequest{Statuses: enumList[assessmentv1.CaseStatus](statuses), Assignee: assignee, PageSize: 500}
			for {
				res, err := as.ListCases(ctx, req)
				if err != nil {
					return err
				}
				all.Cases = append(all.Cases, res.GetCases()...)
				if req.PageToken = res.GetNextPageToken(); req.PageToken == "" {
					break
				}
			}
			return g.print(all, func(t *tw) {
				t.row("REQUEST", "STATUS", "ASSIGNEE", "AUTHORITY", "COUNTRY", "FLAGS", "REVIEW DUE", "NEXT DEADLINE")
				for _, c := range all.GetCases() {
					due := ts(c.GetReviewDueTime())
					if c.GetOverdue() {
						due += " (overdue)"
					}
					t.row(c.GetRequestId(), enumName(c.GetStatus()), orDash(c.GetAssignee()), enumName(c.GetAuthorityKind()), orDash(c.GetAuthorityCountry()), flagCodes(c), due, nextDeadline(c))
				}
			})
		}),
	}
	statuses = enumVar(cmd, "status", "only cases in these statuses (default: all but decided); repeatable", assessmentv1.CaseStatus(0).Descriptor(), true)
	cmd.Flags().StringVar(&assignee, "assignee", "", "only cases assigned to this staff identity")
	return cmd
}

func flagCodes(c *assessmentv1.Case) string {
	var out []string
	for _, f := range c.GetFlags() {
		out = append(out, enumName(f.GetCode()))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

// onCase is the RunE of a command that makes one call on a case (call)
// and shows the case as the answer has it.
func onCase[R interface{ GetCase() *assessmentv1.Case }](g *globals, call func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (R, error)) func(*cobra.Command, []string) error {
	return onRequest(g, g.assessment, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.Case, error) {
		res, err := call(ctx, as, id)
		return res.GetCase(), err
	}, caseTable)
}

func caseTable(t *tw, c *assessmentv1.Case) {
	due := ts(c.GetReviewDueTime())
	if c.GetOverdue() {
		due += " (overdue)"
	}
	t.kv("REQUEST", c.GetRequestId(),
		"STATUS", enumName(c.GetStatus()),
		"ASSIGNEE", orDash(c.GetAssignee()),
		"AUTHORITY", fmt.Sprintf("%s, %s", enumName(c.GetAuthorityKind()), orDash(c.GetAuthorityCountry())),
		"EMERGENCY", yesno(c.GetEmergency()),
		"RECEIVED", ts(c.GetReceiveTime()),
		"REVIEW DUE", due,
		"POLICY", orDash(c.GetPolicyVersion()))
	if len(c.GetFlags()) > 0 {
		t.section("FLAGS", "CODE", "CLAUSE", "EXPLANATION")
		for _, f := range c.GetFlags() {
			t.row(enumName(f.GetCode()), f.GetClause(), oneLine(f.GetExplanation(), 100))
		}
	}
	rv := c.GetReview()
	if len(rv.GetFactors()) > 0 {
		t.section("REVIEW", "FACTOR", "BY", "ASSESSMENT")
		for _, f := range rv.GetFactors() {
			t.row(enumName(f.GetFactor()), orDash(f.GetReviewer()), oneLine(f.GetAssessment(), 80))
		}
		if rv.GetRightsAssessment() != "" {
			t.row("rights", "", oneLine(rv.GetRightsAssessment(), 80))
		}
	}
	if len(rv.GetConsultations()) > 0 {
		t.section("COUNSEL", "KIND", "COUNSEL", "SUMMARY")
		for _, k := range rv.GetConsultations() {
			t.row(enumName(k.GetKind()), orDash(k.GetCounsel()), oneLine(k.GetSummary(), 80))
		}
	}
	if ch := rv.GetChallenge(); ch != nil {
		t.section("CHALLENGE")
		t.kv("CONSIDERED", yesno(ch.GetConsidered()), "WARRANTED", yesno(ch.GetWarranted()), "REASONING", oneLine(ch.GetReasoning(), 80))
		if ch.GetOutcome() != 0 {
			l := ch.GetOutcomeLift()
			t.kv("OUTCOME", enumName(ch.GetOutcome()), "RECORDED BY", orDash(l.GetRecordedBy()), "CONFIRMED BY", orDash(l.GetConfirmedBy()))
		}
	}
	if j := rv.GetImminentRiskJustification(); j != "" {
		t.kv("IMMINENT RISK JUSTIFIED", oneLine(j, 80))
	}
	if d := c.GetDecision(); d != nil {
		t.section("DECISION")
		t.kv("ID", d.GetDecisionId(),
			"KIND", enumName(d.GetKind()),
			"STATUS", enumName(d.GetStatus()),
			"LEGAL BASIS", enumName(d.GetLegalBasis()),
			"DECIDED BY", orDash(d.GetDecidedBy()),
			"APPROVALS", fmt.Sprintf("%d of %d", len(d.GetApprovals()), d.GetApprovalsRequired()))
		if d.GetGrounds() != "" {
			t.kv("GROUNDS", oneLine(d.GetGrounds(), 100))
		}
		if d.GetStatute() != "" {
			t.kv("STATUTE", oneLine(d.GetStatute(), 100))
		}
	}
}

func caseGetCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("get", "Show a case: flags with their clauses, the review, the decision", `  ddrctl case get 0193c0de-... -o yaml`,
		onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.GetCaseResponse, error) {
			return as.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		}))
}

func claimCmd(g *globals) *cobra.Command {
	var assignee string
	cmd := idCmd("claim", "Assign a case to yourself (or, with --assignee, to another reviewer)",
		`  ddrctl case claim 0193c0de-...
  ddrctl case claim 0193c0de-... --assignee spiffe://ddr.local/staff/bob`,
		onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.ClaimCaseResponse, error) {
			return as.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id, Assignee: assignee})
		}))
	cmd.Flags().StringVar(&assignee, "assignee", "", "staff identity to assign instead of yourself")
	return cmd
}

func factorsCmd(g *globals) *cobra.Command {
	var factors []string
	var all, rights string
	cmd := &cobra.Command{
		Use:   "factors REQUEST_ID",
		Short: "Record the review factors (clause 3.3) and the rights weighing (clause 2.1)",
		Long: `Factors records the reviewer's assessment of the six review factors of clauses
2.1 and 3.3 (nature, context, purposes, scope, urgency, validity), one
--factor NAME=TEXT each, and optionally how the affected people's rights and
freedoms were weighed (--rights).`,
		Example: `  ddrctl case factors 0193c0de-... \
    --factor nature="criminal investigation, fraud" --factor scope="one account, 3 months" \
    --all "assessed with the court order" --rights "one subscriber record; proportionate"`,
		Args: args(1, "REQUEST_ID"),
		RunE: onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.RecordFactorsResponse, error) {
			req := &assessmentv1.RecordFactorsRequest{RequestId: id, RightsAssessment: rights}
			seen := map[assessmentv1.Factor]bool{}
			for _, s := range factors {
				name, text, ok := strings.Cut(s, "=")
				if !ok {
					return nil, usageErr(fmt.Errorf("--factor %q: want NAME=TEXT", s))
				}
				n, err := parseEnum(assessmentv1.Factor(0).Descriptor(), name)
				if err != nil {
					return nil, usageErr(fmt.Errorf("--factor: %w", err))
				}
				seen[assessmentv1.Factor(n)] = true
				req.Factors = append(req.Factors, &assessmentv1.FactorAssessment{Factor: assessmentv1.Factor(n), Assessment: text})
			}
			if all != "" {
				for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
					if !seen[f] {
						req.Factors = append(req.Factors, &assessmentv1.FactorAssessment{Factor: f, Assessment: all})
					}
				}
			}
			if len(req.Factors) == 0 && rights == "" {
				return nil, usageErr(fmt.Errorf("give --factor, --all or --rights"))
			}
			return as.RecordFactors(ctx, req)
		}),
	}
	cmd.Flags().StringArrayVar(&factors, "factor", nil, "FACTOR=TEXT ("+strings.Join(enumChoices(assessmentv1.Factor(0).Descriptor()), "|")+"); repeatable")
	cmd.Flags().StringVar(&all, "all", "", "this assessment for every factor not given with --factor")
	cmd.Flags().StringVar(&rights, "rights", "", "how the affected people's rights and freedoms were weighed")
	return cmd
}

func counselCmd(g *globals) *cobra.Command {
	var counsel, summary, at string
	var kind *enumFlag
	cmd := idCmd("counsel", "Record a consultation of legal or outside counsel (clause 3.3)",
		`  ddrctl case counsel 0193c0de-... --kind outside-counsel --counsel "Kanzlei Weber" --summary "order is valid"`,
		onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.RecordCounselConsultationResponse, error) {
			c := &assessmentv1.CounselConsultation{Kind: assessmentv1.CounselKind(kind.get()), Counsel: counsel, Summary: summary}
			t, err := optionalTime("at", at)
			if err != nil {
				return nil, err
			}
			if t == nil {
				t = timestamppb.Now()
			}
			c.ConsultTime = t
			return as.RecordCounselConsultation(ctx, &assessmentv1.RecordCounselConsultationRequest{RequestId: id, Consultation: c})
		}))
	kind = enumVar(cmd, "kind", "who was consulted", assessmentv1.CounselKind(0).Descriptor(), false)
	cmd.Flags().StringVar(&counsel, "counsel", "", "name of the counsel")
	cmd.Flags().StringVar(&summary, "summary", "", "what counsel advised")
	cmd.Flags().StringVar(&at, "at", "", "when, RFC 3339 (default: now)")
	mustFlag(cmd, "kind")
	return cmd
}

func challengeCmd(g *globals) *cobra.Command {
	var reasoning string
	var warranted bool
	cmd := idCmd("challenge", "Record whether a challenge was considered and why (clause 3.3)",
		`  ddrctl case challenge 0193c0de-... --reasoning "valid court order; no grounds"
  ddrctl case challenge 0193c0de-... --warranted --reasoning "overbroad; counsel will challenge"`,
		onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.RecordChallengeConsiderationResponse, error) {
			return as.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: reasoning, Warranted: warranted})
		}))
	cmd.Flags().StringVar(&reasoning, "reasoning", "", "why a challenge is or is not warranted")
	cmd.Flags().BoolVar(&warranted, "warranted", false, "a challenge is warranted")
	mustFlag(cmd, "reasoning")
	return cmd
}

func decideCmd(g *globals) *cobra.Command {
	var grounds, from, to, statute string
	var targets []string
	var version uint64
	var kind, basis, categories *enumFlag
	cmd := &cobra.Command{
		Use:   "decide REQUEST_ID",
		Short: "Take a decision; one the policy forbids is refused with its clause",
		Long: `Decide takes the decision on a case. A decision the policy forbids is refused
(exit 5) with the clause it breaks: disclosing without a legal basis (2.1),
before the review (3.3), or in bulk (6.1). A disclose decision takes effect
only once another person approves it (case approve). Without narrowing
flags a disclosure covers everything the request asked for.`,
		Example: `  ddrctl case decide 0193c0de-... --kind disclose --basis compelling-legal-obligation
  ddrctl case decide 0193c0de-... --kind disclose --basis compelling-legal-obligation --targets t1 --category subscriber
  ddrctl case decide 0193c0de-... --kind reject --grounds "bulk demand for a whole tenant (6.1)"
  ddrctl case decide 0193c0de-... --kind redirect-to-customer
  ddrctl case decide 0193c0de-... --kind disclose --basis compelling-legal-obligation --statute "18 U.S.C. 2702(c)(4)"`,
		Args: args(1, "REQUEST_ID"),
		RunE: onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.DecideResponse, error) {
			req := &assessmentv1.DecideRequest{
				RequestId:       id,
				Kind:            assessmentv1.DecisionKind(kind.get()),
				LegalBasis:      assessmentv1.LegalBasis(basis.get()),
				Grounds:         grounds,
				ExpectedVersion: version,
				Statute:         statute,
			}
			if req.Kind == assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE {
				s := &assessmentv1.Scope{TargetRefs: targets, DataCategories: enumList[intakev1.DataCategory](categories)}
				if from != "" || to != "" {
					s.TimeRange = &intakev1.TimeRange{}
					for _, p := range []struct {
						v   string
						dst **timestamppb.Timestamp
					}{{from, &s.TimeRange.From}, {to, &s.TimeRange.To}} {
						if p.v == "" {
							continue
						}
						t, err := parseTime(p.v)
						if err != nil {
							return nil, usageErr(err)
						}
						*p.dst = t
					}
				}
				s.All = len(s.TargetRefs) == 0 && len(s.DataCategories) == 0 && s.TimeRange == nil
				req.Scope = s
			}
			return as.Decide(ctx, req)
		}),
	}
	kind = enumVar(cmd, "kind", "the decision", assessmentv1.DecisionKind(0).Descriptor(), false)
	basis = enumVar(cmd, "basis", "legal basis of a disclosure (clause 2.1)", assessmentv1.LegalBasis(0).Descriptor(), false)
	categories = enumVar(cmd, "category", "narrow a disclosure to these data categories; repeatable", intakev1.DataCategory(0).Descriptor(), true)
	cmd.Flags().StringSliceVar(&targets, "targets", nil, "narrow a disclosure to these target references (t1,t2,...)")
	cmd.Flags().StringVar(&from, "from", "", "narrow a disclosure's period: start, RFC 3339")
	cmd.Flags().StringVar(&to, "to", "", "narrow a disclosure's period: end, RFC 3339")
	cmd.Flags().StringVar(&grounds, "grounds", "", "grounds of a challenge or rejection; the question for more information")
	cmd.Flags().StringVar(&statute, "statute", "", "the statute creating a compelling legal obligation; required for that basis without legal process (2.1)")
	cmd.Flags().Uint64Var(&version, "expected-version", 0, "decide only if the case is still at this version (see case get -o json)")
	mustFlag(cmd, "kind")
	return cmd
}

// pendingDecision finds the decision id to approve or reject when the
// caller did not name one.
func pendingDecision(ctx context.Context, as assessmentv1.AssessmentServiceClient, id, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	res, err := as.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
	if err != nil {
		return "", err
	}
	d := res.GetCase().GetDecision()
	if d.GetStatus() != assessmentv1.DecisionStatus_DECISION_STATUS_PENDING_APPROVAL {
		return "", usageErr(fmt.Errorf("case %s has no decision pending approval", id))
	}
	return d.GetDecisionId(), nil
}

func approveCmd(g *globals) *cobra.Command {
	var decision string
	cmd := idCmd("approve", "Approve a pending disclose decision (four eyes: not your own)",
		`  DDR_IDENTITY=spiffe://ddr.local/staff/bob ddrctl case approve 0193c0de-...
  ddrctl case approve 0193c0de-... --decision 0193c0df-...`,
		onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.ApproveDecisionResponse, error) {
			did, err := pendingDecision(ctx, as, id, decision)
			if err != nil {
				return nil, err
			}
			return as.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: did})
		}))
	cmd.Flags().StringVar(&decision, "decision", "", "decision id (default: the pending one)")
	return cmd
}

func rejectCmd(g *globals) *cobra.Command {
	var decision, reason string
	cmd := idCmd("reject", "Send a pending disclose decision back to review, with the reason",
		`  DDR_IDENTITY=spiffe://ddr.local/staff/bob ddrctl case reject 0193c0de-... --reason "narrow to subscriber data"`,
		onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.RejectDecisionResponse, error) {
			did, err := pendingDecision(ctx, as, id, decision)
			if err != nil {
				return nil, err
			}
			return as.RejectDecision(ctx, &assessmentv1.RejectDecisionRequest{RequestId: id, DecisionId: did, Reason: reason})
		}))
	cmd.Flags().StringVar(&decision, "decision", "", "decision id (default: the pending one)")
	cmd.Flags().StringVar(&reason, "reason", "", "why it goes back to review")
	mustFlag(cmd, "reason")
	return cmd
}

func justifyCmd(g *globals) *cobra.Command {
	var text string
	cmd := &cobra.Command{
		Use:   "justify REQUEST_ID",
		Short: "Justify an imminent risk of serious harm the authority did not claim (clause 2.1)",
		Long: `Justify records the reviewer's justification of an imminent risk of serious
harm that the authority did not claim. A disclosure on that basis needs it,
and a legal approver (case approve by someone with the legal role).`,
		Example: `  ddrctl case justify 0193c0de-... --justification "credible threat to life described in the call log"`,
		Args:    args(1, "REQUEST_ID"),
		RunE: onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.JustifyImminentRiskResponse, error) {
			req := &assessmentv1.JustifyImminentRiskRequest{RequestId: id, Justification: text}
			return as.JustifyImminentRisk(ctx, req)
		}),
	}
	cmd.Flags().StringVar(&text, "justification", "", "why the risk is imminent and serious")
	mustFlag(cmd, "justification")
	return cmd
}

func challengeOutcomeCmd(g *globals) *cobra.Command {
	var basis, reference string
	var outcome *enumFlag
	cmd := &cobra.Command{
		Use:   "challenge-outcome REQUEST_ID",
		Short: "Record the outcome of a warranted challenge; a second (legal) person confirms it (clause 3.3)",
		Long: `Challenge-outcome records how a challenge judged warranted ended, with its
basis and the court's or authority's reference. No disclosure can be decided
until a second person with the legal role confirms it (case confirm-outcome);
an upheld challenge then allows only a reject or a narrower disclosure.`,
		Example: `  ddrctl case challenge-outcome 0193c0de-... --outcome upheld --basis "court narrowed the order to one account" --reference "AG Berlin 4/26"`,
		Args:    args(1, "REQUEST_ID"),
		RunE: onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.ProposeChallengeOutcomeResponse, error) { //nolint:dupl // one RPC with a kind, a basis and a reference, as plan weaken: only the method differs
			return as.ProposeChallengeOutcome(ctx, &assessmentv1.ProposeChallengeOutcomeRequest{
				RequestId: id, Outcome: assessmentv1.ChallengeOutcome(outcome.get()), Basis: basis, EvidenceReference: reference,
			})
		}),
	}
	outcome = enumVar(cmd, "outcome", "how the challenge ended", assessmentv1.ChallengeOutcome(0).Descriptor(), false)
	cmd.Flags().StringVar(&basis, "basis", "", "why, e.g. what the court decided")
	cmd.Flags().StringVar(&reference, "reference", "", "the court's or authority's reference")
	mustFlag(cmd, "outcome")
	mustFlag(cmd, "basis")
	mustFlag(cmd, "reference")
	return cmd
}

func confirmOutcomeCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("confirm-outcome", "Confirm a recorded challenge outcome as the second, legal person (clause 3.3)",
		`  DDR_IDENTITY=spiffe://ddr.local/staff/carol ddrctl case confirm-outcome 0193c0de-...`,
		onCase(g, func(ctx context.Context, as assessmentv1.AssessmentServiceClient, id string) (*assessmentv1.ConfirmChallengeOutcomeResponse, error) {
			return as.ConfirmChallengeOutcome(ctx, &assessmentv1.ConfirmChallengeOutcomeRequest{RequestId: id})
		}))
}
