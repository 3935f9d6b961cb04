package service_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/service"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

const (
	memberA = "spiffe://ddr.local/group-member/acme-eu"
	memberB = "spiffe://ddr.local/group-member/acme-us"
)

func build(ctx context.Context, d runner.Deps) ([]runner.Component, error) {
	c, err := service.New(ctx, d, service.Config{LateThreshold: 24 * time.Hour})
	if err != nil {
		return nil, err
	}
	return []runner.Component{c}, nil
}

func client(t *testing.T, p *runnertest.Proc, member string) intakev1.IntakeServiceClient {
	return intakev1.NewIntakeServiceClient(p.Dial(t, member))
}

// submitted has member c submit an oral request received an hour ago
// under idempotency key key, and returns its id.
func submitted(t *testing.T, c intakev1.IntakeServiceClient, key string) string {
	t.Helper()
	res, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: key, Request: oral(time.Now().Add(-time.Hour), "x@example.org")})
	if err != nil {
		t.Fatal(err)
	}
	return res.GetRequestId()
}

// oral is a demand made by phone, under no legal process and citing no data
// protection law: clause 3.2 says it still counts.
func oral(received time.Time, target string) *intakev1.DataDisclosureRequest {
	return &intakev1.DataDisclosureRequest{
		ReceivedAt: timestamppb.New(received),
		Channel:    intakev1.Channel_CHANNEL_PHONE,
		Authority: &intakev1.Authority{
			Name:    "Landespolizei",
			Kind:    intakev1.AuthorityKind_AUTHORITY_KIND_POLICE,
			Country: "DE",
		},
		Targets: []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Value: target}},
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// streamMessages counts the DDR stream's messages through the process's
// NATS listener, as an operator (stream state, not content).
func streamMessages(t *testing.T, p *runnertest.Proc) uint64 {
	t.Helper()
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/sre/oncall"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctxT(t), eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestClause3_2_OralRequestWithoutLegalProcessOrCitationAccepted(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	c := client(t, p, memberA)
	ctx := ctxT(t)

	res, err := c.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "call-1", Request: oral(time.Now().Add(-time.Hour), "x@example.org")})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	got, err := c.Get(ctx, &intakev1.GetRequest{RequestId: res.GetRequestId()})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	r := got.GetRequest()
	if r.GetGroupMember() != memberA || r.GetContent().GetChannel() != intakev1.Channel_CHANNEL_PHONE || r.GetStage() != intakev1.Stage_STAGE_RECEIVED {
		t.Errorf("stored request = member %q channel %v stage %v", r.GetGroupMember(), r.GetContent().GetChannel(), r.GetStage())
	}
	if ref := r.GetContent().GetTargets()[0].GetRef(); ref != "t1" {
		t.Errorf("target ref = %q, want t1", ref)
	}
}

func TestClause1_1_EveryKindOfGovernmentAuthorityAccepted(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	c := client(t, p, memberA)
	for k := range intakev1.AuthorityKind_name {
		kind := intakev1.AuthorityKind(k)
		if kind == intakev1.AuthorityKind_AUTHORITY_KIND_UNSPECIFIED {
			continue
		}
		req := oral(time.Now().Add(-time.Minute), "x@example.org")
		req.Authority.Kind = kind
		if _, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: "k-" + kind.String(), Request: req}); err != nil {
			t.Errorf("%v refused: %v", kind, err)
		}
	}
}

