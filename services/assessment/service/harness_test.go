package service_test

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/assessment/ports"
	"github.com/ddrsuite/ddr/services/assessment/service"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/authz"
	"github.com/ddrsuite/ddr/services/platform/consumer"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/natsx"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

const (
	alice  = "spiffe://ddr.test/staff/alice"
	bob    = "spiffe://ddr.test/staff/bob"
	carol  = "spiffe://ddr.test/staff/carol"
	dave   = "spiffe://ddr.test/staff/dave"
	member = "spiffe://ddr.test/group-member/zendesk-ie"
)

// env is a running assessment process: real embedded JetStream, real gRPC
// on a socket, the same wiring as the binary.
type env struct {
	t     *testing.T
	addr  string
	store *eventstore.Store
	js    jetstream.JetStream
	clock *testkit.Clock
}

// defaults returns the configuration the flags default to.
func defaults(t *testing.T) service.Config {
	t.Helper()
	var cfg service.Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func runnerConfig(t *testing.T) runner.Config {
	return runner.Config{
		Name:        "assessment-test",
		TrustDomain: "ddr.test", // the identities of these tests
		GRPCAddr:    "127.0.0.1:0",
		DataDir:     t.TempDir(),
		NATSListen:  "127.0.0.1:-1",
		Replicas:    1,
		DevIdentity: true,
		// Two approvers: overlays may require two approvals. Dave is legal:
		// a challenge's outcome is confirmed by the legal role.
		Staff:           authz.Staff{"alice": {authz.Reviewer}, "bob": {authz.Approver}, "carol": {authz.Approver}, "dave": {authz.Legal}},
		ShutdownTimeout: 5 * time.Second,
		LogLevel:        "error",
	}
}

func build(cfg service.Config) runner.BuildFunc {
	return func(ctx context.Context, d runner.Deps) ([]runner.Component, error) {
		c, err := service.New(ctx, d, cfg)
		if err != nil {
			return nil, err
		}
		return []runner.Component{c}, nil
	}
}

var quiet = slog.New(slog.DiscardHandler)

// start runs assessment with cfg; its clock starts at the real time.
func start(t *testing.T, cfg service.Config) *env {
	t.Helper()
	e, stop := startIn(t, cfg, t.TempDir())
	t.Cleanup(stop)
	return e
}

// startIn runs assessment with cfg on the JetStream files in dataDir until
// stop, so that a test can restart it on the same store.
func startIn(t *testing.T, cfg service.Config, dataDir string) (e *env, stop func()) {
	t.Helper()
	clk := testkit.NewClock(time.Now().UTC())
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	rc := runnerConfig(t)
	rc.DataDir = dataDir
	ready := make(chan runner.Info, 1)
	rc.Ready = func(i runner.Info) { ready <- i }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// The test reads events as assessment does: opened, since personal
	// data is sealed in the stream.
	stores := make(chan *eventstore.Store, 1)
	b := build(cfg)
	go func() {
		done <- runner.Run(ctx, rc, quiet, func(ctx context.Context, d runner.Deps) ([]runner.Component, error) {
			sd, err := d.As("assessment")
			if err != nil {
				return nil, err
			}
			stores <- sd.Store
			return b(ctx, d)
		})
	}()
	var info runner.Info
	select {
	case info = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("assessment did not start: %v", err)
	}
	var once sync.Once
	var nc *nats.Conn
	stop = func() {
		once.Do(func() {
			if nc != nil {
				nc.Close()
			}
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("assessment stopped with %v", err)
			}
		})
	}
	nc, err := natsx.Connect(info.NATSURL, "test-client")
	if err != nil {
		stop()
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	return &env{t: t, addr: info.GRPCAddr, store: <-stores, js: js, clock: clk}, stop
}

// dial connects to the service with the identity uri, for the life of the
// test.
func (e *env) dial(uri string) *grpc.ClientConn {
	e.t.Helper()
	id, err := auth.ParseSPIFFE(uri)
	if err != nil {
		e.t.Fatal(err)
	}
	conn, err := grpcclient.Dial(e.addr, grpcclient.WithDevIdentity(id))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// as returns a client calling with the identity uri.
func (e *env) as(uri string) assessmentv1.AssessmentServiceClient {
	return assessmentv1.NewAssessmentServiceClient(e.dial(uri))
}

// narrowRequest is a targeted, bounded demand from an adequate country: it
// raises no bulk flag.
func narrowRequest(received time.Time) *intakev1.DataDisclosureRequest {
	return &intakev1.DataDisclosureRequest{
		ReceivedAt:     timestamppb.New(received),
		Channel:        intakev1.Channel_CHANNEL_PORTAL,
		Authority:      &intakev1.Authority{Name: "Garda", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "IE"},
		LegalProcess:   &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_PRODUCTION_ORDER},
		Targets:        targets(2),
		DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER, intakev1.DataCategory_DATA_CATEGORY_CONTENT},
		TimeRange:      &intakev1.TimeRange{From: timestamppb.New(received.AddDate(0, -1, 0)), To: timestamppb.New(received)},
		CustomerId:     "cust-42",
	}
}

