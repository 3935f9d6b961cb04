package suite_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/deploy/observability/dashboards"
	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/notification/app"
)

// notDrivenHere are series a panel or an alert reads that this test cannot
// make appear itself.
//
// The per-caller rate limit's counter needs a suite started with a tight
// limit, which would refuse this test's own polling: it is driven and
// checked on /metrics by TestRateLimit_OneMembersFloodDoesNotStarveAnother.
var notDrivenHere = []string{"ddr_rate_limited_total"}

// Every series a dashboard panel or an alert reads is served on /metrics,
// with the labels the expression selects (ddr_urgent="true", ...): a
// renamed metric or label would leave a panel empty and an alert silent.
// Each labelled series is driven first, since it appears only after its
// first observation: an RPC that fails NOT_FOUND, a late request, an
// emergency and an ordinary request each opened and claimed, and both
// past their review deadline.
func TestEveryMetricOfTheDashboardsAndAlertsIsServed(t *testing.T) {
	d, err := dashboards.Suite()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := dashboards.ReadRules(filepath.Join(repoRoot(), "deploy", "observability", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, es := range dashboards.Exprs(d) {
		exprs = append(exprs, es...)
	}
	for _, r := range rules {
		exprs = append(exprs, r.Expr)
	}
	want := map[string]dashboards.Selector{}
	for _, e := range exprs {
		for _, s := range dashboards.Selectors(e) {
			want[s.Name+labelString(s.Labels)] = s
		}
	}
	if len(want) < 10 {
		t.Fatalf("only %d series named by the dashboards and alerts", len(want))
	}

	// The lead DPA takes its consultation packets by webhook (plain http
	// is allowed to loopback), so a disclosure to a country without
	// adequacy delivers one: ddr_notification_deliveries_total.
	dpa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(dpa.Close)
	hooks := app.Endpoints{Webhooks: []app.Webhook{{URL: dpa.URL, Secret: "metrics-webhook-secret"}}}
	contacts := app.Contacts{From: "privacy@corp.example", ReplyContact: "privacy@corp.example", LeadDPA: app.DPA{Name: "DPC-IE", Endpoints: hooks}}

	var skew atomic.Int64
	p, ctx := startEnv(t, envOptions{contacts: &contacts, configure: func(cfg *suite.Config) {
		cfg.Notification.SweepInterval = 50 * time.Millisecond
		cfg.Assessment.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		cfg.Assessment.OverdueInterval = 20 * time.Millisecond
	}})
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	as := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))

	late := request(time.Now().Add(-72 * time.Hour)) // clause 3.1: forwarded late
	emergency := request(time.Now().Add(-time.Hour))
	emergency.Emergency = &intakev1.Emergency{Claimed: true, HarmDescribed: "a threat to life described in the order"}
	for key, req := range map[string]*intakev1.DataDisclosureRequest{"metrics-late": late, "metrics-emergency": emergency} {
		sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: key, Request: req})
		if err != nil {
			t.Fatalf("Submit %s: %v", key, err)
		}
		eventually(t, func() error {
			_, err := as.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: sub.GetRequestId()})
			return err
		})
		// The first review step of an urgent and of an ordinary case.
		must(t, "claim "+key, func() error {
			_, err := as.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: sub.GetRequestId()})
			return err
		})
	}
	// A disclosure to a country without adequacy: the plan holds it and
	// sends the DPA its consultation packet (clause 4.2.1).
	held := request(time.Now().Add(-time.Hour))
	held.Authority.Country = "CN"
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "metrics-held", Request: held})
	if err != nil {
		t.Fatalf("Submit held: %v", err)
	}
	decideDisclosure(t, ctx, as, assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver)), sub.GetRequestId())
	if _, err := as.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: "0197a000-0000-7000-8000-000000000000"}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetCase of an unknown request = %v, want NotFound", err)
	}
	// Two months on, both cases are past their review deadlines.
	skew.Store(int64(60 * 24 * time.Hour))

	var missing []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		body := scrape(t, p.Info.MetricsAddr)
		missing = missing[:0]
		for key, s := range want {
			if !served(body, s) {
				missing = append(missing, key)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	sort.Strings(missing)
	for _, key := range missing {
		name := want[key].Name
		switch {
		case slices.Contains(dashboards.Pending, name):
			t.Logf("PENDING (dashboards.Pending, being added elsewhere): %s is not served yet", key)
		case slices.Contains(notDrivenHere, name):
			t.Logf("NOT DRIVEN by this test: %s", key)
		default:
			t.Errorf("a panel or alert reads %s, which /metrics does not serve", key)
		}
	}
	if t.Failed() {
		t.Logf("served:\n%s", ddrLines(scrape(t, p.Info.MetricsAddr)))
	}
}

// served reports whether the exposition has a sample of s's name with its
// labels.
func served(body string, s dashboards.Selector) bool {
	for line := range strings.Lines(body) {
		rest, ok := strings.CutPrefix(line, s.Name)
		if !ok || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		all := true
		for k, v := range s.Labels {
			all = all && strings.Contains(rest, k+`="`+v+`"`)
		}
		if all {
			return true
		}
	}
	return false
}

func labelString(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	var kv []string
	for k, v := range l {
		kv = append(kv, k+`="`+v+`"`)
	}
	sort.Strings(kv)
	return "{" + strings.Join(kv, ",") + "}"
}

// decideDisclosure takes an open case to an effective disclose decision:
// alice reviews and decides, bob approves.
// beforeApproval runs between the decision and its approval (a call back
// to the requester, issue 18).
func decideDisclosure(t *testing.T, ctx context.Context, alice, bob assessmentv1.AssessmentServiceClient, id string, beforeApproval ...func() error) {
	t.Helper()
	eventually(t, func() error {
		_, err := alice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		return err
	})
	var factors []*assessmentv1.FactorAssessment
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		factors = append(factors, &assessmentv1.FactorAssessment{Factor: f, Assessment: "assessed: " + f.String()})
	}
	var decisionID string
	for _, step := range []struct {
		name string
		call func() error
	}{
		{"claim", func() error {
			_, err := alice.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id})
			return err
		}},
		{"factors", func() error {
			_, err := alice.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: factors, RightsAssessment: "one subscriber record; proportionate"})
			return err
		}},
		{"challenge", func() error {
			_, err := alice.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: "valid court order; no grounds"})
			return err
		}},
		{"decide", func() error {
			res, err := alice.Decide(ctx, &assessmentv1.DecideRequest{
				RequestId: id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
				LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION, Scope: &assessmentv1.Scope{All: true},
			})
			decisionID = res.GetCase().GetDecision().GetDecisionId()
			return err
		}},
		{"before approval", func() error {
			for _, f := range beforeApproval {
				if err := f(); err != nil {
					return err
				}
			}
			return nil
		}},
		{"approve", func() error {
			_, err := bob.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decisionID})
			return err
		}},
	} {
		must(t, step.name, step.call)
	}
}