func TestClause3_1_LateForwardingFlaggedAndCounted(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	c := client(t, p, memberA)
	late, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: "late", Request: oral(time.Now().Add(-50*time.Hour), "x@example.org")})
	if err != nil {
		t.Fatal(err)
	}
	prompt, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: "prompt", Request: oral(time.Now().Add(-time.Hour), "x@example.org")})
	if err != nil {
		t.Fatal(err)
	}
	if !late.GetLateForwarding() || prompt.GetLateForwarding() {
		t.Errorf("late flags: 50h -> %v, 1h -> %v; want true, false", late.GetLateForwarding(), prompt.GetLateForwarding())
	}
	got, err := c.Get(ctxT(t), &intakev1.GetRequest{RequestId: late.GetRequestId()})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.GetRequest().GetForwardingDelay().AsDuration(); d < 50*time.Hour || d > 51*time.Hour {
		t.Errorf("forwarding delay = %v, want about 50h", d)
	}
	if !strings.Contains(scrapeMetrics(t, p), "\nddr_intake_late_forwarded_total 1\n") {
		t.Errorf("metrics lack ddr_intake_late_forwarded_total 1")
	}
}

// scrapeMetrics reads the process's /metrics, as Prometheus would.
func scrapeMetrics(t *testing.T, p *runnertest.Proc) string {
	t.Helper()
	res, err := http.Get("http://" + p.Info.MetricsAddr + "/metrics")
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

// Each bad input gets INVALID_ARGUMENT with exactly these field violations,
// and nothing is stored.
func TestSubmit_BadInputsGetFieldViolationsAndStoreNothing(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	c := client(t, p, memberA)
	now := time.Now()
	valid := func() *intakev1.DataDisclosureRequest { return oral(now.Add(-time.Hour), "x@example.org") }
	tests := []struct {
		name   string
		key    string
		mutate func(r *intakev1.DataDisclosureRequest)
		want   []ddrerr.FieldViolation
	}{
		{"received in the future", "k", func(r *intakev1.DataDisclosureRequest) { r.ReceivedAt = timestamppb.New(now.Add(time.Hour)) },
			[]ddrerr.FieldViolation{{Field: "request.received_at", Description: "must not be in the future"}}},
		{"no received time", "k", func(r *intakev1.DataDisclosureRequest) { r.ReceivedAt = nil },
			[]ddrerr.FieldViolation{{Field: "request.received_at", Description: "value is required"}}},
		{"not a country code", "k", func(r *intakev1.DataDisclosureRequest) { r.Authority.Country = "XX" },
			[]ddrerr.FieldViolation{{Field: "request.authority.country", Description: "must be an ISO 3166-1 alpha-2 code in upper case, or UNKNOWN"}}},
		{"lower-case country", "k", func(r *intakev1.DataDisclosureRequest) { r.Authority.Country = "de" },
			[]ddrerr.FieldViolation{{Field: "request.authority.country", Description: "does not match regex pattern `^([A-Z]{2}|UNKNOWN)$`"}}},
		{"neither targets nor scope", "k", func(r *intakev1.DataDisclosureRequest) { r.Targets = nil },
			[]ddrerr.FieldViolation{{Field: "request.targets", Description: "at least one target or a scope_description is required"}}},
		{"bad idempotency key and no channel", "no spaces allowed", func(r *intakev1.DataDisclosureRequest) { r.Channel = 0 },
			[]ddrerr.FieldViolation{
				{Field: "idempotency_key", Description: "does not match regex pattern `^[A-Za-z0-9._:-]+$`"},
				{Field: "request.channel", Description: "must not be in list [0]"},
			}},
		{"bad attachment digest", "k", func(r *intakev1.DataDisclosureRequest) {
			r.Attachments = []*intakev1.Attachment{{Uri: "https://dms.example/doc/1", Sha256: "abc", MediaType: "application/pdf"}}
		}, []ddrerr.FieldViolation{{Field: "request.attachments[0].sha256", Description: "does not match regex pattern `^[0-9a-f]{64}$`"}}},
	}
	before := streamMessages(t, p)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := valid()
			tt.mutate(r)
			_, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: tt.key, Request: r})
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("code = %v (%v), want InvalidArgument", status.Code(err), err)
			}
			if diff := cmp.Diff(tt.want, grpcstatus.FieldViolationsFrom(err)); diff != "" {
				t.Errorf("field violations (-want +got):\n%s", diff)
			}
		})
	}
	if after := streamMessages(t, p); after != before {
		t.Errorf("stream grew from %d to %d messages on refused input", before, after)
	}
}

