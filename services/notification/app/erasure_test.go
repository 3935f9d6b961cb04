package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/seal"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// subjectCanary starts every SUBJECT value the erasure test records, so
// that an answer is searched for them without naming the fields.
const subjectCanary = "cnrysubj"

// notificationAnswers is what a notification process answers about a
// request: its index's plan (what the delivery worker works from), the
// standing holds (ListHolds) and GetPlan.
type notificationAnswers struct {
	Index   *notificationv1.Plan
	Holds   []domain.OpenHold
	GetPlan *notificationv1.Plan
}

func (a notificationAnswers) text() string {
	var b strings.Builder
	for _, m := range []proto.Message{a.Index, a.GetPlan} {
		b.WriteString(prototext.Format(m))
	}
	for _, h := range a.Holds {
		b.WriteString(h.RequestID + " " + string(h.Country) + " " + h.WaitingFor + "\n")
	}
	return b.String()
}

// subjectLeft reports whether any SUBJECT-marked field is set in the
// plans answered (found from the marks, on copies).
func subjectLeft(a notificationAnswers) bool {
	left := false
	for _, m := range []proto.Message{a.Index, a.GetPlan} {
		left = seal.Forget(proto.Clone(m), keys.Subject) || left
	}
	return left
}

// erasureEnv is a notification process on a stream whose personal data is
// sealed with the request keys, as in production.
type erasureEnv struct {
	t     *testing.T
	ctx   context.Context // carries the opener, as the runner's does
	js    *natstest.Env
	store *eventstore.Store
	keys  *keys.Keyring
	clock *testkit.Clock
}

