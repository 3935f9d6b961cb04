package app_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// benchRequests is how many requests BenchmarkIndexHeapPerRequest folds
// into one index: enough that the map's growth and the GC's noise are
// small beside what each plan holds.
const benchRequests = 10_000

// BenchmarkIndexHeapPerRequest measures what the plan index holds per
// request (issue 19): the live heap, after a collection, of an index that
// folded benchRequests requests, each the events one real request made
// (a decision to disclose with two controller customers, a DPA packet sent
// by hand under the two-person rule), copied under new
// ids as the stream would deliver them. heap-B/req is the figure; ns/op
// is the fold of all of them.
//
//	go test -run '^$' -bench IndexHeapPerRequest -benchtime 3x ./app/
func BenchmarkIndexHeapPerRequest(b *testing.B) {
	template := benchTemplate(b)
	for b.Loop() {
		before := liveHeap()
		idx := app.NewIndex(nil, nil)
		_, apply := idx.Projection()
		for i := range benchRequests {
			id := fmt.Sprintf("req-bench-%06d", i)
			for _, ev := range template {
				// A fresh payload per event, as the projection decodes
				// each message anew: what the index keeps is its own.
				ev.RequestID, ev.ID, ev.Payload = id, id+"-"+ev.ID, proto.Clone(ev.Payload)
				if err := apply(ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		after := liveHeap()
		runtime.KeepAlive(idx)
		b.ReportMetric(float64(after-before)/benchRequests, "heap-B/req")
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// benchApp is notification's app over a fresh embedded JetStream, with
// a test clock: what the benchmarks make their template histories with.
func benchApp(b *testing.B) (*eventstore.Store, *testkit.Clock, *app.Notification) {
	b.Helper()
	n := natstest.Start(b)
	if err := eventstore.EnsureStreams(context.Background(), n.JS, eventstore.StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	store := eventstore.NewStore(n.JS)
	clock := testkit.NewClock(t0)
	na, err := app.New(app.Config{DPAs: contacts("").DomainConfig(), Now: clock.Now}, store)
	if err != nil {
		b.Fatal(err)
	}
	return store, clock, na
}

// benchTemplate makes one request's history with the real commands and
// returns the events of it the index folds.
func benchTemplate(b *testing.B) []eventstore.Event {
	b.Helper()
	ctx := context.Background()
	store, clock, na := benchApp(b)
	const id = "req-template"
	customers := []*intakev1.Customer{
		{CustomerId: "cust-0001-acme-retail-eu", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "IE"},
		{CustomerId: "cust-0002-acme-logistics", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "FR"},
	}
	received, decision := demandWithCustomers(id, "CN", targetValue, customers)
	d := writeDemand(b, ctx, store, received, decision)
	if err := na.Derive(ctx, app.DecodeDecided(d, d.Payload.(*assessmentv1.AssessmentDecided))); err != nil {
		b.Fatal(err)
	}
	prop, err := na.ProposeManualDispatch(ctx, staff, id, domain.ManualDispatch{
		Authority: "CNIL", Means: domain.DispatchPortal, Reference: "PORTAL-CNIL-2026-0117", SentAt: clock.Now()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := na.ConfirmLift(ctx, legal, id, prop.LiftID); err != nil {
		b.Fatal(err)
	}
	h, err := store.Load(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	// The whole history: the index's own dispatch ignores, as the
	// projection's filters would, what it does not fold.
	for _, ev := range h.Events {
		b.Logf("template event %d: %s", ev.Sequence, ev.Type)
	}
	return h.Events
}