// A group member retrying hours later, after the suite restarted, gets the
// same request id and the request is recorded once.
func TestSubmit_IdempotentRetryAfterRestartReturnsSameID(t *testing.T) {
	dir := t.TempDir()
	req := &intakev1.SubmitRequest{IdempotencyKey: "letter-2026-117", Request: oral(time.Now().Add(-time.Hour), "x@example.org")}

	p1 := runnertest.Start(t, runnertest.Options{DataDir: dir}, build)
	first, err := client(t, p1, memberA).Submit(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	p1.Stop(t)

	p2 := runnertest.Start(t, runnertest.Options{DataDir: dir}, build)
	c := client(t, p2, memberA)
	again, err := c.Submit(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if again.GetRequestId() != first.GetRequestId() || !again.GetReplayed() || first.GetReplayed() {
		t.Errorf("first %s (replayed %v), retry %s (replayed %v); want the same id, replayed only on retry",
			first.GetRequestId(), first.GetReplayed(), again.GetRequestId(), again.GetReplayed())
	}
	if n := streamMessages(t, p2); n != 1 {
		t.Errorf("stream holds %d messages, want exactly one RequestReceived", n)
	}

	// The same key for a different demand is refused, not answered with the old id.
	other := &intakev1.SubmitRequest{IdempotencyKey: req.IdempotencyKey, Request: oral(time.Now().Add(-time.Hour), "y@example.org")}
	if _, err := c.Submit(ctxT(t), other); status.Code(err) != codes.AlreadyExists {
		t.Errorf("reused key for another demand: code %v, want AlreadyExists", status.Code(err))
	}
}

// An append that fails (here: an event over the NATS server's max payload)
// records nothing and acknowledges nothing, so it must not keep the key:
// a retry with the same key succeeds, and is then the request the key
// stands for. The oversized request is valid; only the event is too large
// for this server, which has a lowered max payload.
func TestSubmit_RetryAfterFailedAppendIsNotBlockedByItsKey(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{NATSMaxPayload: 64 << 10}, build)
	c := client(t, p, memberA)
	big := oral(time.Now().Add(-time.Hour), "x@example.org")
	for i := range 200 {
		big.Targets = append(big.Targets, &intakev1.Target{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: fmt.Sprintf("acct-%03d-%s", i, strings.Repeat("z", 490))})
	}
	const key = "letter-2026-870kb"
	if _, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: key, Request: big}); err == nil {
		t.Fatal("a 100 KB event was appended to a server taking 64 KiB; the test needs the append to fail")
	}
	if n := streamMessages(t, p); n != 0 {
		t.Fatalf("the failed append left %d messages", n)
	}

	small := &intakev1.SubmitRequest{IdempotencyKey: key, Request: oral(time.Now().Add(-time.Hour), "x@example.org")}
	first, err := c.Submit(ctxT(t), small)
	if err != nil {
		t.Fatalf("retry with the same key after the failed append: %v", err)
	}
	if first.GetReplayed() {
		t.Error("the first recorded submission is marked replayed")
	}
	again, err := c.Submit(ctxT(t), small)
	if err != nil || again.GetRequestId() != first.GetRequestId() || !again.GetReplayed() {
		t.Errorf("same submission again: %s replayed %v, %v; want %s replayed", again.GetRequestId(), again.GetReplayed(), err, first.GetRequestId())
	}
	// Now the key stands for the recorded request: other content is refused.
	if _, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: key, Request: oral(time.Now().Add(-time.Hour), "y@example.org")}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("other content under the recorded key: %v, want AlreadyExists", err)
	}
	if n := streamMessages(t, p); n != 1 {
		t.Errorf("stream holds %d messages, want exactly one RequestReceived", n)
	}
}