func newErasureEnv(t *testing.T) *erasureEnv {
	t.Helper()
	n := natstest.Start(t)
	if err := eventstore.EnsureStreams(t.Context(), n.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	kr := testkit.Keyring(t, n.JS)
	s := seal.New(kr)
	return &erasureEnv{t: t, ctx: eventstore.WithOpener(t.Context(), s), js: n,
		store: eventstore.NewStore(n.JS, eventstore.WithSealer(s)), keys: kr, clock: testkit.NewClock(t0)}
}

// proc is one notification process: its long-lived index, folded by a
// projection as the service's, and its app for GetPlan.
type proc struct {
	idx  *app.Index
	proj *projection.Projection
	n    *app.Notification
}

func (e *erasureEnv) start() proc {
	e.t.Helper()
	n, err := app.New(app.Config{DPAs: contacts("").DomainConfig(), Now: e.clock.Now}, e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	idx := app.NewIndex(e.store, nil)
	filters, apply := idx.Projection()
	ctx, cancel := context.WithCancel(e.ctx)
	p, err := projection.Start(ctx, e.js.JS, filters, apply, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { cancel(); p.Stop() })
	return proc{idx: idx, proj: p, n: n}
}

func (e *erasureEnv) answers(p proc, id string, seq uint64) notificationAnswers {
	e.t.Helper()
	if err := p.proj.WaitFor(e.ctx, seq); err != nil {
		e.t.Fatal(err)
	}
	var a notificationAnswers
	var ok bool
	if a.Index, ok = p.idx.PlanOf(id, e.clock.Now()); !ok {
		e.t.Fatalf("the index has no plan of %s", id)
	}
	a.Holds, _ = p.idx.Holds(e.clock.Now(), "", 100)
	v, err := p.n.GetPlan(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	a.GetPlan = app.EncodePlan(v)
	return a
}

// derived has a running notification derive the plan of
// decidedWithCustomers, and returns it with the request's history as
// written (opened: the key is still there).
func (e *erasureEnv) derived(id string) (proc, eventstore.History) {
	e.t.Helper()
	live := e.start()
	if err := live.n.Derive(e.ctx, e.decidedWithCustomers(id)); err != nil {
		e.t.Fatal(err)
	}
	opened, err := e.store.Load(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return live, opened
}

// proposeDispatch has p propose a manual dispatch to the DPA (a plan
// event: the stream moves on), and returns the request's history after it.
func (e *erasureEnv) proposeDispatch(p proc, id string) eventstore.History {
	e.t.Helper()
	if _, err := p.n.ProposeManualDispatch(e.ctx, staff, id, domain.ManualDispatch{
		Authority: "CNIL", Means: domain.DispatchPortal, Reference: "PORTAL-CNIL", SentAt: e.clock.Now()}); err != nil {
		e.t.Fatal(err)
	}
	h, err := e.store.Load(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// erase erases the request's targets as intake does: the key first, then
// the record (TargetsErased).
func (e *erasureEnv) erase(id string) {
	e.t.Helper()
	if err := e.keys.Erase(e.ctx, id); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, id, e.last(id), eventstore.Event{ID: "erased-" + id, RequestID: id,
		Payload: &intakev1.TargetsErased{RequestId: id, Reason: "retention", EraseTime: timestamppb.New(t0)}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *erasureEnv) last(id string) uint64 {
	e.t.Helper()
	h, err := e.store.Load(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return h.LastSeq
}

// recordJustification is a RECORD value of the erasure tests' decision.
const recordJustification = "reviewer: the authority's account of the risk is corroborated"

// canaryCustomer is the SUBJECT-sealed customer id n of the erasure tests.
func canaryCustomer(n string) string { return subjectCanary + "-customer-" + n }

// decidedWithCustomers writes, as intake and assessment would, a demand
// about two controller customers and a decision to disclose on imminent
// risk (SUBJECT values: the customer ids, the imminent-risk basis), and
// returns the decision as the plan reactor hands it to Derive.
func (e *erasureEnv) decidedWithCustomers(id string) app.Decided {
	e.t.Helper()
	received, decision := demandWithCustomers(id, "CN", subjectCanary+"-target@subject.example", []*intakev1.Customer{
		{CustomerId: canaryCustomer("1"), Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "IE"},
		{CustomerId: canaryCustomer("2"), Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "FR"},
	})
	decision.Decision.LegalBasis = assessmentv1.LegalBasis_LEGAL_BASIS_IMMINENT_RISK_OF_SERIOUS_HARM
	r := decision.GetRequirements()
	r.ImminentRisk, r.ImminentRiskClaimed = true, true
	// RECORD: kept through the SUBJECT erasure, and opened by whatever
	// folds the plan again.
	r.ImminentRiskJustification = recordJustification
	return decided(e.t, writeDemand(e.t, e.ctx, e.store, received, decision))
}

// notices returns the plan's customer notice steps.
func notices(p *notificationv1.Plan) []*notificationv1.Step {
	var out []*notificationv1.Step
	for _, s := range p.GetSteps() {
		if s.GetKind() == notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER {
			out = append(out, s)
		}
	}
	return out
}

// Issue 14 (shredding that holds): notification's plan index lives as long
// as the process and folded the plans' SUBJECT values opened (PlanDerived's
// customer ids and imminent-risk basis). Once intake destroys the request's
// SUBJECT key and records TargetsErased, the running notification must
// answer exactly as a freshly started one on the same stream, which can no
// longer open them: the index's plan (what the delivery worker works from),
// ListHolds and GetPlan equal, and no SUBJECT value in any.
//
// The customer notices still pending at the erasure: a restart folds the
// plan with the customer ids empty, so it has no controller customer left
// and no notice owed to one; the running process now does the same, and
// neither can address a notice (no customer id to find contacts by).
func TestIssue14_ThePlanIndexForgetsTheCustomersOnceTheTargetsAreErased(t *testing.T) {
	e := newErasureEnv(t)
	const id = "req-erase"
	cust := canaryCustomer
	live := e.start()
	if err := live.n.Derive(e.ctx, e.decidedWithCustomers(id)); err != nil {
		t.Fatal(err)
	}
	before := e.answers(live, id, e.last(id))
	if len(before.Holds) != 1 || !strings.Contains(before.text(), cust("2")) {
		t.Fatalf("before the erasure the plan is not held or does not name its customers:\n%s", before.text())
	}
	if before.Index.GetInputs().GetImminentRiskBasis() == "" || !subjectLeft(before) {
		t.Fatalf("before the erasure the plan holds no imminent-risk basis or no SUBJECT value: %v", before.Index.GetInputs())
	}
	if n := notices(before.Index); len(n) != 2 || n[0].GetStatus() != notificationv1.StepStatus_STEP_STATUS_REQUIRED {
		t.Fatalf("before the erasure the customer notices are not pending: %v", n)
	}

	e.erase(id)
	// A plan event after the erasure: folded as a restart reads it, and
	// the point both indexes are waited for (one that ignores the erasure
	// would otherwise never reach its sequence).
	seq := e.proposeDispatch(live, id).LastSeq
	after := e.answers(live, id, seq)
	fresh := e.answers(e.start(), id, seq)
	if d := cmp.Diff(fresh, after, protocmp.Transform()); d != "" {
		t.Errorf("the running notification answers otherwise than a fresh one after the erasure (-fresh +running):\n%s", d)
	}
	if strings.Contains(after.text(), subjectCanary) || subjectLeft(after) {
		t.Errorf("a SUBJECT value is still in the running notification's answers after the erasure:\n%s", after.text())
	}
	if len(after.Holds) != 1 {
		t.Errorf("the erasure took the hold: %v", after.Holds)
	}
	// What a restart makes of the pending notices, and the running
	// process now too: with the customer ids empty the plan finds no
	// controller customer, so the two notices owed give way to the one
	// step of a request without one, skipped as not controller. No notice
	// is owed to anyone, so none can carry the request's details to a
	// customer the plan can no longer name. (The basis it gives is not the
	// true one: see the report of issue 14's branch h/notiferase.)
	n := notices(after.Index)
	if len(n) != 1 || n[0].GetStatus() != notificationv1.StepStatus_STEP_STATUS_SKIPPED || n[0].GetSkipReason() != string(domain.SkipCustomerNotController) {
		t.Errorf("after the erasure the customer notices are %v", n)
	}
}

// feed hands the index the events by hand, as its projection would: the
// tests below hold it behind the stream.
func feed(t *testing.T, idx *app.Index, evs ...eventstore.Event) {
	t.Helper()
	_, apply := idx.Projection()
	for _, ev := range evs {
		if err := apply(ev); err != nil {
			t.Fatalf("apply %s at %d: %v", ev.Type, ev.Sequence, err)
		}
		if err := idx.CheckSets(); err != nil {
			t.Fatalf("after %s at %d: %v", ev.Type, ev.Sequence, err)
		}
	}
}

// eventOf returns the request's event of type T, the last if several.
func eventOf[T proto.Message](t *testing.T, h eventstore.History) eventstore.Event {
	t.Helper()
	for i := len(h.Events) - 1; i >= 0; i-- {
		if _, ok := h.Events[i].Payload.(T); ok {
			return h.Events[i]
		}
	}
	t.Fatalf("no %T in the history", *new(T))
	return eventstore.Event{}
}

// Issue 14, as issue 19 builds it: the index keeps no events, and at
// TargetsErased folds the one plan again from the stream. Its projection
// may be behind the stream: the refold takes the history up to the
// erasure only, and the events after it are folded as they arrive, with
// their SUBJECT fields forgotten, so that at each point the running index
// holds the plan a notification started at that point folds.
func TestIssue14_AnIndexBehindTheStreamFoldsTheErasedPlanAsARestartAtEachPoint(t *testing.T) {
	e := newErasureEnv(t)
	const id = "req-behind"
	live, opened := e.derived(id)
	idx := app.NewIndex(e.store, nil)
	feed(t, idx, opened.Events...)
	if p, ok := idx.PlanOf(id, e.clock.Now()); !ok || !subjectLeft(notificationAnswers{Index: p}) {
		t.Fatalf("before the erasure the index holds no plan with SUBJECT values: %v", p)
	}

	e.erase(id)
	atErasure := e.answers(e.start(), id, e.last(id)).Index
	// The stream moves on before the index reaches the erasure.
	h := e.proposeDispatch(live, id)
	atEnd := e.answers(e.start(), id, h.LastSeq).Index
	if cmp.Diff(atErasure, atEnd, protocmp.Transform()) == "" {
		t.Fatal("the proposal after the erasure changes nothing in the plan: the test cannot tell a refold that reads past the erasure")
	}

	feed(t, idx, eventOf[*intakev1.TargetsErased](t, h))
	got, _ := idx.PlanOf(id, e.clock.Now())
	if d := cmp.Diff(atErasure, got, protocmp.Transform()); d != "" {
		t.Errorf("at the erasure the index holds otherwise than a notification started then (-started +index):\n%s", d)
	}
	if j := got.GetInputs().GetImminentRiskJustification(); j != recordJustification {
		t.Errorf("the plan folded again lost its RECORD value: imminent-risk justification %q, want %q", j, recordJustification)
	}
	feed(t, idx, eventOf[*notificationv1.ManualDispatchProposed](t, h))
	got, _ = idx.PlanOf(id, e.clock.Now())
	if d := cmp.Diff(atEnd, got, protocmp.Transform()); d != "" {
		t.Errorf("after the next event the index holds otherwise than a notification started then (-started +index):\n%s", d)
	}

	// An event after the erasure that still carries SUBJECT values, as one
	// opened before the key went would: a derivation again, read before
	// the erasure. It is folded forgotten.
	late := eventOf[*notificationv1.PlanDerived](t, opened)
	late.Sequence = h.LastSeq + 1
	feed(t, idx, late)
	got, _ = idx.PlanOf(id, e.clock.Now())
	if a := (notificationAnswers{Index: got}); subjectLeft(a) || strings.Contains(a.text(), subjectCanary) {
		t.Errorf("an event after the erasure brought SUBJECT values back into the index:\n%s", a.text())
	}
}

// A refold that cannot read the history (here: a stream that is not
// there) drops the plan rather than keep the values the erasure took, and
// the request's later events do not bring it back half folded.
func TestIssue14_AnErasureWhoseHistoryCannotBeReadDropsThePlan(t *testing.T) {
	e := newErasureEnv(t)
	const id = "req-unreadable"
	live, opened := e.derived(id)
	nowhere := natstest.Start(t) // no stream: every read of it fails
	idx := app.NewIndex(eventstore.NewStore(nowhere.JS), nil)
	feed(t, idx, opened.Events...)
	if _, ok := idx.PlanOf(id, e.clock.Now()); !ok {
		t.Fatal("before the erasure the index holds no plan")
	}
	e.erase(id)
	h := e.proposeDispatch(live, id)
	_, apply := idx.Projection()
	for _, ev := range []eventstore.Event{eventOf[*intakev1.TargetsErased](t, h), eventOf[*notificationv1.ManualDispatchProposed](t, h)} {
		if err := apply(ev); err == nil {
			t.Errorf("%s applied without error though the plan could not be folded again", ev.Type)
		}
		if p, ok := idx.PlanOf(id, e.clock.Now()); ok {
			t.Errorf("after %s the index still holds a plan: %v", ev.Type, p)
		}
		if holds, _ := idx.Holds(e.clock.Now(), "", 100); len(holds) != 0 {
			t.Errorf("after %s the index still lists a hold: %v", ev.Type, holds)
		}
		if live := idx.Live(); len(live) != 0 {
			t.Errorf("after %s the index still counts the plan as live: %v", ev.Type, live)
		}
		if err := idx.CheckSets(); err != nil {
			t.Errorf("after %s: %v", ev.Type, err)
		}
	}
}

// Issue 19 (start-up bounded): an index rebuilt after the erasure folds
// the request's events opened without the key, so its plan holds nothing
// the erasure takes, and TargetsErased reads nothing from the stream: a
// start over years of erased requests costs no read per request. The
// index here cannot read any history; it keeps the plan all the same.
func TestIssue19_AnIndexRebuiltAfterTheErasureReadsNoHistory(t *testing.T) {
	e := newErasureEnv(t)
	const id = "req-rebuilt"
	if err := e.start().n.Derive(e.ctx, e.decidedWithCustomers(id)); err != nil {
		t.Fatal(err)
	}
	e.erase(id)
	h, err := e.store.Load(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	nowhere := natstest.Start(t) // no stream: a read of it fails
	idx := app.NewIndex(eventstore.NewStore(nowhere.JS), nil)
	feed(t, idx, h.Events...)
	got, ok := idx.PlanOf(id, e.clock.Now())
	if !ok {
		t.Fatal("the index rebuilt after the erasure holds no plan")
	}
	want := e.answers(e.start(), id, h.LastSeq).Index
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Errorf("the index rebuilt after the erasure holds otherwise than a started notification (-started +index):\n%s", d)
	}
}
