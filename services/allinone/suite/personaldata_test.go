package suite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/proto"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

const (
	canary = "canary-4e1d77b0@example.org"
	// control is stored in clear (the authority's name is not personal
	// data): finding it proves the raw scan reads what the store wrote.
	control = "Control-Authority-9c2f"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func canaryRequest() *intakev1.DataDisclosureRequest {
	r := secRequest(canary)
	r.Authority.Name = control
	return r
}

// rawFilesContaining lists the files under dir whose bytes contain s.
func rawFilesContaining(t *testing.T, dir, s string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func metricsText(t *testing.T, addr string) string {
	t.Helper()
	if addr == "" {
		t.Fatal("the process serves no metrics")
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The canary: a target identifier submitted through the suite is nowhere in
// the logs, the spans, the metrics, or the bytes JetStream wrote to disk
// (stream, dead letters and buckets): the record holds it only sealed. Its
// own group member still reads it back.
func TestPersonalDataCanaryIsInNoLogSpanMetricOrStoredByte(t *testing.T) {
	dataDir := t.TempDir()
	logs := &lockedBuffer{}
	spans := tracetest.NewInMemoryExporter()
	p := startSuite(t, runnertest.Options{DataDir: dataDir, Logs: logs, SpanExporter: keepSpans{spans}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))

	res, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "canary-1", Request: canaryRequest()})
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetRequestId()
	// The error path, echoing the value back in a refused submission.
	bad := canaryRequest()
	bad.Authority.Country = "Germany"
	_, _ = in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "canary-2", Request: bad})
	got, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.GetRequest().GetContent().GetTargets()[0].GetValue(); v != canary {
		t.Fatalf("the member reads target %q, want its own value back", v)
	}
	eventually(t, func() error {
		_, err := in.List(ctx, &intakev1.ListRequest{})
		return err
	})
	// Let the reactions run (case opened) so their logs and spans count too.
	eventually(t, func() error {
		g, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			return err
		}
		if g.GetRequest().GetStage() != intakev1.Stage_STAGE_UNDER_REVIEW {
			return fmt.Errorf("stage %v", g.GetRequest().GetStage())
		}
		return nil
	})
	metrics := metricsText(t, p.Info.MetricsAddr)
	p.Stop(t)

	if !strings.Contains(logs.String(), id) {
		t.Fatal("the logs do not mention the request id; is logging wired?")
	}
	if strings.Contains(logs.String(), canary) {
		t.Error("a log line carries the target value")
	}
	if len(spans.GetSpans()) == 0 {
		t.Fatal("no spans recorded")
	}
	for _, s := range spans.GetSpans() {
		if strings.Contains(fmt.Sprintf("%s %v %v %v", s.Name, s.Attributes, s.Events, s.Status), canary) {
			t.Errorf("span %q carries the target value", s.Name)
		}
	}
	if !strings.Contains(metrics, "ddr_") {
		t.Fatal("no ddr metrics served; is the exporter wired?")
	}
	if strings.Contains(metrics, canary) {
		t.Error("a metric carries the target value")
	}
	store := filepath.Join(dataDir, "jetstream")
	if len(rawFilesContaining(t, store, control)) == 0 {
		t.Fatal("the control string is in no stored file; the raw scan proves nothing")
	}
	if files := rawFilesContaining(t, store, canary); len(files) > 0 {
		t.Errorf("the target value is stored in clear in %v", files)
	}
}