// Concurrent retries of one submission record it once.
func TestSubmit_ConcurrentRetriesRecordOnce(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	c := client(t, p, memberA)
	req := &intakev1.SubmitRequest{IdempotencyKey: "burst", Request: oral(time.Now().Add(-time.Hour), "x@example.org")}
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			res, err := c.Submit(ctxT(t), req)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = res.GetRequestId()
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids differ: %v", ids)
		}
	}
	if n := streamMessages(t, p); n != 1 {
		t.Errorf("stream holds %d messages, want 1", n)
	}
}

func TestGroupMemberSeesOnlyItsOwnRequests(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	a, b := client(t, p, memberA), client(t, p, memberB)
	res, err := a.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: "a1", Request: oral(time.Now().Add(-time.Hour), "x@example.org")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctxT(t), &intakev1.GetRequest{RequestId: res.GetRequestId()}); status.Code(err) != codes.NotFound {
		t.Errorf("other member's Get: %v, want NotFound", status.Code(err))
	}
	if _, err := b.Withdraw(ctxT(t), &intakev1.WithdrawRequest{RequestId: res.GetRequestId()}); status.Code(err) != codes.NotFound {
		t.Errorf("other member's Withdraw: %v, want NotFound", status.Code(err))
	}
	testkit.EventuallyNoError(t, func() error {
		la, err := a.List(ctxT(t), &intakev1.ListRequest{})
		if err != nil {
			return err
		}
		if len(la.GetRequests()) != 1 {
			return fmt.Errorf("member A lists %d requests", len(la.GetRequests()))
		}
		return nil
	})
	lb, err := b.List(ctxT(t), &intakev1.ListRequest{})
	if err != nil || len(lb.GetRequests()) != 0 {
		t.Errorf("member B lists %d requests (err %v), want 0", len(lb.GetRequests()), err)
	}
	// Without a client certificate the TLS handshake itself fails.
	if _, err := intakev1.NewIntakeServiceClient(p.Dial(t, "")).Get(ctxT(t), &intakev1.GetRequest{RequestId: res.GetRequestId()}); status.Code(err) != codes.Unavailable {
		t.Errorf("anonymous Get: %v, want refused for want of a certificate", err)
	}
}

