package suite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

// Events are forever: the stream can never be rewritten, so the events of
// every earlier binary must stay readable. The golden corpus is the stream
// and the data-key bucket of an earlier suite, byte for byte; today's
// suite starts on it and every fold, projection and reactor must accept
// every event: nothing dead-lettered, every request answered by every
// read, every event decoded.
//
// Every corpus directory under testdata is checked the same way: the
// first day's (testdata/golden) and each one added beside it since
// (testdata/golden-2, golden-3, ...; see goldenDirs).
func TestGoldenCorpusIsReadByEveryFoldProjectionAndReactor(t *testing.T) {
	dirs := goldenDirs(t)
	// Every event type of the contract is in some corpus; a new type needs
	// a new corpus of its own (added, never regenerated).
	have := map[string]int{}
	for _, dir := range dirs {
		for typ, n := range typesIn(readGolden(t, dir)) {
			have[typ] += n
		}
	}
	for _, typ := range eventTypes(t) {
		if have[typ] == 0 {
			t.Logf("no golden corpus holds %s (a type newer than the corpora: add a corpus for it)", typ)
		}
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkCorpus(t, dir) })
	}
}

// checkCorpus starts today's suite on the corpus in dir and reads every
// one of its requests through every service.
func checkCorpus(t *testing.T, dir string) {
	c := readGolden(t, dir)

	// The first corpus was written before sealing; the later ones seal
	// their personal fields with the corpus's data keys.
	beforeSealing := dir == goldenDir
	// Each stored event decodes with today's binary, and, written before
	// sealing, opens as itself (no envelope, no key needed).
	for _, m := range c.Messages {
		ev, err := eventstore.FromMsg(m.Subject, nats.Header(m.Headers), m.Data, m.Sequence)
		if err != nil {
			t.Errorf("message %d (%s): %v", m.Sequence, nats.Header(m.Headers).Get(eventstore.HeaderType), err)
			continue
		}
		if !beforeSealing {
			continue
		}
		before := proto.Clone(ev.Payload)
		if _, err := seal.New(nil).Open(context.Background(), ev.RequestID, ev.Payload); err != nil || !proto.Equal(before, ev.Payload) {
			t.Errorf("message %d: opening an event written before sealing: %v", m.Sequence, err)
		}
	}

	p := startOnCorpus(t, c)
	if !beforeSealing {
		// Each request's sealed events open with the corpus's KEK and data
		// keys (an erased key reads as erased, not as an error).
		for _, id := range requestIDs(t, c) {
			if len(openedEventsAs(t, p, "intake", id)) == 0 {
				t.Errorf("request %s: no event opened", id)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	eventually(t, caughtUp(p, t))
	if n := dlqCount(t, p); n != 0 {
		t.Errorf("%d events of the golden corpus were dead-lettered", n)
	}

	ids := requestIDs(t, c)
	member := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	cases := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	plans := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
	records := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))
	planned := map[string]bool{}
	for _, m := range c.Messages {
		if nats.Header(m.Headers).Get(eventstore.HeaderType) == "ddr.notification.v1.PlanDerived" {
			id, _, _, _ := eventstore.ParseSubject(m.Subject)
			planned[id] = true
		}
	}
	for _, id := range ids {
		// Reads are served by projections that catch up on their own.
		eventually(t, func() error {
			if _, err := member.Get(ctx, &intakev1.GetRequest{RequestId: id}); err != nil {
				return fmt.Errorf("intake Get %s: %w", id, err)
			}
			if _, err := cases.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id}); err != nil {
				return fmt.Errorf("GetCase %s: %w", id, err)
			}
			if planned[id] {
				if _, err := plans.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id}); err != nil {
					return fmt.Errorf("GetPlan %s: %w", id, err)
				}
			}
			rec, err := records.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
			if err != nil {
				return fmt.Errorf("GetRecord %s: %w", id, err)
			}
			if len(rec.GetRecord().GetEntries()) == 0 {
				return fmt.Errorf("record of %s is empty", id)
			}
			v, err := records.VerifyRecord(ctx, &reportingv1.VerifyRecordRequest{RequestId: id})
			if err != nil {
				return fmt.Errorf("VerifyRecord %s: %w", id, err)
			}
			if !v.GetValid() {
				return fmt.Errorf("VerifyRecord %s: not valid: %v", id, v)
			}
			return nil
		})
	}
	eventually(t, func() error {
		list, err := member.List(ctx, &intakev1.ListRequest{})
		if err != nil {
			return err
		}
		if n := len(list.GetRequests()); n != len(ids) {
			return fmt.Errorf("the member lists %d requests, want %d", n, len(ids))
		}
		if _, err := cases.ListCases(ctx, &assessmentv1.ListCasesRequest{}); err != nil {
			return err
		}
		_, err = plans.ListHolds(ctx, &notificationv1.ListHoldsRequest{})
		return err
	})
	// The sealed targets still open with the corpus's KEK, except where
	// the corpus erased them.
	opened := 0
	for _, id := range ids {
		g, err := member.Get(ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range g.GetRequest().GetContent().GetTargets() {
			if tg.GetValue() != "" {
				opened++
			} else if !tg.GetErased() {
				t.Errorf("request %s: a target neither readable nor erased", id)
			}
		}
	}
	if opened == 0 {
		t.Error("no sealed target of the corpus opened")
	}
	if n := dlqCount(t, p); n != 0 {
		t.Errorf("%d events of the golden corpus were dead-lettered", n)
	}
}

