package app_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/app"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// memStore is the event store's contract in memory: sequences, and a
// conflict when the request moved since the expected sequence.
type memStore struct {
	mu     sync.Mutex
	seq    uint64
	events map[string][]eventstore.Event
}

func newMemStore() *memStore { return &memStore{events: map[string][]eventstore.Event{}} }

func (m *memStore) Load(_ context.Context, id string) (eventstore.History, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := eventstore.History{Events: append([]eventstore.Event(nil), m.events[id]...)}
	if n := len(h.Events); n > 0 {
		h.LastSeq = h.Events[n-1].Sequence
	}
	return h, nil
}

func (m *memStore) Update(ctx context.Context, id string, decide eventstore.Decide) ([]eventstore.Event, error) {
	for {
		h, _ := m.Load(ctx, id)
		evs, err := decide(h)
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		m.mu.Lock()
		cur := m.events[id]
		if n := len(cur); n > 0 && cur[n-1].Sequence != h.LastSeq {
			m.mu.Unlock()
			continue
		}
		for i := range evs {
			m.seq++
			evs[i].Sequence = m.seq
			if evs[i].RequestID == "" {
				evs[i].RequestID = id
			}
			// The store takes Service and Name from the payload's declared
			// subject; so does the fake.
			if k, err := eventstore.KindOfMessage(evs[i].Payload); err == nil && evs[i].Service == "" {
				evs[i].Service, evs[i].Name = k.Service, k.Name
			}
			if evs[i].Time.IsZero() {
				evs[i].Time = time.Unix(0, 0)
			}
			evs[i].Time = evs[i].Time.UTC()
		}
		m.events[id] = append(cur, evs...)
		m.mu.Unlock()
		return evs, nil
	}
}

func (m *memStore) count(id, name string) int {
	h, _ := m.Load(context.Background(), id)
	n := 0
	for _, ev := range h.Events {
		if ev.Service == app.Service && ev.Name == name {
			n++
		}
	}
	return n
}