func TestList_PagesNewestFirst(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	c := client(t, p, memberA)
	var want []string
	for i := range 5 {
		res, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: fmt.Sprintf("p%d", i), Request: oral(time.Now().Add(-time.Hour), "x@example.org")})
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{res.GetRequestId()}, want...)
	}
	var got []string
	testkit.EventuallyNoError(t, func() error {
		got = nil
		tok := ""
		for {
			page, err := c.List(ctxT(t), &intakev1.ListRequest{PageSize: 2, PageToken: tok})
			if err != nil {
				return err
			}
			for _, r := range page.GetRequests() {
				got = append(got, r.GetRequestId())
			}
			if tok = page.GetNextPageToken(); tok == "" {
				break
			}
		}
		if len(got) != len(want) {
			return fmt.Errorf("listed %d of %d", len(got), len(want))
		}
		return nil
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if _, err := c.List(ctxT(t), &intakev1.ListRequest{PageToken: "garbage"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad page token: %v, want InvalidArgument", status.Code(err))
	}
}

func TestAmendKeepsOriginalAndWithdrawEndsAmending(t *testing.T) {
	p := runnertest.Start(t, runnertest.Options{}, build)
	c := client(t, p, memberA)
	res, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: "am", Request: oral(time.Now().Add(-time.Hour), "x@example.org")})
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetRequestId()
	if _, err := c.Amend(ctxT(t), &intakev1.AmendRequest{RequestId: id, Information: "written confirmation follows"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Withdraw(ctxT(t), &intakev1.WithdrawRequest{RequestId: id, Reason: "authority withdrew by phone"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Amend(ctxT(t), &intakev1.AmendRequest{RequestId: id, Information: "too late"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("amend after withdrawal: %v, want FailedPrecondition", status.Code(err))
	}
	if _, err := c.Withdraw(ctxT(t), &intakev1.WithdrawRequest{RequestId: id}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("second withdrawal: %v, want FailedPrecondition", status.Code(err))
	}
	got, err := c.Get(ctxT(t), &intakev1.GetRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	r := got.GetRequest()
	if r.GetContent().GetTargets()[0].GetValue() != "x@example.org" || len(r.GetAmendments()) != 1 ||
		r.GetStage() != intakev1.Stage_STAGE_CLOSED || r.GetOutcome() != intakev1.Outcome_OUTCOME_WITHDRAWN {
		t.Errorf("after amend+withdraw: target kept %v, amendments %d, stage %v %v", r.GetContent().GetTargets()[0].GetValue() == "x@example.org", len(r.GetAmendments()), r.GetStage(), r.GetOutcome())
	}
	var stages []intakev1.Stage
	for _, e := range r.GetTimeline() {
		stages = append(stages, e.GetStage())
	}
	if diff := cmp.Diff([]intakev1.Stage{intakev1.Stage_STAGE_RECEIVED, intakev1.Stage_STAGE_CLOSED}, stages); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
}

// The canary: a target value submitted through intake appears in no log
// line, span (name, attribute, event) or metric.
func TestPersonalDataCanaryNeverReachesLogsSpansOrMetrics(t *testing.T) {
	const canary = "canary-7f3a91c2@example.org"
	spans := tracetest.NewInMemoryExporter()
	var logs testkit.LogBuffer

	p := runnertest.Start(t, runnertest.Options{Logs: &logs, SpanExporter: keepSpans{spans}}, build)
	c := client(t, p, memberA)
	res, err := c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: "canary", Request: oral(time.Now().Add(-72*time.Hour), canary)})
	if err != nil {
		t.Fatal(err)
	}
	// Exercise the error paths too: a refused submission echoing the value.
	bad := oral(time.Now().Add(time.Hour), canary)
	_, _ = c.Submit(ctxT(t), &intakev1.SubmitRequest{IdempotencyKey: "canary-bad", Request: bad})
	if _, err := c.Get(ctxT(t), &intakev1.GetRequest{RequestId: res.GetRequestId()}); err != nil {
		t.Fatal(err)
	}
	metrics := scrapeMetrics(t, p)
	p.Stop(t)

	if logs.Len() == 0 || !strings.Contains(logs.String(), res.GetRequestId()) {
		t.Fatal("expected the logs to mention the request id; is logging wired?")
	}
	if strings.Contains(logs.String(), canary) {
		t.Error("a log line carries the target value")
	}
	got := spans.GetSpans()
	if len(got) == 0 {
		t.Fatal("no spans recorded")
	}
	for _, s := range got {
		if strings.Contains(s.Name, canary) {
			t.Errorf("span name %q carries the target value", s.Name)
		}
		for _, a := range s.Attributes {
			if strings.Contains(a.Value.String(), canary) {
				t.Errorf("span %q attribute %s carries the target value", s.Name, a.Key)
			}
		}
		for _, e := range s.Events {
			for _, a := range e.Attributes {
				if strings.Contains(a.Value.String(), canary) {
					t.Errorf("span %q event %q attribute %s carries the target value", s.Name, e.Name, a.Key)
				}
			}
		}
	}
	if !strings.Contains(metrics, "ddr_intake_late_forwarded_total 1") {
		t.Fatal("expected the late submission in the metrics; is the endpoint wired?")
	}
	if strings.Contains(metrics, canary) {
		t.Error("a metric carries the target value")
	}
}

// keepSpans keeps the recorded spans when the process shuts its tracer
// provider down (the in-memory exporter clears them on Shutdown).
type keepSpans struct{ *tracetest.InMemoryExporter }

func (keepSpans) Shutdown(context.Context) error { return nil }
