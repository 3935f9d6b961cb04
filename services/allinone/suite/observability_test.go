package suite_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// The four services, as they appear in traces and Jaeger.
var services = []string{"intake", "assessment", "notification", "reporting"}

// One request through all four services leaves one trace in Jaeger, found
// by the request id, holding spans of every service: the Submit call, the
// case opening, the staff calls' events, the plan and the sealed record.
// Each staff call is a trace of its own that links to it.
func TestTraceOfARequestIsOneTraceAcrossAllFourServicesInJaeger(t *testing.T) {
	jaeger := startJaeger(t)
	p := startSuite(t, runnertest.Options{OTLPEndpoint: jaeger.otlp})
	id := driveRequest(t, p, "warrant-2026-trace")
	// Stopping flushes the last spans to Jaeger.
	p.Stop(t)

	// Each service's spans of the request, found by tag in that service.
	var root *jaegerTrace
	for _, svc := range services {
		traces := jaeger.waitTraces(t, svc, id, func(ts []jaegerTrace) bool {
			return slices.ContainsFunc(ts, func(tr jaegerTrace) bool { return tr.hasServices(services...) })
		})
		var full []jaegerTrace
		for _, tr := range traces {
			if tr.hasServices(services...) {
				full = append(full, tr)
			}
		}
		if len(full) != 1 {
			t.Fatalf("service %s: %d traces of request %s hold all four services, want 1", svc, len(full), id)
		}
		if root == nil {
			root = &full[0]
		} else if full[0].TraceID != root.TraceID {
			t.Fatalf("service %s finds trace %s, intake finds %s", svc, full[0].TraceID, root.TraceID)
		}
	}

	for _, want := range []struct{ service, operation string }{
		{"intake", "ddr.intake.v1.IntakeService/Submit"},
		{"intake", "ddr.req.*.intake.received publish"},
		{"assessment", "ddr.req.*.intake.received process"},
		{"assessment", "ddr.req.*.assessment.opened publish"},
		{"assessment", "ddr.req.*.assessment.decided publish"},
		{"notification", "ddr.req.*.assessment.decided process"},
		{"notification", "ddr.req.*.notification.plan_derived publish"},
		{"reporting", "ddr.req.*.reporting.sealed publish"},
	} {
		if !root.hasSpan(want.service, want.operation) {
			t.Errorf("the request's trace lacks %s span %q; has %v", want.service, want.operation, root.operations())
		}
	}
	for _, s := range root.Spans {
		if s.tag("ddr.request_id") != id && s.tag("ddr.request_id") != "" {
			t.Errorf("span %q has request id %q", s.OperationName, s.tag("ddr.request_id"))
		}
	}

	// The approval is a trace of its own, linked to the request's.
	approvals := jaeger.waitTraces(t, "assessment", id, func(ts []jaegerTrace) bool {
		return slices.ContainsFunc(ts, func(tr jaegerTrace) bool {
			return tr.hasSpan("assessment", "ddr.assessment.v1.AssessmentService/ApproveDecision")
		})
	})
	linked := false
	for _, tr := range approvals {
		for _, s := range tr.Spans {
			if s.OperationName != "ddr.assessment.v1.AssessmentService/ApproveDecision" {
				continue
			}
			if tr.TraceID == root.TraceID {
				t.Errorf("ApproveDecision runs in the request's trace; want a trace of its own")
			}
			for _, r := range s.References {
				linked = linked || r.TraceID == root.TraceID
			}
		}
	}
	if !linked {
		t.Errorf("the ApproveDecision call does not link to the request's trace %s", root.TraceID)
	}
}

// A scrape of /metrics after a little traffic shows every metric of the
// runbook: RPC rate, errors and duration; events published and consumed;
// consumer lag and redeliveries; dead letters; holds; overdue cases; late
// forwarding.
func TestMetricsEndpointServesEveryRunbookMetric(t *testing.T) {
	var skew atomic.Int64
	cfg := suite.DefaultConfig()
	cfg.Assessment.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	cfg.Assessment.OverdueInterval = 20 * time.Millisecond
	p := runnertest.Start(t, runnertest.Options{}, cfg.Build)
	if p.Info.MetricsAddr == "" {
		t.Fatal("runner.Info has no MetricsAddr")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	as := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	// Received three days ago: late (clause 3.1).
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "late-letter-1", Request: request(time.Now().Add(-72 * time.Hour))})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	eventually(t, func() error {
		_, err := as.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: sub.GetRequestId()})
		return err
	})
	if _, err := as.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: "0197a000-0000-7000-8000-000000000000"}); status.Code(err) != codes.NotFound {
		t.Fatalf("GetCase of an unknown request = %v, want NotFound", err)
	}
	// Two months on, the case is past its review deadline.
	skew.Store(int64(60 * 24 * time.Hour))

	want := []string{
		`ddr_rpc_server_call_duration_seconds_bucket{`,
		`ddr_rpc_server_call_duration_seconds_count{`,
		`rpc_response_status_code="NOT_FOUND"`,
		`ddr_events_published_total{`,
		`ddr_events_consumed_total{`,
		`ddr_events_redelivered_total{consumer="assessment-open-case"}`,
		`ddr_consumer_handle_duration_seconds_bucket{`,
		`ddr_consumer_pending{consumer="assessment-open-case"}`,
		`ddr_consumer_ack_pending{consumer="notification-plan"`,
		`ddr_consumer_redelivered{`,
		`ddr_consumer_ack_floor{`,
		`ddr_dead_letters{consumer="assessment-open-case"}`,
		`ddr_notification_holds_open `,
		`ddr_notification_hold_oldest_age_seconds `,
		`ddr_assessment_cases_overdue_total{`,
		`ddr_assessment_cases_overdue_open `,
		`ddr_intake_late_forwarded_total `,
	}
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		body = scrape(t, p.Info.MetricsAddr)
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(body, w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %q:\n%s", missing, ddrLines(body))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, line := range []string{`ddr_intake_late_forwarded_total 1`, `ddr_assessment_cases_overdue_open 1`} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, ddrLines(body))
		}
	}
	// Request ids are never labels: they would grow without bound.
	if strings.Contains(body, sub.GetRequestId()) {
		t.Errorf("a metric names request %s", sub.GetRequestId())
	}
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", res.StatusCode, err)
	}
	return string(b)
}

