package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// sweepLive is how many plans with work still open sit beside the settled
// ones in BenchmarkSweep: the open work, which does not grow with the
// record.
const sweepLive = 200

// BenchmarkSweep measures what the delivery worker and the staff's hold
// listing read every few seconds (issue 19: the record only grows, the
// open work does not): the sweep's two selections (deliveries or a
// clearance due; owed notices overdue), the hold listing and the overdue
// gauge, over an index holding sweepLive open plans (the events one real
// request made: a disclose decision with two controller customers, on
// hold, a DPA packet sent by hand) beside 1,000 or 100,000 settled ones
// (a rejection, an agreed redirect, a withdrawal: plans that owe nothing
// more without a new event).
//
//	go test -run '^$' -bench Sweep -benchtime 20x ./app/
func BenchmarkSweep(b *testing.B) {
	live := benchTemplate(b)
	settled := settledTemplates(b)
	for _, n := range []int{1_000, 100_000} {
		idx := app.NewIndex(nil, nil)
		_, apply := idx.Projection()
		fold := func(id string, evs []eventstore.Event) {
			for _, ev := range evs {
				ev.RequestID, ev.ID, ev.Payload = id, id+"-"+ev.ID, proto.Clone(ev.Payload)
				if err := apply(ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		for i := range n {
			fold(fmt.Sprintf("req-settled-%06d", i), settled[i%len(settled)])
		}
		for i := range sweepLive {
			fold(fmt.Sprintf("req-live-%06d", i), live)
		}
		d := app.NewDeliverer(nil, idx, app.DeliveryConfig{Contacts: contacts(""), Email: noSend{}})
		now := t0.Add(time.Hour)
		b.Run(fmt.Sprintf("settled=%d/sweep", n), func(b *testing.B) {
			for b.Loop() {
				due, late := d.SweepSelections(now)
				if len(due) != sweepLive || len(late) != 0 {
					b.Fatalf("due %d, late %d: want %d and 0", len(due), len(late), sweepLive)
				}
			}
		})
		b.Run(fmt.Sprintf("settled=%d/holds", n), func(b *testing.B) {
			for b.Loop() {
				if hs, _ := idx.Holds(now, "", 50); len(hs) != 50 {
					b.Fatalf("%d holds on the first page", len(hs))
				}
			}
		})
		b.Run(fmt.Sprintf("settled=%d/holds-all", n), func(b *testing.B) {
			for b.Loop() {
				if hs, _ := idx.Holds(now, "", math.MaxInt32); len(hs) != sweepLive {
					b.Fatalf("%d holds", len(hs))
				}
			}
		})
		b.Run(fmt.Sprintf("settled=%d/overdue-gauge", n), func(b *testing.B) {
			for b.Loop() {
				idx.OverdueNotices(now)
			}
		})
	}
}

// BenchmarkSweepNoticeDone is BenchmarkSweep's sweep with, beside the
// open plans, 10,000 plans whose work is all done and whose customer
// notice was delivered. The domain keeps them among the plans that may
// owe work (domain.Plan.MayOweWork: another contact address of the
// customer may be owed the notice); the index leaves them out once the
// worker found the notice delivered to every address its contacts give.
//
//	go test -run '^$' -bench SweepNoticeDone -benchtime 20x ./app/
func BenchmarkSweepNoticeDone(b *testing.B) {
	live := benchTemplate(b)
	done := noticeDoneTemplate(b)
	idx := app.NewIndex(nil, nil)
	_, apply := idx.Projection()
	fold := func(id string, evs []eventstore.Event) {
		for _, ev := range evs {
			ev.RequestID, ev.ID, ev.Payload = id, id+"-"+ev.ID, proto.Clone(ev.Payload)
			if nd, ok := ev.Payload.(*notificationv1.NoticeDelivered); ok {
				// A delivery id names its request: the copy's, as the
				// worker would have recorded it for this request.
				steps := map[notificationv1.StepKind]domain.StepKind{
					notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER: domain.StepNotifyCustomer,
					notificationv1.StepKind_STEP_KIND_NOTIFY_DPA:      domain.StepNotifyDPA,
				}
				k, known := steps[nd.GetDelivery().GetStep()]
				if !known {
					b.Fatalf("a delivery of step %v in the template", nd.GetDelivery().GetStep())
				}
				nd.Delivery.DeliveryId = domain.DeliveryID(id, k, nd.GetDelivery().GetRecipient())
			}
			if err := apply(ev); err != nil {
				b.Fatal(err)
			}
		}
	}
	const n = 10_000
	for i := range n {
		fold(fmt.Sprintf("req-done-%06d", i), done)
	}
	for i := range sweepLive {
		fold(fmt.Sprintf("req-live-%06d", i), live)
	}
	d := app.NewDeliverer(nil, idx, app.DeliveryConfig{Contacts: contacts(""), Email: noSend{}})
	now := t0.Add(time.Hour)
	for b.Loop() {
		if due, _ := d.SweepSelections(now); len(due) != sweepLive {
			b.Fatalf("due %d: want %d", len(due), sweepLive)
		}
	}
}

// noticeDoneTemplate makes, with the real commands and a worker whose
// e-mail is always accepted, the history of a disclose decision whose
// notice and packets went out and which was cleared.
func noticeDoneTemplate(b *testing.B) []eventstore.Event {
	b.Helper()
	ctx := context.Background()
	store, clock, na := benchApp(b)
	const id = "req-done"
	received, decision := demandWithCustomers(id, "DE", targetValue, []*intakev1.Customer{{CustomerId: customerID, Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "IE"}})
	dd := writeDemand(b, ctx, store, received, decision)
	if err := na.Derive(ctx, app.DecodeDecided(dd, dd.Payload.(*assessmentv1.AssessmentDecided))); err != nil {
		b.Fatal(err)
	}
	if _, err := na.RecordRedirectOutcome(ctx, staff, id, domain.RedirectDeclined, ""); err != nil {
		b.Fatal(err)
	}
	d := app.NewDeliverer(na, app.NewIndex(nil, nil), app.DeliveryConfig{Contacts: contacts(""), Email: acceptAll{}, Logger: slog.New(slog.DiscardHandler)})
	if err := d.Deliver(ctx, id); err != nil {
		b.Fatal(err)
	}
	v, err := na.GetPlan(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range v.Plan.PacketRecipients() {
		prop, err := na.ProposeManualDispatch(ctx, staff, id, domain.ManualDispatch{Authority: a, Means: domain.DispatchPortal, Reference: "PORTAL-" + a, SentAt: clock.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := na.ConfirmLift(ctx, legal, id, prop.LiftID); err != nil {
			b.Fatal(err)
		}
	}
	if v, err = na.GetPlan(ctx, id); err != nil {
		b.Fatal(err)
	}
	if !v.Plan.Cleared() || !v.Plan.MayOweWork() || len(v.Plan.NoticeRecipients(clock.Now())) == 0 {
		b.Fatalf("the template is not a cleared plan whose notice went out: cleared %v, steps %+v", v.Plan.Cleared(), v.Plan.Steps())
	}
	h, err := store.Load(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	return h.Events
}

// acceptAll is an e-mail channel that accepts every message.
type acceptAll struct{}

func (acceptAll) SendEmail(context.Context, app.Message) (string, error) { return "250 accepted", nil }

// noSend is an e-mail channel the benchmark never sends on: with it the
// deliverer lists the e-mail deliveries a plan owes, as in service.
type noSend struct{}

func (noSend) SendEmail(context.Context, app.Message) (string, error) {
	return "", fmt.Errorf("the benchmark sends nothing")
}

// settledTemplates makes, with the real commands, the histories of three
// requests that owe nothing more: a rejection, a disclosure the authority
// agreed to take to the customer, and a request withdrawn before its
// disclosure.
func settledTemplates(b *testing.B) [][]eventstore.Event {
	b.Helper()
	ctx := context.Background()
	store, _, na := benchApp(b)
	customers := []*intakev1.Customer{{CustomerId: customerID, Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "IE"}}
	derive := func(id string, kind assessmentv1.DecisionKind) {
		received, decision := demandWithCustomers(id, "DE", targetValue, customers)
		decision.Decision.Kind = kind
		d := writeDemand(b, ctx, store, received, decision)
		if err := na.Derive(ctx, app.DecodeDecided(d, d.Payload.(*assessmentv1.AssessmentDecided))); err != nil {
			b.Fatal(err)
		}
	}
	derive("req-rejected", assessmentv1.DecisionKind_DECISION_KIND_REJECT)
	derive("req-redirected", assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE)
	if _, err := na.RecordRedirectOutcome(ctx, staff, "req-redirected", domain.RedirectAgreed, "sent the customer the authority's contact"); err != nil {
		b.Fatal(err)
	}
	derive("req-withdrawn", assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE)
	h, err := store.Load(ctx, "req-withdrawn")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Append(ctx, "req-withdrawn", h.LastSeq, eventstore.Event{Service: "intake", Name: "withdrawn", Time: t0,
		Payload: &intakev1.RequestWithdrawn{RequestId: "req-withdrawn", WithdrawTime: timestamppb.New(t0)}}); err != nil {
		b.Fatal(err)
	}
	var out [][]eventstore.Event
	for _, id := range []string{"req-rejected", "req-redirected", "req-withdrawn"} {
		h, err := store.Load(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, h.Events)
	}
	return out
}
