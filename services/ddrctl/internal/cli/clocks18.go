package cli

import (
	"context"

	"github.com/spf13/cobra"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
)

// Issue 18's legal clocks: `ddrctl case deadlines|confirm-enforcing|
// extend-preservation|deadline-met`, on assessment's ClocksService.

func init() {
	registerSub("case", deadlinesCmd, confirmEnforcingCmd, extendPreservationCmd, deadlineMetCmd)
}

func (g *globals) clocks() (assessmentv1.ClocksServiceClient, error) {
	return stub(g, assessmentv1.NewClocksServiceClient)
}

func deadlinesCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("deadlines", "A request's deadlines with their source, counting rule and status (issue 18)",
		`  ddrctl case deadlines 0193c0de-...
  ddrctl case deadlines 0193c0de-... -o json`,
		onRequest(g, g.clocks, func(ctx context.Context, cl assessmentv1.ClocksServiceClient, id string) (*assessmentv1.ListDeadlinesResponse, error) {
			return cl.ListDeadlines(ctx, &assessmentv1.ListDeadlinesRequest{RequestId: id})
		}, func(t *tw, r *assessmentv1.ListDeadlinesResponse) { deadlinesTable(t, r.GetDeadlines()) }))
}

func confirmEnforcingCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("confirm-enforcing", "Record that the enforcing authority raises no ground for refusal (Regulation 2023/1543 Art. 10(3)): the EPOC's data may be transmitted from now",
		`  ddrctl case confirm-enforcing 0193c0de-...`,
		onRequest(g, g.clocks, func(ctx context.Context, cl assessmentv1.ClocksServiceClient, id string) (*assessmentv1.RecordEnforcingAuthorityConfirmationResponse, error) {
			return cl.RecordEnforcingAuthorityConfirmation(ctx, &assessmentv1.RecordEnforcingAuthorityConfirmationRequest{RequestId: id})
		}, func(t *tw, r *assessmentv1.RecordEnforcingAuthorityConfirmationResponse) {
			deadlinesTable(t, r.GetDeadlines())
		}))
}

func extendPreservationCmd(g *globals) *cobra.Command { //nolint:dupl // one RPC on a request id: the shape of every such command; only the method differs
	return idCmd("extend-preservation", "Extend a European Preservation Order by 30 days, once (Regulation 2023/1543 Art. 11(1))",
		`  ddrctl case extend-preservation 0193c0de-...`,
		onRequest(g, g.clocks, func(ctx context.Context, cl assessmentv1.ClocksServiceClient, id string) (*assessmentv1.ExtendPreservationResponse, error) {
			return cl.ExtendPreservation(ctx, &assessmentv1.ExtendPreservationRequest{RequestId: id})
		}, func(t *tw, r *assessmentv1.ExtendPreservationResponse) { deadlinesTable(t, r.GetDeadlines()) }))
}

func deadlineMetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "deadline-met REQUEST_ID DEADLINE_ID",
		Short: "Record that what a deadline asked for was done (e.g. the \"cannot comply\" form sent)",
		Example: `  ddrctl case deadline-met 0193c0de-... epoc/cannot-comply
  ddrctl case deadline-met 0193c0de-... epoc/reasoned-objection`,
		Args: args(2, "REQUEST_ID", "DEADLINE_ID"),
		RunE: calling(g, g.clocks, func(ctx context.Context, cl assessmentv1.ClocksServiceClient, _ *cobra.Command, a []string) error {
			r, err := cl.MarkDeadlineMet(ctx, &assessmentv1.MarkDeadlineMetRequest{RequestId: a[0], DeadlineId: a[1]})
			if err != nil {
				return err
			}
			return g.print(r, func(t *tw) { deadlinesTable(t, r.GetDeadlines()) })
		}),
	}
}

func deadlinesTable(t *tw, ds []*assessmentv1.DeadlineView) {
	t.row("DEADLINE", "KIND", "DUE", "STATUS", "COUNTING", "SOURCE")
	for _, v := range ds {
		d := v.GetDeadline()
		due := ts(d.GetDueTime())
		if d.GetUncovered() {
			due += " (check: calendar not covered)"
		}
		counting := enumName(d.GetRule().GetCounting())
		if c := d.GetRule().GetCalendar(); c != "" {
			counting += " on " + c
		}
		t.row(d.GetId(), enumName(d.GetKind()), due, enumName(v.GetStatus()), counting, oneLine(d.GetRule().GetSource(), 100))
	}
}

// nextDeadline is the queue's cell for a case's nearest deadline: what and
// when, marked when it passed.
func nextDeadline(c *assessmentv1.Case) string {
	n := c.GetNextDeadline()
	if n == nil {
		return "-"
	}
	s := n.GetDeadline().GetId() + " " + ts(n.GetDeadline().GetDueTime())
	if n.GetStatus() == assessmentv1.DeadlineStatus_DEADLINE_STATUS_OVERDUE {
		s += " (overdue)"
	}
	return s
}