const (
	alice = "spiffe://ddr.test/staff/alice"
	bob   = "spiffe://ddr.test/staff/bob"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func notAdequateUnlessIE(country string, _ time.Time) (bool, string) {
	if country == "IE" {
		return true, "EEA"
	}
	return false, "not on the list"
}

// richRequest sets every fact the rules read.
func richRequest(id string) *intakev1.RequestReceived {
	return &intakev1.RequestReceived{
		RequestId:      id,
		SubmitTime:     timestamppb.New(t0.Add(-time.Hour)),
		LateForwarding: true,
		Request: &intakev1.DataDisclosureRequest{
			ReceivedAt:    timestamppb.New(t0.Add(-50 * time.Hour)),
			Authority:     &intakev1.Authority{Kind: intakev1.AuthorityKind_AUTHORITY_KIND_NATIONAL_SECURITY, Country: "US"},
			LegalProcess:  &intakev1.LegalProcess{Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_NATIONAL_SECURITY},
			Targets:       []*intakev1.Target{{Ref: "t1", Value: "x"}, {Ref: "t2", Value: "y"}, {Ref: "t3", Value: "z"}},
			ScopeSelector: intakev1.ScopeSelector_SCOPE_SELECTOR_WHOLE_TENANT,
			CustomerId:    "cust-7",
			DataCategories: []intakev1.DataCategory{
				intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER, intakev1.DataCategory_DATA_CATEGORY_CONTENT,
			},
			TimeRange: &intakev1.TimeRange{From: timestamppb.New(t0.AddDate(0, -2, 0)), To: timestamppb.New(t0)},
			Emergency: &intakev1.Emergency{Claimed: true, ImminentRiskOfSeriousHarm: true},
			Gag:       &intakev1.Gag{Present: true, Reference: "NSL-1", ExpiresAt: timestamppb.New(t0.AddDate(1, 0, 0))},
			Deadline:  timestamppb.New(t0.Add(48 * time.Hour)),
		},
	}
}

func policy() domain.Config {
	cfg := domain.DefaultConfig()
	hours := 48
	cfg.Overlays = []domain.Overlay{{
		Name: "us-extra", Jurisdictions: []string{"US"}, CustomerNoticeHours: &hours, ExtraApprovals: 1,
		RequiredFactors: []domain.Factor{domain.FactorValidity}, RequiredCounsel: []domain.CounselKind{domain.CounselOutside},
	}}
	return cfg
}

func newApp(t *testing.T, store app.Store, now func() time.Time) *app.Assessment {
	t.Helper()
	a, err := app.New(app.Config{Policy: policy(), Adequacy: notAdequateUnlessIE, Now: now}, store)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// The record is the truth: a case replayed from the wire events must be the
// case the domain built from the same commands, facts, rules, review and
// decision alike.
func TestCaseFoldsBackFromTheRecordExactly(t *testing.T) {
	ctx := context.Background()
	store := newMemStore()
	a := newApp(t, store, func() time.Time { return t0 })
	rr := richRequest("req-1")
	if err := a.OpenCase(ctx, "ev-1", rr); err != nil {
		t.Fatal(err)
	}
	consulted := t0.Add(-time.Hour)
	must(a.Claim(ctx, alice, "req-1", ""))(t)
	var factors []app.FactorInput
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		factors = append(factors, app.FactorInput{Factor: f, Assessment: "assessed " + f.String()})
	}
	must(a.RecordFactors(ctx, alice, "req-1", factors, "weighed"))(t)
	must(a.RecordCounsel(ctx, alice, "req-1", &assessmentv1.CounselConsultation{
		Kind: assessmentv1.CounselKind_COUNSEL_KIND_OUTSIDE_COUNSEL, Counsel: "Firm LLP", ConsultTime: timestamppb.New(consulted), Summary: "valid",
	}))(t)
	must(a.ConsiderChallenge(ctx, alice, "req-1", true, "considered, not pursued"))(t)
	narrowing := &domain.Narrowing{TargetIDs: []string{"t2"}, DataCategories: []string{"subscriber"}, TimeRange: domain.TimeRange{From: t0.AddDate(0, -1, 0), To: t0}}
	must(a.Decide(ctx, alice, "req-1", domain.Decision{Kind: domain.Disclose, Basis: domain.BasisImminentRisk, Narrowing: narrowing}, 0))(t)
	must(a.Approve(ctx, bob, "req-1", pendingID(t, a)))(t)

	// The same commands on the domain directly.
	facts, _ := app.FactsFromReceived(rr, notAdequateUnlessIE)
	want := &domain.Case{}
	step := func(evs []domain.Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			want.Apply(e)
		}
	}
	step(want.Open(facts, policy(), "", t0))
	step(want.Claim(alice, t0))
	for _, f := range domain.AllFactors() {
		step(want.RecordFactor(f, "assessed "+protoName(f), alice, t0))
	}
	step(want.WeighRights("weighed", alice, t0))
	step(want.RecordCounselNamed(domain.CounselOutside, "Firm LLP", consulted, "valid", alice, t0))
	step(want.ConsiderChallenge(true, "considered, not pursued", alice, t0))
	step(want.Decide(domain.Decision{Kind: domain.Disclose, Basis: domain.BasisImminentRisk, Narrowing: narrowing}, alice, t0))
	step(want.Approve(bob, t0))
	if want.Status() != domain.StatusDecisionPendingApproval {
		t.Fatalf("the overlay's extra approval did not hold the domain case: %s", want.Status())
	}
	must(a.Approve(ctx, "spiffe://ddr.test/staff/carol", "req-1", pendingID(t, a)))(t)
	step(want.Approve("spiffe://ddr.test/staff/carol", t0))

	h, _ := store.Load(ctx, "req-1")
	got, err := app.Fold(h)
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(domain.Decision{}, "ID")}
	for name, pair := range map[string][2]any{
		"status":    {got.Case.Status(), want.Status()},
		"facts":     {got.Case.Facts(), want.Facts()},
		"flags":     {got.Case.Flags(), want.Flags()},
		"rules":     {got.Case.Rules(), want.Rules()},
		"review":    {got.Case.Review(), want.Review()},
		"decided":   {got.Case.Decided(), want.Decided()},
		"reviewDue": {got.Case.ReviewDue(), want.ReviewDue()},
		"assignee":  {got.Case.Assignee(), want.Assignee()},
	} {
		if d := cmp.Diff(pair[1], pair[0], opts); d != "" {
			t.Errorf("%s folded from the record differs (-domain +record):\n%s", name, d)
		}
	}
	if n := store.count("req-1", "decision_approved"); n != 1 {
		t.Errorf("%d DecisionApproved events, want 1: the approval that completes four eyes is in AssessmentDecided", n)
	}
}

func pendingID(t *testing.T, a *app.Assessment) string {
	t.Helper()
	c := must(a.Get(context.Background(), "req-1"))(t)
	if c.GetDecision().GetStatus() != assessmentv1.DecisionStatus_DECISION_STATUS_PENDING_APPROVAL {
		t.Fatalf("no decision pending: %v", c.GetDecision())
	}
	return c.GetDecision().GetDecisionId()
}