func targets(n int) []*intakev1.Target {
	out := make([]*intakev1.Target, n)
	for i := range out {
		out[i] = &intakev1.Target{Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Value: "person" + strconv.Itoa(i) + "@example.org"}
	}
	return out
}

// receive writes RequestReceived the way intake does, targets carrying their
// references, and returns the request id.
func (e *env) receive(req *intakev1.DataDisclosureRequest) string {
	e.t.Helper()
	id := uuid.NewString()
	for i, t := range req.GetTargets() {
		t.Ref = "t" + strconv.Itoa(i+1)
	}
	submit := e.clock.Now()
	ev := eventstore.Event{
		ID: eventstore.DerivedID(id, "intake.received"), RequestID: id,
		Time: submit, Actor: member,
		Payload: &intakev1.RequestReceived{RequestId: id, GroupMember: member, Request: req, SubmitTime: timestamppb.New(submit)},
	}
	if _, err := e.store.Append(context.Background(), id, 0, ev); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// openCase waits for the reactor to open the case of request id, the
// whole opening: on a single server the opening's events (CaseOpened,
// DeadlinesSet, RequesterChecked) are written one by one, so a read may
// see the case before the requester check beside it (eventstore's Append:
// atomic only on a replicated stream).
func (e *env) openCase(c assessmentv1.AssessmentServiceClient, id string) *assessmentv1.Case {
	e.t.Helper()
	var out *assessmentv1.Case
	testkit.Eventually(e.t, "case opened for "+id, func() bool {
		r, err := c.GetCase(context.Background(), &assessmentv1.GetCaseRequest{RequestId: id})
		if status.Code(err) == codes.NotFound {
			return false
		}
		if err != nil {
			e.t.Fatal(err)
		}
		out = r.GetCase()
		return e.has(id, eventstore.Kind[*assessmentv1.RequesterChecked]().Type)
	})
	return out
}

// has says whether the request's history holds an event of type typ.
func (e *env) has(id, typ string) bool {
	e.t.Helper()
	h, err := e.store.Load(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return slices.ContainsFunc(h.Events, func(ev eventstore.Event) bool { return ev.Type == typ })
}

func allFactors() []*assessmentv1.FactorAssessment {
	var out []*assessmentv1.FactorAssessment
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		out = append(out, &assessmentv1.FactorAssessment{Factor: f, Assessment: "assessed " + f.String()})
	}
	return out
}

// review claims the case for c's caller and records the full review of
// 3.3: the six factors, the rights weighing, and the challenge considered.
func (e *env) review(c assessmentv1.AssessmentServiceClient, id string) *assessmentv1.Case {
	e.t.Helper()
	ctx := context.Background()
	e.openCase(c, id)
	ok(c.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id}))(e.t)
	ok(c.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: allFactors(), RightsAssessment: "two named accounts; the intrusion is limited"}))(e.t)
	r := ok(c.RecordChallengeConsideration(ctx, &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: "the order is valid on its face"}))(e.t)
	return r.GetCase()
}

// reviewedRequest receives a narrow request an hour old and has c's caller
// review its case (review); it returns the request id.
func (e *env) reviewedRequest(c assessmentv1.AssessmentServiceClient) string {
	e.t.Helper()
	id := e.receive(narrowRequest(e.clock.Now().Add(-time.Hour)))
	e.review(c, id)
	return id
}

// ok reads ok(call())(t): the call's result, or the test fails.
func ok[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("call failed: %v", err)
		}
		return v
	}
}

// wantClause fails unless err is FAILED_PRECONDITION naming clause (and
// rule) in its details.
func wantClause(t *testing.T, err error, clause, rule string) {
	t.Helper()
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("got %v, want FAILED_PRECONDITION for clause %s", err, clause)
	}
	pv, ok := grpcserver.PolicyViolationFrom(err)
	if !ok {
		t.Fatalf("no policy violation in the details of %v", err)
	}
	if pv.Clause != clause || pv.Rule != rule {
		t.Fatalf("details name clause %q rule %q, want clause %q rule %q (%s)", pv.Clause, pv.Rule, clause, rule, pv.Reason)
	}
}

// eventsOf returns the request's events of payload type T.
func eventsOf[T proto.Message](e *env, id string) []T {
	e.t.Helper()
	h, err := e.store.Load(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []T
	for _, ev := range h.Events {
		if p, ok := ev.Payload.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

// replayReactor runs the open-case handler once more over every received
// request, under another durable name, as a redelivery would, and returns
// once it has settled them all.
func replayReactor(t *testing.T, e *env) {
	t.Helper()
	reg, err := policy.DefaultAdequacy()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Config{Policy: domain.DefaultConfig(), Adequacy: reg.IsAdequate}, e.store)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := ports.OpenCaseReactor(a).Start(ctx, e.js, consumer.Config{Name: "assessment-open-case-replay", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	testkit.Eventually(t, "replay consumer settled every event", func() bool {
		info, err := e.js.Consumer(ctx, eventstore.StreamName, "assessment-open-case-replay")
		if err != nil {
			t.Fatal(err)
		}
		ci, err := info.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ci.NumPending == 0 && ci.NumAckPending == 0 && ci.Delivered.Consumer > 0
	})
}
