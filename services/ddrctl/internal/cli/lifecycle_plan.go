package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
)

// Issue 16 on the plan: steps per controller customer, steps stopped by a
// withdrawal or a reopening, and the owed notices' due dates.
func init() {
	registerSub("plan", planDeadlinesCmd)
}

// stepsTable lists the plan's steps, one per customer for the redirect and
// the notice (by reference, never the customer's id), with due dates.
func stepsTable(t *tw, p *notificationv1.Plan) {
	t.section("STEPS", "STEP", "CUSTOMER", "CLAUSE", "STATUS", "DUE", "NOTE")
	for _, s := range p.GetSteps() {
		note := s.GetSkipReason()
		if note == "" {
			note = s.GetDetail()
		}
		due := "-"
		if s.GetDueTime() != nil {
			due = ts(s.GetDueTime())
		}
		t.row(enumName(s.GetKind()), orDash(s.GetCustomerRef()), s.GetClause(), enumName(s.GetStatus()), due, oneLine(note, 80))
	}
	if p.GetDisclosureTime() != nil {
		t.kv("DISCLOSED", ts(p.GetDisclosureTime()))
	}
	noticeDeadlinesTable(t, p)
}

// noticeDeadlinesTable lists the owed notices' deadlines (clause 4.1.2).
func noticeDeadlinesTable(t *tw, p *notificationv1.Plan) {
	if len(p.GetNoticeDeadlines()) == 0 {
		return
	}
	t.section("OWED NOTICES (4.1.2)", "DEADLINE", "CUSTOMER", "FROM", "DUE", "STATUS")
	for _, d := range p.GetNoticeDeadlines() {
		t.row(d.GetDeadlineId(), orDash(d.GetCustomerRef()), ts(d.GetStartTime()), ts(d.GetDueTime()), d.GetStatus())
	}
}

func planDeadlinesCmd(g *globals) *cobra.Command {
	return idCmd("deadlines", "Show the owed customer notices with their due dates, and each customer's steps (clause 4.1.2)",
		`  ddrctl plan deadlines 0193c0de-...`,
		onRequest(g, g.notification, func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
			res, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
			return res.GetPlan(), err
		}, func(t *tw, p *notificationv1.Plan) {
			t.kv("REQUEST", p.GetRequestId(), "STATUS", enumName(p.GetStatus()), "DECISION", orDash(p.GetDecisionId()))
			stepsTable(t, p)
			if len(p.GetNoticeDeadlines()) == 0 {
				t.section(fmt.Sprintf("OWED NOTICES: none (%d blockers)", len(p.GetBlockers())))
			}
		}))
}

// recordRedirect records the answer for one controller customer (customer
// empty: the request's one customer).
func recordRedirect(outcome **enumFlag, support, customer *string) func(context.Context, notificationv1.NotificationServiceClient, string) (*notificationv1.Plan, error) {
	return func(ctx context.Context, no notificationv1.NotificationServiceClient, id string) (*notificationv1.Plan, error) {
		res, err := no.RecordRedirectOutcome(ctx, &notificationv1.RecordRedirectOutcomeRequest{RequestId: id,
			Outcome: notificationv1.RedirectOutcome((*outcome).get()), Support: *support, CustomerRef: *customer})
		return res.GetPlan(), err
	}
}

// redirectsTable shows the authority's answers to the redirect requests
// (clause 4.1.1): one with a single customer, one per customer asked
// otherwise.
func redirectsTable(t *tw, p *notificationv1.Plan) {
	rs := p.GetRedirects()
	if len(rs) == 0 && p.GetRedirect() != nil {
		rs = []*notificationv1.RedirectRecord{p.GetRedirect()}
	}
	switch {
	case len(rs) == 1 && rs[0].GetCustomerRef() == "":
		r := rs[0]
		t.section("REDIRECT (4.1.1)")
		t.kv("OUTCOME", enumName(r.GetOutcome()), "SUPPORT", oneLine(r.GetSupport(), 80), "RECORDED BY", orDash(r.GetRecordedBy()))
	case len(rs) > 0:
		t.section("REDIRECTS (4.1.1)", "CUSTOMER", "OUTCOME", "SUPPORT", "RECORDED BY")
		for _, r := range rs {
			t.row(orDash(r.GetCustomerRef()), enumName(r.GetOutcome()), oneLine(r.GetSupport(), 60), orDash(r.GetRecordedBy()))
		}
	}
}