// Crypto-shredding: erasing a request's data key makes its identifiers
// unreadable for everyone, while the record keeps every byte it had and
// still verifies.
func TestErasingTheDataKeyShredsTheTargetsAndTheRecordStillVerifies(t *testing.T) {
	p := startSuite(t, runnertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	legal := intakev1.NewIntakeServiceClient(p.Dial(t, callerOf["legal"]))
	dpa := reportingv1.NewReportingServiceClient(p.Dial(t, callerOf["legal"]))

	res, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "shred-1", Request: canaryRequest()})
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetRequestId()
	if _, err := in.Withdraw(ctx, &intakev1.WithdrawRequest{RequestId: id, Reason: "withdrawn by the authority"}); err != nil {
		t.Fatal(err)
	}
	acknowledgeWithdrawal(t, p, id) // issue 16: the record closes on the acknowledgement
	// Notification's StepsStopped reacts to the withdrawal on its own
	// time and may reach the record after the seal (seen under CI load):
	// wait for it too, so that the only entry the erasure may add is its
	// own.
	var before *reportingv1.Record
	eventually(t, func() error {
		before = waitSealed(t, ctx, dpa, id)
		if !slices.Contains(entryTypes(before), "notification.v1.StepsStopped") {
			return fmt.Errorf("no StepsStopped in the record yet: %v", entryTypes(before))
		}
		return nil
	})
	sealedBefore := storedTarget(t, p, id).GetSealedValue()

	er, err := legal.EraseTargets(ctx, &intakev1.EraseTargetsRequest{RequestId: id, Reason: "retention period over"})
	if err != nil || !er.GetErasedNow() {
		t.Fatalf("EraseTargets = %v, %v", er, err)
	}
	if again, err := legal.EraseTargets(ctx, &intakev1.EraseTargetsRequest{RequestId: id}); err != nil || again.GetErasedNow() {
		t.Errorf("second EraseTargets = %v, %v; want done already", again, err)
	}

	// The member reads no value any more.
	got, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if tg := got.GetRequest().GetContent().GetTargets()[0]; tg.GetValue() != "" || !tg.GetErased() {
		t.Errorf("after erasure the member reads %q (erased %v)", tg.GetValue(), tg.GetErased())
	}
	// Nor can anyone holding the KEK and intake's access to the keys.
	stored := storedTarget(t, p, id)
	if !bytes.Equal(stored.GetSealedValue(), sealedBefore) || stored.GetValue() != "" {
		t.Error("the stored event changed; the record must stay as written")
	}
	_, kr := keyringAs(t, p, "intake")
	if _, err := kr.Open(ctx, id, keys.TargetLabel(stored.GetRef()), stored.GetSealedValue()); !errors.Is(err, keys.ErrErased) {
		t.Errorf("opening the sealed target after erasure: %v, want ErrErased", err)
	}

	// The record: every earlier entry unchanged, the erasure appended and,
	// the record being closed, a seal over it; the chain verifies.
	var after *reportingv1.Record
	eventually(t, func() error {
		r, err := dpa.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return err
		}
		after = r.GetRecord()
		if n := len(after.GetEntries()); n != len(before.GetEntries())+2 {
			return fmt.Errorf("%d entries %v, want %d: %v, the erasure and its seal", n, entryTypes(after), len(before.GetEntries())+2, entryTypes(before))
		}
		return nil
	})
	for i, e := range before.GetEntries() {
		if !proto.Equal(e, after.GetEntries()[i]) {
			t.Errorf("record entry %d changed by the erasure", i)
		}
	}
	if got := entryTypes(after)[len(before.GetEntries()):]; !slices.Equal(got, []string{"intake.v1.TargetsErased", "reporting.v1.RecordSealed"}) {
		t.Errorf("entries after the erasure %v, want the erasure and its seal", got)
	}
	v, err := dpa.VerifyRecord(ctx, &reportingv1.VerifyRecordRequest{RequestId: id})
	if err != nil || !v.GetValid() {
		t.Errorf("VerifyRecord after erasure = %v, %v; want valid", v, err)
	}
}

// entryTypes lists a record's entries by event type, without the "ddr."
// prefix.
func entryTypes(r *reportingv1.Record) []string {
	var out []string
	for _, e := range r.GetEntries() {
		out = append(out, strings.TrimPrefix(e.GetEventType(), "ddr."))
	}
	return out
}

// storedTarget reads the first target of the request's RequestReceived
// straight from the stream, as reporting sees it.
func storedTarget(t *testing.T, p *runnertest.Proc, id string) *intakev1.Target {
	t.Helper()
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/reporting"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := eventstore.NewStore(js).Load(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range h.Events {
		if rr, ok := ev.Payload.(*intakev1.RequestReceived); ok {
			tg := rr.GetRequest().GetTargets()[0]
			if len(tg.GetSealedValue()) == 0 || tg.GetValue() != "" {
				t.Fatalf("stored target is not sealed: value %q", tg.GetValue())
			}
			return tg
		}
	}
	t.Fatal("no RequestReceived")
	return nil
}
