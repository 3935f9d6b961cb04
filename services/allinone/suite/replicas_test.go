package suite_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// replicaPair runs two replicas of every service, as a deployment scaled to
// two does: two processes on one JetStream (the first one's embedded
// server), sharing the durable consumers, the KV buckets and the keys, each
// with its own projections and its own timers.
type replicaPair struct {
	a, b *runnertest.Proc
	js   jetstream.JetStream
}

func startReplicas(t *testing.T, cfg suite.Config) replicaPair {
	t.Helper()
	// The development mode: the replicas share the first one's NATS, which
	// in the secure mode would want one PKI for both; what is under test
	// here is the replicas' behaviour, which is the same.
	dirA := t.TempDir()
	a := runnertest.Start(t, runnertest.Options{Insecure: true, DataDir: dirA}, cfg.Build)
	dirB := t.TempDir()
	// One key-encryption key and one fingerprint key for both, as a
	// deployment mounts one secret into every replica: the second replica
	// must open what the first sealed and recognise its idempotency keys.
	keyDir := filepath.Join(dirB, "pki")
	if err := os.MkdirAll(keyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{runner.KEKFileName, keys.FingerprintKeyFileName} {
		b, err := os.ReadFile(filepath.Join(dirA, "pki", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(keyDir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := runnertest.Start(t, runnertest.Options{Insecure: true, DataDir: dirB, NATSURL: a.Info.NATSURL}, cfg.Build)
	nc, err := nats.Connect(a.Info.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return replicaPair{a: a, b: b, js: js}
}

// count is how many events of msg's kind the stream holds for the request.
func (r replicaPair) count(t *testing.T, id string, msg proto.Message) int {
	t.Helper()
	subject := eventstore.SubjectOf(id, msg)
	n := 0
	err := eventstore.Scan(t.Context(), r.js, eventstore.StreamName, eventstore.RequestFilter(id), func(m eventstore.RawMsg) error {
		if m.Subject == subject {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A group member's system balances over intake's replicas: a request
// submitted through one is read back through the other at once (Get reads
// the stream, not the replica's projection), and a retry of the submission
// through the other replica is answered with the same request id.
func TestReplicas_ReadYourWritesAcrossIntakeReplicas(t *testing.T) {
	r := startReplicas(t, suite.DefaultConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	inA := intakev1.NewIntakeServiceClient(r.a.Dial(t, member))
	inB := intakev1.NewIntakeServiceClient(r.b.Dial(t, member))

	for i, key := range []string{"replicas-0001", "replicas-0002", "replicas-0003"} {
		via, other := inA, inB
		if i%2 == 1 {
			via, other = inB, inA
		}
		demand := &intakev1.SubmitRequest{IdempotencyKey: key, Request: request(time.Now().Add(-time.Hour))}
		sub, err := via.Submit(ctx, demand)
		if err != nil {
			t.Fatalf("Submit %s: %v", key, err)
		}
		got, err := other.Get(ctx, &intakev1.GetRequest{RequestId: sub.GetRequestId()})
		if err != nil {
			t.Fatalf("Get %s through the other replica right after Submit: %v", sub.GetRequestId(), err)
		}
		if got.GetRequest().GetRequestId() != sub.GetRequestId() {
			t.Fatalf("Get returned %q, want %q", got.GetRequest().GetRequestId(), sub.GetRequestId())
		}
		again, err := other.Submit(ctx, demand)
		if err != nil {
			t.Fatalf("retried Submit %s through the other replica: %v", key, err)
		}
		if again.GetRequestId() != sub.GetRequestId() || !again.GetReplayed() {
			t.Fatalf("retry through the other replica: id %q replayed %v, want %q replayed", again.GetRequestId(), again.GetReplayed(), sub.GetRequestId())
		}
		if n := r.count(t, sub.GetRequestId(), &intakev1.RequestReceived{}); n != 1 {
			t.Fatalf("%d RequestReceived for %s, want 1", n, sub.GetRequestId())
		}
	}
}

// Both replicas watch review deadlines on their own ticker (every 5 ms
// here) and both see the case go overdue at the same moment of a shared
// clock; the case is marked overdue once.
func TestReplicas_ReviewDeadlineIsMarkedOnce(t *testing.T) {
	var skew atomic.Int64
	cfg := suite.DefaultConfig()
	cfg.Assessment.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	cfg.Assessment.OverdueInterval = 5 * time.Millisecond
	r := startReplicas(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(r.a.Dial(t, member))
	asA := assessmentv1.NewAssessmentServiceClient(r.a.Dial(t, reviewer))
	asB := assessmentv1.NewAssessmentServiceClient(r.b.Dial(t, reviewer))

	var ids []string
	for _, key := range []string{"overdue-0001", "overdue-0002", "overdue-0003"} {
		sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: key, Request: request(time.Now().Add(-time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.GetRequestId())
	}
	// Both replicas' queues hold every case before the clock moves, so
	// both watches find them overdue on the same tick.
	opened := map[string]uint64{}
	for _, as := range []assessmentv1.AssessmentServiceClient{asA, asB} {
		eventually(t, func() error {
			l, err := as.ListCases(ctx, &assessmentv1.ListCasesRequest{})
			if err != nil {
				return err
			}
			if len(l.GetCases()) != len(ids) {
				return errString("queue not complete yet")
			}
			for _, c := range l.GetCases() {
				opened[c.GetRequestId()] = c.GetVersion()
			}
			return nil
		})
	}
	skew.Store(int64(60 * 24 * time.Hour))

	// Until a replica's queue has seen the overdue events (a version past
	// the opened case's), its watch keeps finding the cases; once both
	// have, neither will mark them again.
	for _, as := range []assessmentv1.AssessmentServiceClient{asA, asB} {
		eventually(t, func() error {
			l, err := as.ListCases(ctx, &assessmentv1.ListCasesRequest{})
			if err != nil {
				return err
			}
			for _, c := range l.GetCases() {
				if !c.GetOverdue() || c.GetVersion() <= opened[c.GetRequestId()] {
					return errString("a case's overdue event is not in this replica's queue yet")
				}
			}
			return nil
		})
	}
	for _, id := range ids {
		if n := r.count(t, id, &assessmentv1.CaseOverdue{}); n != 1 {
			t.Errorf("%d CaseOverdue events for %s, want 1", n, id)
		}
	}
}

// Both replicas run the delivery sweep (every 5 ms here) over the same
// plans; the DPA's consultation packet for a disclosure to a country
// without adequacy (clauses 2.2, 4.2.1) reaches its webhook once and is recorded
// once.
func TestReplicas_Clause4_2_1_DPAPacketIsSentOnceByTwoSweepingReplicas(t *testing.T) {
	var posts atomic.Int64
	dpa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(dpa.Close)
	hooks := app.Endpoints{Webhooks: []app.Webhook{{URL: dpa.URL, Secret: "replicas-webhook-secret"}}}
	contacts := app.Contacts{From: "privacy@corp.example", ReplyContact: "privacy@corp.example", LeadDPA: app.DPA{Name: "DPC-IE", Endpoints: hooks}}
	cfg := suite.DefaultConfig()
	cfg.Notification.Contacts = &contacts
	cfg.Notification.SweepInterval = 5 * time.Millisecond
	r := startReplicas(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := intakev1.NewIntakeServiceClient(r.a.Dial(t, member))

	held := request(time.Now().Add(-time.Hour))
	held.Authority.Country = "CN"
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "replicas-held", Request: held})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetRequestId()
	decideDisclosure(t, ctx, assessmentv1.NewAssessmentServiceClient(r.a.Dial(t, reviewer)), assessmentv1.NewAssessmentServiceClient(r.b.Dial(t, approver)), id)

	// Both replicas' plans show the packet delivered: from then on
	// neither sweep owes it.
	for _, p := range []*runnertest.Proc{r.a, r.b} {
		no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
		eventually(t, func() error {
			res, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
			if err != nil {
				return err
			}
			for _, d := range res.GetPlan().GetDeliveries() {
				if d.GetStep() == notificationv1.StepKind_STEP_KIND_NOTIFY_DPA && !d.GetFailed() {
					return nil
				}
			}
			return errString("packet not delivered yet")
		})
	}
	if n := r.count(t, id, &notificationv1.NoticeDelivered{}); n != 1 {
		t.Errorf("%d NoticeDelivered events, want 1", n)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("the DPA's webhook was called %d times, want 1", n)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