func ddrLines(body string) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ddr_") {
			out = append(out, sc.Text())
		}
	}
	return strings.Join(out, "\n")
}

func request(receivedAt time.Time) *intakev1.DataDisclosureRequest {
	return &intakev1.DataDisclosureRequest{
		ReceivedAt:     timestamppb.New(receivedAt),
		Channel:        intakev1.Channel_CHANNEL_LETTER,
		Authority:      &intakev1.Authority{Name: "Staatsanwaltschaft Berlin", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_PROSECUTOR, Country: "DE"},
		LegalProcess:   &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_COURT_ORDER, Reference: "AG Tiergarten 123/26"},
		Targets:        []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-981"}},
		DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
		TimeRange:      &intakev1.TimeRange{From: timestamppb.New(time.Now().AddDate(0, -3, 0)), To: timestamppb.New(time.Now().AddDate(0, 0, -1))},
		StatedPurpose:  "fraud investigation",
	}
}

// driveRequest takes one request from intake to its sealed record: the
// calls of the end-to-end test, without its checks.
func driveRequest(t *testing.T, p *runnertest.Proc, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	asAlice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	asBob := assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))

	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: key, Request: request(time.Now().Add(-2 * time.Hour))})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	id := sub.GetRequestId()
	decideDisclosure(t, ctx, asAlice, asBob, id)
	dispatchLeadPacket(t, ctx, p, id) // 2.2, by two people
	untilCleared(t, ctx, no, id)
	waitSealed(t, ctx, re, id)
	return id
}

// jaegerProc is a Jaeger started for one test: OTLP in, query API out,
// traces in memory, on loopback.
type jaegerProc struct {
	otlp  string // host:port of the OTLP gRPC receiver
	query string // base URL of the query API
}

// jaegerBinary is built by `make jaeger-build` (a prerequisite of `make
// test`, so CI always has it); DDR_JAEGER names another.
func jaegerBinary() string {
	if b := os.Getenv("DDR_JAEGER"); b != "" {
		return b
	}
	return filepath.Join(repoRoot(), ".build", "bin", "jaeger")
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "..")
}

func startJaeger(t *testing.T) *jaegerProc {
	t.Helper()
	bin := jaegerBinary()
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("\n\n*** SKIPPED: no Jaeger binary at %s (%v).\n*** Build it with `make jaeger-build` (about 7 minutes); `make test` does so first.\n\n", bin, err)
	}
	otlp, queryHTTP, queryGRPC := freeAddr(t), freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "--config", filepath.Join(repoRoot(), "tools", "jaeger", "config.yaml"))
	cmd.Env = append(os.Environ(), "JAEGER_OTLP_GRPC="+otlp, "JAEGER_QUERY_HTTP="+queryHTTP, "JAEGER_QUERY_GRPC="+queryGRPC)
	logs := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start jaeger: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("jaeger output:\n%s", logs.String())
		}
	})
	j := &jaegerProc{otlp: otlp, query: "http://" + queryHTTP}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(j.query + "/api/services")
		if err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return j
			}
		}
		select {
		case <-exited:
			t.Fatalf("jaeger exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("jaeger did not answer within 60s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

type jaegerTrace struct {
	TraceID   string `json:"traceID"`
	Spans     []jaegerSpan
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	}
}

type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	ProcessID     string `json:"processID"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
	}
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	}
}

func (s jaegerSpan) tag(key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

func (tr jaegerTrace) service(s jaegerSpan) string { return tr.Processes[s.ProcessID].ServiceName }

func (tr jaegerTrace) hasServices(names ...string) bool {
	for _, n := range names {
		if !slices.ContainsFunc(tr.Spans, func(s jaegerSpan) bool { return tr.service(s) == n }) {
			return false
		}
	}
	return true
}

func (tr jaegerTrace) hasSpan(service, operation string) bool {
	return slices.ContainsFunc(tr.Spans, func(s jaegerSpan) bool {
		return tr.service(s) == service && s.OperationName == operation
	})
}

func (tr jaegerTrace) operations() []string {
	var out []string
	for _, s := range tr.Spans {
		out = append(out, tr.service(s)+": "+s.OperationName)
	}
	slices.Sort(out)
	return out
}

// waitTraces asks Jaeger for the traces of service tagged with the request
// id until done accepts them: spans arrive in batches.
func (j *jaegerProc) waitTraces(t *testing.T, service, requestID string, done func([]jaegerTrace) bool) []jaegerTrace {
	t.Helper()
	tags, _ := json.Marshal(map[string]string{"ddr.request_id": requestID})
	q := url.Values{"service": {service}, "tags": {string(tags)}, "limit": {"100"}, "lookback": {"1h"}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got struct{ Data []jaegerTrace }
		res, err := http.Get(j.query + "/api/traces?" + q.Encode())
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&got)
			_ = res.Body.Close()
		}
		if err == nil && done(got.Data) {
			return got.Data
		}
		if time.Now().After(deadline) {
			t.Fatalf("Jaeger: traces of %s tagged ddr.request_id=%s: %d found, not what was expected (last error %v)", service, requestID, len(got.Data), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
