package app_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/adapters"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/notification/internal/smtptest"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	staff       = "spiffe://ddr.local/staff/priya"
	customerID  = "cust-42"
	custEmail   = "legal@cust.example"
	dpaEmail    = "consult@dpc.example"
	targetValue = "alice@subject.example" // personal data: only the customer notice may carry it
)

type env struct {
	t     *testing.T
	ctx   context.Context
	env   *natstest.Env
	store *eventstore.Store
	clock *testkit.Clock
	n     *app.Notification
	logs  *testkit.LogBuffer
	log   *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, ctx: t.Context(), env: natstest.Start(t), clock: testkit.NewClock(t0), logs: &testkit.LogBuffer{}}
	if err := eventstore.EnsureStreams(e.ctx, e.env.JS, eventstore.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	e.log = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.store = eventstore.NewStore(e.env.JS, eventstore.WithLogger(e.log))
	n, err := app.New(app.Config{DPAs: contacts("").DomainConfig(), Now: e.clock.Now, Logger: e.log}, e.store)
	if err != nil {
		t.Fatal(err)
	}
	e.n = n
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), targetValue) {
			t.Errorf("a target identifier reached the logs")
		}
	})
	return e
}

// projectedIndex is a plan index the stream feeds, as the service runs
// it, and its projection (to wait for), stopped with the test.
func (e *env) projectedIndex() (*app.Index, *projection.Projection) {
	e.t.Helper()
	idx := app.NewIndex(e.store, nil)
	filters, apply := idx.Projection()
	proj, err := projection.Start(e.ctx, e.env.JS, filters, apply, e.log)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(proj.Stop)
	return idx, proj
}

func contacts(hookURL string) app.Contacts {
	c := app.Contacts{
		From:         "privacy@corp.example",
		ReplyContact: "privacy@corp.example",
		Customers:    map[string]app.Endpoints{customerID: {Emails: []string{custEmail}}},
		LeadDPA:      app.DPA{Name: "DPC-IE", Endpoints: app.Endpoints{Emails: []string{dpaEmail}}},
		OtherDPAs:    []app.DPA{{Name: "CNIL"}},
	}
	if hookURL != "" {
		c.Customers[customerID] = app.Endpoints{Emails: []string{custEmail}, Webhooks: []app.Webhook{{URL: hookURL, Secret: "s3cret"}}}
	}
	return c
}

// deliverer builds a delivery worker on the env with its own lease holder,
// as a separate instance of the service would have.
func (e *env) deliverer(c app.Contacts, smtpAddr string, owner string, idx *app.Index) *app.Deliverer {
	e.t.Helper()
	leases, err := adapters.EnsureLeases(e.ctx, e.env.JS, 1, time.Minute, owner)
	if err != nil {
		e.t.Fatal(err)
	}
	if idx == nil {
		idx = app.NewIndex(e.store, nil)
	}
	_, roots := devTLS()
	return app.NewDeliverer(e.n, idx, app.DeliveryConfig{
		Contacts:  c,
		Email:     &adapters.SMTP{Addr: smtpAddr, TLSMode: app.SMTPTLSStartTLS, RootCAs: roots, Now: e.clock.Now},
		Webhook:   &adapters.Webhooks{RootCAs: roots, Now: e.clock.Now},
		Leases:    leases,
		RetryBase: time.Minute,
		RetryMax:  10 * time.Minute,
		Logger:    e.log,
	})
}

type request struct {
	id       string
	country  string
	decision assessmentv1.DecisionKind
	gag      *assessmentv1.Prohibition
}

// demandWithCustomers is a demand from an authority of country about
// target and the customers (controllers: notification owes them the
// redirect ask and the notice), and the decision to disclose it under a
// compelling legal obligation, as intake and assessment record them. The
// erasure tests and the index benchmark vary the decision from here.
func demandWithCustomers(id, country, target string, customers []*intakev1.Customer) (*intakev1.RequestReceived, *assessmentv1.AssessmentDecided) {
	received := &intakev1.RequestReceived{
		RequestId:   id,
		GroupMember: "spiffe://ddr.local/group-member/acme-eu",
		Request: &intakev1.DataDisclosureRequest{
			ReceivedAt:     timestamppb.New(t0.Add(-time.Hour)),
			Channel:        intakev1.Channel_CHANNEL_EMAIL,
			Authority:      &intakev1.Authority{Name: "Example Public Security Bureau", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: country},
			Targets:        []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Value: target, Ref: "t1"}},
			Customers:      customers,
			DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
		},
		SubmitTime: timestamppb.New(t0.Add(-time.Hour)),
	}
	decision := &assessmentv1.AssessmentDecided{
		RequestId: id,
		Decision: &assessmentv1.Decision{
			DecisionId: "dec-" + id, Kind: assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION,
			Status:     assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE,
		},
		Requirements: &assessmentv1.NotificationRequirements{
			CustomerIsController: true,
			Customers:            customers,
			AuthorityCountry:     country,
			ReceiveTime:          timestamppb.New(t0.Add(-time.Hour)),
		},
	}
	return received, decision
}

