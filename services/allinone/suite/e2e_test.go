package suite_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

const (
	member   = "spiffe://ddr.local/group-member/acme-eu"
	reviewer = "spiffe://ddr.local/staff/alice"
	approver = "spiffe://ddr.local/staff/bob"
)

func startSuite(t *testing.T, opts runnertest.Options) *runnertest.Proc {
	cfg := suite.DefaultConfig()
	return runnertest.Start(t, opts, cfg.Build)
}

// One request through the whole suite, on a real embedded JetStream and real
// gRPC: intake -> assessment (case, review, decision, four eyes) ->
// notification (plan, cleared) -> reporting (the sealed record).
func TestEndToEnd_RequestFlowsFromIntakeToItsRecord(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	p := startSuite(t, runnertest.Options{SpanExporter: keepSpans{spans}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	asAlice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	asBob := assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))

	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{
		IdempotencyKey: "warrant-2026-0042",
		Request: &intakev1.DataDisclosureRequest{
			ReceivedAt:     timestamppb.New(time.Now().Add(-2 * time.Hour)),
			Channel:        intakev1.Channel_CHANNEL_LETTER,
			Authority:      &intakev1.Authority{Name: "Staatsanwaltschaft Berlin", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_PROSECUTOR, Country: "DE"},
			LegalProcess:   &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER, Reference: "AG Tiergarten 123/26"},
			Targets:        []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-981"}},
			DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
			TimeRange:      &intakev1.TimeRange{From: timestamppb.New(time.Now().AddDate(0, -3, 0)), To: timestamppb.New(time.Now().AddDate(0, 0, -1))},
			StatedPurpose:  "fraud investigation",
		},
	})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	id := sub.GetRequestId()

	// Assessment opens the case from the RequestReceived event; alice
	// reviews it and decides to disclose, bob approves (four eyes).
	decideDisclosure(t, ctx, asAlice, asBob, id)

	// Notification derives the plan. The lead DPA is notified of every
	// disclosure (2.2); it has no address here, so its packet goes by
	// portal, recorded by one person and confirmed by another (issue 15).
	dispatchLeadPacket(t, ctx, p, id)
	// Nothing else blocks (adequate country, the company is controller, no
	// gag), so the request is cleared.
	untilCleared(t, ctx, no, id)

	// Reporting seals the record: every event, in order, hash-chained.
	rec := waitSealed(t, ctx, re, id)
	var types []string
	for _, e := range rec.GetEntries() {
		types = append(types, e.GetEventType())
	}
	for _, want := range []string{
		"ddr.intake.v1.RequestReceived", "ddr.assessment.v1.CaseOpened", "ddr.assessment.v1.AssessmentDecided",
		"ddr.notification.v1.PlanDerived", "ddr.notification.v1.RequestCleared", "ddr.reporting.v1.RecordSealed",
	} {
		if !slices.Contains(types, want) {
			t.Errorf("record lacks %s; has %v", want, types)
		}
	}
	if types[0] != "ddr.intake.v1.RequestReceived" {
		t.Errorf("record starts with %s", types[0])
	}
	v, err := re.VerifyRecord(ctx, &reportingv1.VerifyRecordRequest{RequestId: id})
	if err != nil || !v.GetValid() {
		t.Errorf("VerifyRecord = %v, %v", v, err)
	}

	// The group member sees the stages, not the deliberations.
	got, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.GetRequest().GetStage(); s != intakev1.Stage_STAGE_CLEARED {
		t.Errorf("member sees stage %v, want cleared", s)
	}

	// The Privacy Team records what was disclosed; the member then sees the
	// request closed as disclosed, with every stage dated.
	must(t, "disposition", func() error {
		_, err := re.RecordDisposition(ctx, &reportingv1.RecordDispositionRequest{RequestId: id, Kind: disclosure(1, reportingv1.DataCategory_DATA_CATEGORY_SUBSCRIBER)})
		return err
	})
	eventually(t, func() error {
		got, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			return err
		}
		r := got.GetRequest()
		if r.GetStage() != intakev1.Stage_STAGE_CLOSED || r.GetOutcome() != intakev1.Outcome_OUTCOME_DISCLOSED {
			return fmt.Errorf("member sees %v/%v, want closed/disclosed", r.GetStage(), r.GetOutcome())
		}
		var stages []intakev1.Stage
		for _, e := range r.GetTimeline() {
			stages = append(stages, e.GetStage())
		}
		// A decision under way is "under review" to the member (issue 16,
		// platform/lifecycle.StageOf).
		want := []intakev1.Stage{intakev1.Stage_STAGE_RECEIVED, intakev1.Stage_STAGE_UNDER_REVIEW, intakev1.Stage_STAGE_CLEARED, intakev1.Stage_STAGE_CLOSED}
		if !slices.Equal(stages, want) {
			return fmt.Errorf("timeline %v, want %v", stages, want)
		}
		// The list is a projection of its own; it must agree.
		list, err := in.List(ctx, &intakev1.ListRequest{})
		if err != nil {
			return err
		}
		if n := len(list.GetRequests()); n != 1 || list.GetRequests()[0].GetOutcome() != intakev1.Outcome_OUTCOME_DISCLOSED {
			return fmt.Errorf("member's list holds %d requests, first %v", n, list.GetRequests())
		}
		return nil
	})

	// Trace context flows through the hops: assessment's handling of the
	// received event continues the trace of the Submit call.
	submitTrace := traceOf(t, spans, "ddr.intake.v1.IntakeService/Submit")
	if !anySpanInTrace(spans, submitTrace, trace.SpanKindConsumer) {
		t.Errorf("no consumer span continues the Submit trace %s", submitTrace)
	}
}

func traceOf(t *testing.T, spans *tracetest.InMemoryExporter, name string) trace.TraceID {
	t.Helper()
	for _, s := range spans.GetSpans() {
		if s.Name == name && s.SpanKind == trace.SpanKindServer {
			return s.SpanContext.TraceID()
		}
	}
	t.Fatalf("no server span %s", name)
	return trace.TraceID{}
}

func anySpanInTrace(spans *tracetest.InMemoryExporter, id trace.TraceID, kind trace.SpanKind) bool {
	for _, s := range spans.GetSpans() {
		if s.SpanContext.TraceID() == id && s.SpanKind == kind {
			return true
		}
	}
	return false
}

type keepSpans struct{ *tracetest.InMemoryExporter }

func (keepSpans) Shutdown(context.Context) error { return nil }

// untilCleared waits for the request's disclosure plan to clear.
func untilCleared(t *testing.T, ctx context.Context, no notificationv1.NotificationServiceClient, id string) {
	t.Helper()
	eventually(t, func() error {
		res, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
		if err != nil {
			return err
		}
		if s := res.GetPlan().GetStatus(); s != notificationv1.PlanStatus_PLAN_STATUS_CLEARED {
			return fmt.Errorf("plan status %v, blockers %v", s, res.GetPlan().GetBlockers())
		}
		return nil
	})
}

func must(t *testing.T, what string, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eventually retries f until it returns nil: a reaction crosses the
// services of the whole suite, so it is given twice the test kit's usual
// patience.
func eventually(t *testing.T, f func() error) {
	t.Helper()
	testkit.EventuallyNoErrorWithin(t, 2*testkit.Patience, f)
}