func protoName(f domain.Factor) string {
	for v := assessmentv1.Factor_FACTOR_NATURE; v <= assessmentv1.Factor_FACTOR_VALIDITY; v++ {
		if d := factorDomainName(v); d == f {
			return v.String()
		}
	}
	return ""
}

func factorDomainName(v assessmentv1.Factor) domain.Factor {
	return map[assessmentv1.Factor]domain.Factor{
		assessmentv1.Factor_FACTOR_NATURE: domain.FactorNature, assessmentv1.Factor_FACTOR_CONTEXT: domain.FactorContext,
		assessmentv1.Factor_FACTOR_PURPOSES: domain.FactorPurposes, assessmentv1.Factor_FACTOR_SCOPE: domain.FactorScope,
		assessmentv1.Factor_FACTOR_URGENCY: domain.FactorUrgency, assessmentv1.Factor_FACTOR_VALIDITY: domain.FactorValidity,
	}[v]
}

func TestConcurrentOpenCaseOpensOneCase(t *testing.T) {
	store := newMemStore()
	a := newApp(t, store, func() time.Time { return t0 })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := a.OpenCase(context.Background(), "ev-1", richRequest("req-1")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := store.count("req-1", "opened"); n != 1 {
		t.Fatalf("%d CaseOpened events, want 1", n)
	}
}

func TestWithdrawnBeforeOpeningGetsNoCase(t *testing.T) {
	ctx := context.Background()
	store := newMemStore()
	a := newApp(t, store, func() time.Time { return t0 })
	_, _ = store.Update(ctx, "req-1", func(eventstore.History) ([]eventstore.Event, error) {
		return []eventstore.Event{{Service: "intake", Name: "withdrawn", Payload: &intakev1.RequestWithdrawn{RequestId: "req-1", WithdrawTime: timestamppb.New(t0)}}}, nil
	})
	if err := a.OpenCase(ctx, "ev-1", richRequest("req-1")); err != nil {
		t.Fatal(err)
	}
	if n := store.count("req-1", "opened"); n != 0 {
		t.Fatalf("a withdrawn request got a case (%d CaseOpened)", n)
	}
}

func TestOverdueRecordedOnceAndCounted(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(func() { otel.SetMeterProvider(prev) })

	ctx := context.Background()
	store := newMemStore()
	now := t0
	a := newApp(t, store, func() time.Time { return now })
	if err := a.OpenCase(ctx, "ev-1", richRequest("req-1")); err != nil {
		t.Fatal(err)
	}
	if marked := must(a.MarkOverdue(ctx, "req-1"))(t); marked {
		t.Fatal("marked overdue before its deadline")
	}
	now = t0.Add(2 * time.Hour) // the emergency deadline is one hour
	for i := range 3 {
		marked := must(a.MarkOverdue(ctx, "req-1"))(t)
		if marked != (i == 0) {
			t.Fatalf("round %d: marked=%v, want only the first round to mark", i, marked)
		}
	}
	if n := store.count("req-1", "overdue"); n != 1 {
		t.Fatalf("%d CaseOverdue events, want 1", n)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "ddr.assessment.cases_overdue" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				total += dp.Value
				for _, kv := range dp.Attributes.ToSlice() {
					if kv.Key != "ddr.urgent" {
						t.Errorf("metric carries attribute %s; only non-personal attributes are allowed", kv.Key)
					}
				}
			}
		}
	}
	if total != 1 {
		t.Fatalf("cases_overdue counted %d, want 1", total)
	}
}

func TestLoadOverlaysRefusesLooseningOne(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/a.json", `[{"name":"de","jurisdictions":["DE"],"extra_approvals":1}]`)
	write(t, dir+"/b.json", `{"name":"fr","jurisdictions":["FR"],"standard_review_business_days":5}`)
	_, err := app.LoadOverlays(dir, domain.DefaultConfig())
	var pv *ddrerr.PolicyViolation
	if !errors.As(err, &pv) || pv.Clause != "1.2" || pv.Rule != domain.RuleOverlayLoosens {
		t.Fatalf("got %v, want a clause 1.2 refusal", err)
	}
	write(t, dir+"/b.json", `{"name":"fr","jurisdictions":["FR"],"standard_review_business_days":1}`)
	overlays := must(app.LoadOverlays(dir, domain.DefaultConfig()))(t)
	if len(overlays) != 2 {
		t.Fatalf("loaded %d overlays, want 2", len(overlays))
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