// writeDemand appends the demand and its decision to the request's
// history, as intake and assessment would, and returns the decision as
// the store reads it back (sealed fields opened).
func writeDemand(tb testing.TB, ctx context.Context, store *eventstore.Store, received *intakev1.RequestReceived, decision *assessmentv1.AssessmentDecided) eventstore.Event {
	tb.Helper()
	id := received.GetRequestId()
	h, err := store.Load(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := store.Append(ctx, id, h.LastSeq,
		eventstore.Event{Service: "intake", Name: "received", Payload: received, Time: t0.Add(-time.Hour)},
		eventstore.Event{Service: "assessment", Name: "decided", Payload: decision, Time: t0}); err != nil {
		tb.Fatal(err)
	}
	if h, err = store.Load(ctx, id); err != nil {
		tb.Fatal(err)
	}
	return h.Events[len(h.Events)-1]
}

// receive writes the demand and the decision to the stream, as intake and
// assessment would, and returns the decided event.
func (e *env) receive(r request) eventstore.Event {
	e.t.Helper()
	if r.decision == 0 {
		r.decision = assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE
	}
	received := &intakev1.RequestReceived{
		RequestId:   r.id,
		GroupMember: "spiffe://ddr.local/group-member/acme-eu",
		Request: &intakev1.DataDisclosureRequest{
			ReceivedAt: timestamppb.New(t0.Add(-time.Hour)),
			Channel:    intakev1.Channel_CHANNEL_EMAIL,
			Authority:  &intakev1.Authority{Name: "Example Public Security Bureau", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: r.country},
			LegalProcess: &intakev1.LegalProcess{
				Type: intakev1.LegalProcessType_LEGAL_PROCESS_TYPE_PRODUCTION_ORDER, Reference: "PO-2026-17",
			},
			Targets:        []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Value: targetValue, Ref: "t1"}},
			CustomerId:     customerID,
			DataCategories: []intakev1.DataCategory{intakev1.DataCategory_DATA_CATEGORY_SUBSCRIBER},
		},
		SubmitTime: timestamppb.New(t0.Add(-time.Hour)),
	}
	decided := &assessmentv1.AssessmentDecided{
		RequestId: r.id,
		Decision: &assessmentv1.Decision{
			DecisionId: "dec-" + r.id, Kind: r.decision,
			LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION,
			Status:     assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE,
		},
		Requirements: &assessmentv1.NotificationRequirements{
			CustomerIsController: true,
			CustomerId:           customerID,
			Prohibition:          r.gag,
			AuthorityCountry:     r.country,
			ReceiveTime:          timestamppb.New(t0.Add(-time.Hour)),
		},
	}
	evs := []eventstore.Event{
		{Service: "intake", Name: "received", Payload: received, Time: t0.Add(-time.Hour)},
		{Service: "assessment", Name: "decided", Payload: decided, Time: t0},
	}
	h, err := e.store.Load(e.ctx, r.id)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, r.id, h.LastSeq, evs...); err != nil {
		e.t.Fatalf("append: %v", err)
	}
	h, err = e.store.Load(e.ctx, r.id)
	if err != nil {
		e.t.Fatal(err)
	}
	return h.Events[len(h.Events)-1]
}

// events returns the names of the request's notification events, in order.
func (e *env) events(id string) []string {
	e.t.Helper()
	h, err := e.store.Load(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range h.Events {
		if ev.Service == app.Service {
			out = append(out, ev.Name)
		}
	}
	return out
}

// legal is the second person of the two-person safeguards.
var legal = policy.Person{ID: "spiffe://ddr.local/staff/lena", Roles: []policy.Role{policy.RoleLegal}}

// deliveries counts the plan's deliveries of step, failed or accepted.
func deliveries(p *notificationv1.Plan, k notificationv1.StepKind, failed bool) int {
	n := 0
	for _, d := range p.GetDeliveries() {
		if d.GetStep() == k && d.GetFailed() == failed {
			n++
		}
	}
	return n
}

// dispatchByTwo records the DPA packet to authority as sent by hand: staff
// proposes, legal confirms (2.2 for an authority without an address).
func dispatchByTwo(t *testing.T, e *env, id, authority string) {
	t.Helper()
	prop := must[app.Proposed](t)(e.n.ProposeManualDispatch(e.ctx, staff, id, domain.ManualDispatch{
		Authority: authority, Means: domain.DispatchPortal, Reference: "PORTAL-" + authority, SentAt: e.clock.Now()}))
	must[app.PlanView](t)(e.n.ConfirmLift(e.ctx, legal, id, prop.LiftID))
}

func count(names []string, name string) int {
	n := 0
	for _, x := range names {
		if x == name {
			n++
		}
	}
	return n
}

func (e *env) plan(id string) *notificationv1.Plan {
	e.t.Helper()
	v, err := e.n.GetPlan(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetPlan: %v", err)
	}
	return app.EncodePlan(v)
}

func step(p *notificationv1.Plan, k notificationv1.StepKind) *notificationv1.Step {
	for _, s := range p.GetSteps() {
		if s.GetKind() == k {
			return s
		}
	}
	return nil
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// devTLS is one development-PKI certificate for every test server of the
// package (SMTP and webhook receivers on loopback) and the roots that
// verify it: notices in these tests travel over verified TLS.
var devTLS = sync.OnceValues(func() (*tls.Config, *x509.CertPool) {
	cfg, roots, _, err := smtptest.DevTLS()
	if err != nil {
		panic(err)
	}
	return cfg, roots
})

// startSMTP starts (or, if !up, reserves) an SMTP server offering
// STARTTLS with the development certificate.
func startSMTP(t *testing.T, up bool) *smtptest.Server {
	t.Helper()
	var s *smtptest.Server
	var err error
	cfg, _ := devTLS()
	if up {
		s, err = smtptest.StartWith(smtptest.Options{TLS: cfg})
	} else {
		s, err = smtptest.ReserveWith(smtptest.Options{TLS: cfg})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Down)
	return s
}

// decided is what the reactor hands Derive for a decision event.
func decided(t *testing.T, ev eventstore.Event) app.Decided {
	t.Helper()
	d, ok := ev.Payload.(*assessmentv1.AssessmentDecided)
	if !ok {
		t.Fatalf("%s is not AssessmentDecided", ev.Type)
	}
	return app.DecodeDecided(ev, d)
}