// The golden test fails when an event can no longer be read: a corrupted
// payload in a copy of the corpus is dead-lettered and refused.
func TestGoldenCorpusCheckFailsOnAnUnreadableEvent(t *testing.T) {
	c := readGolden(t, goldenDir)
	// Corrupt the first AssessmentDecided: the plan reactor and reporting
	// both read it.
	i := slices.IndexFunc(c.Messages, func(m goldenMessage) bool {
		return nats.Header(m.Headers).Get(eventstore.HeaderType) == "ddr.assessment.v1.AssessmentDecided"
	})
	if i < 0 {
		t.Fatal("no AssessmentDecided in the corpus")
	}
	bad := slices.Clone(c.Messages[i].Data)
	for j := range bad {
		bad[j] = 0xff
	}
	c.Messages[i].Data = bad
	m := c.Messages[i]
	if _, err := eventstore.FromMsg(m.Subject, nats.Header(m.Headers), m.Data, m.Sequence); err == nil {
		t.Fatal("a corrupted payload decodes; the decode check proves nothing")
	}
	p := startOnCorpus(t, c)
	eventually(t, func() error {
		if dlqCount(t, p) == 0 {
			return errors.New("the corrupted event is not dead-lettered yet")
		}
		return nil
	})
}

// startOnCorpus loads the corpus into a fresh store, exactly as stored,
// and starts the whole suite on it with the corpus's KEK.
func startOnCorpus(t *testing.T, c goldenCorpus) *runnertest.Proc {
	t.Helper()
	dataDir := t.TempDir()
	placeKEK(t, dataDir, c.KEK)
	// First a process with no service: it makes the streams and the
	// bucket, and nothing reacts while the corpus goes in.
	empty := runnertest.Start(t, runnertest.Options{DataDir: dataDir}, func(context.Context, runner.Deps) ([]runner.Component, error) {
		return nil, nil
	})
	importStore(t, empty, c)
	checkImported(t, empty, c)
	empty.Stop(t)
	cfg := suite.DefaultConfig()
	return runnertest.Start(t, runnertest.Options{DataDir: dataDir}, cfg.Build)
}

// checkImported compares the stream with the corpus: same subjects,
// headers and payloads, in order.
func checkImported(t *testing.T, p *runnertest.Proc, c goldenCorpus) {
	t.Helper()
	got := exportStore(t, p)
	if len(got.Messages) != len(c.Messages) {
		t.Fatalf("the stream holds %d messages, the corpus %d", len(got.Messages), len(c.Messages))
	}
	for i, m := range c.Messages {
		g := got.Messages[i]
		if g.Subject != m.Subject || string(g.Data) != string(m.Data) || fmt.Sprint(g.Headers) != fmt.Sprint(m.Headers) {
			t.Fatalf("message %d is not stored as the corpus has it", m.Sequence)
		}
	}
}
