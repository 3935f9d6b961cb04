package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/notification/adapters"
	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
)

// hookServer is an https endpoint on loopback. It answers 500 to the
// first call and 200 after, verifying each signature, and counts what it
// accepted.
type hookServer struct {
	*httptest.Server
	calls, accepted atomic.Int32
	mu              sync.Mutex
	keys            []string
	bodies          []string
	badSig          error
}

func newHookServer(t *testing.T, now func() time.Time) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if h.calls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		err := adapters.VerifyWebhook([]byte("s3cret"), body, r.Header.Get(adapters.SignatureHeader), now(), adapters.DefaultSignatureTolerance)
		h.mu.Lock()
		h.keys = append(h.keys, r.Header.Get(adapters.IdempotencyKeyHeader))
		h.bodies = append(h.bodies, string(body))
		if err != nil {
			h.badSig = err
		}
		h.mu.Unlock()
		h.accepted.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	h.TLS, _ = devTLS()
	h.StartTLS() // https with the development certificate
	t.Cleanup(h.Close)
	return h
}

func TestClause4_1_2_NoticeRetriedAfterSMTPDownAndWebhook500IsDeliveredOnce(t *testing.T) {
	e := newEnv(t)
	smtpSrv := startSMTP(t, false) // down
	hook := newHookServer(t, e.clock.Now)
	c := contacts(hook.URL)
	d1 := e.deliverer(c, smtpSrv.Addr(), "instance-1", nil)
	d2 := e.deliverer(c, smtpSrv.Addr(), "instance-2", nil)
	const id = "req-retry"
	ev := e.receive(request{id: id, country: "DE"})
	if err := e.n.Derive(e.ctx, decided(e.t, ev)); err != nil {
		t.Fatal(err)
	}
	must[app.PlanView](t)(e.n.RecordRedirectOutcome(e.ctx, staff, id, domain.RedirectDeclined, ""))

	// First attempt: the SMTP server is down and the endpoint answers 500.
	if err := d1.Deliver(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	p := e.plan(id)
	if got := step(p, notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER).GetStatus(); got != notificationv1.StepStatus_STEP_STATUS_FAILED {
		t.Fatalf("notice step = %v after failed attempts, want FAILED", got)
	}
	if n := deliveries(p, notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER, true); n != 2 {
		t.Fatalf("failed customer notices = %d, want 2 (e-mail and webhook)", n)
	}
	if p.GetStatus() == notificationv1.PlanStatus_PLAN_STATUS_CLEARED {
		t.Fatal("cleared without a delivered notice")
	}

	// Back up, but the backoff has not run yet: nothing is sent.
	if err := smtpSrv.Up(); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(t0.Add(30 * time.Second))
	if err := d1.Deliver(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if n, calls := len(smtpSrv.Messages()), hook.calls.Load(); n != 0 || calls != 1 {
		t.Fatalf("within the backoff: %d mails, %d webhook calls; want 0 and 1", n, calls)
	}

	// After the backoff two instances retry at once: one notice per channel.
	e.clock.Set(t0.Add(2 * time.Minute))
	var wg sync.WaitGroup
	for _, d := range []*app.Deliverer{d1, d2, d1, d2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.Deliver(e.ctx, id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// A forced retry after the success sends nothing either.
	d2.Retry(id)
	d2.Sweep(e.ctx)

	mails := smtpSrv.To(custEmail)
	if len(mails) != 1 || hook.accepted.Load() != 1 {
		t.Fatalf("delivered %d mails and %d webhooks, want exactly 1 each", len(mails), hook.accepted.Load())
	}
	if !mails[0].TLS {
		t.Errorf("the notice was accepted on a session without TLS, want STARTTLS")
	}
	p = e.plan(id)
	if n := deliveries(p, notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER, false); n != 2 {
		t.Errorf("customer notices delivered = %d, want 2 (one receipt per channel)", n)
	}
	// 2.2: the lead DPA's packet went out by e-mail; CNIL has no address,
	// so two people record its packet sent by hand before anything clears.
	if n := deliveries(p, notificationv1.StepKind_STEP_KIND_NOTIFY_DPA, false); n != 1 {
		t.Errorf("DPA packets delivered = %d, want 1 (DPC-IE by e-mail)", n)
	}
	if n := count(e.events(id), "cleared"); n != 0 {
		t.Fatalf("cleared before the packet reached CNIL")
	}
	dispatchByTwo(t, e, id, "CNIL")
	if err := d1.Deliver(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := count(e.events(id), "cleared"); n != 1 {
		t.Errorf("cleared events = %d, want 1", n)
	}
	p = e.plan(id)
	if p.GetStatus() != notificationv1.PlanStatus_PLAN_STATUS_CLEARED {
		t.Errorf("plan status = %v, want CLEARED", p.GetStatus())
	}
	for _, dl := range p.GetDeliveries() {
		if dl.GetFailed() || dl.GetStep() != notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER {
			continue
		}
		switch dl.GetChannel() {
		case notificationv1.DeliveryChannel_DELIVERY_CHANNEL_EMAIL:
			if !strings.Contains(mails[0].Data, "Message-ID: "+adapters.MessageID(dl.GetDeliveryId())) {
				t.Errorf("mail does not carry the delivery id as Message-ID")
			}
			if !strings.HasPrefix(dl.GetReceipt(), "250 ") {
				t.Errorf("e-mail receipt = %q, want the server's 250 reply", dl.GetReceipt())
			}
		case notificationv1.DeliveryChannel_DELIVERY_CHANNEL_WEBHOOK:
			if hook.keys[0] != dl.GetDeliveryId() {
				t.Errorf("Idempotency-Key = %q, want the delivery id %q", hook.keys[0], dl.GetDeliveryId())
			}
			if dl.GetReceipt() != "HTTP 200 OK" {
				t.Errorf("webhook receipt = %q", dl.GetReceipt())
			}
		}
	}
	if hook.badSig != nil {
		t.Errorf("webhook signature did not verify: %v", hook.badSig)
	}
	if !strings.Contains(mails[0].Data, targetValue) || !strings.Contains(hook.bodies[0], targetValue) {
		t.Errorf("the customer notice lacks the identifiers the customer, as controller, is owed")
	}
}

func TestClause4_2_2_GagWaiverEffortsRecordedNoNoticeUntilTheGagLifts(t *testing.T) {
	e := newEnv(t)
	smtpSrv := startSMTP(t, true)
	idx, _ := e.projectedIndex()
	d := e.deliverer(contacts(""), smtpSrv.Addr(), "instance-1", idx)
	const id = "req-gag"
	lifts := t0.Add(2 * time.Hour)
	ev := e.receive(request{id: id, country: "DE", gag: &assessmentv1.Prohibition{Present: true, Reference: "NDO-7", ExpiresAt: timestamppb.New(lifts)}})
	if err := e.n.Derive(e.ctx, decided(e.t, ev)); err != nil {
		t.Fatal(err)
	}
	p := e.plan(id)
	// A gag alone skips nothing: the notice stays owed until two people
	// exempt it (4.1.2, issue 15); the gag's end date then schedules it.
	if s := step(p, notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER).GetStatus(); s != notificationv1.StepStatus_STEP_STATUS_REQUIRED {
		t.Fatalf("notice step = %v under a gag before any exemption, want REQUIRED", s)
	}
	prop := must[app.Proposed](t)(e.n.ProposeExemption(e.ctx, staff, id, domain.ExemptionProposal{
		Step: domain.StepNotifyCustomer, Reason: domain.SkipProhibited, Basis: "non-disclosure order until it lapses", Evidence: "NDO-7"}))
	if s := step(app.EncodePlan(prop.PlanView), notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER).GetStatus(); s != notificationv1.StepStatus_STEP_STATUS_REQUIRED {
		t.Fatalf("notice step = %v on a proposal alone, want REQUIRED", s)
	}
	p = app.EncodePlan(must[app.PlanView](t)(e.n.ConfirmLift(e.ctx, legal, id, prop.LiftID)))
	notice := step(p, notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER)
	if notice.GetStatus() != notificationv1.StepStatus_STEP_STATUS_SCHEDULED || !notice.GetDueTime().AsTime().Equal(lifts) {
		t.Fatalf("notice step = %v due %v, want SCHEDULED for the day the gag lifts", notice.GetStatus(), notice.GetDueTime().AsTime())
	}
	if s := step(p, notificationv1.StepKind_STEP_KIND_WAIVER_EFFORTS).GetStatus(); s != notificationv1.StepStatus_STEP_STATUS_REQUIRED {
		t.Fatalf("waiver step = %v, want REQUIRED", s)
	}

	must[app.PlanView](t)(e.n.RecordRedirectOutcome(e.ctx, staff, id, domain.RedirectNotPossible, ""))
	must[app.PlanView](t)(e.n.RecordWaiverEffort(e.ctx, staff, id, domain.WaiverEffort{Kind: domain.EffortInformObligations, Outcome: domain.WaiverInformed, Notes: "letter sent"}))
	got := app.EncodePlan(must[app.PlanView](t)(e.n.RecordWaiverEffort(e.ctx, staff, id, domain.WaiverEffort{Kind: domain.EffortAllowCustomerPersonnel, Outcome: domain.WaiverDeclined, Person: "counsel@corp.example"})))
	if s := step(got, notificationv1.StepKind_STEP_KIND_WAIVER_EFFORTS).GetStatus(); s != notificationv1.StepStatus_STEP_STATUS_DONE {
		t.Fatalf("waiver step = %v after both efforts, want DONE", s)
	}
	efforts := got.GetWaiverEfforts()
	if len(efforts) != 2 || efforts[0].GetPerson() != staff || efforts[1].GetPerson() != "counsel@corp.example" || efforts[0].GetEffortTime() == nil {
		t.Fatalf("written record = %v, want both efforts with person and date", efforts)
	}

	// While the gag stands: no notice, however often the worker looks.
	e.clock.Set(lifts.Add(-time.Minute))
	d.Sweep(e.ctx)
	if err := d.Deliver(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := len(smtpSrv.Messages()); n != 0 {
		t.Fatalf("%d notices sent while the gag stands", n)
	}

	// The gag lifts: the scheduler finds the due notice in the index.
	e.clock.Set(lifts.Add(time.Minute))
	deadline := time.Now().Add(10 * time.Second)
	for len(smtpSrv.To(custEmail)) == 0 && time.Now().Before(deadline) {
		d.Sweep(e.ctx)
		time.Sleep(10 * time.Millisecond)
	}
	d.Sweep(e.ctx)
	if n := len(smtpSrv.To(custEmail)); n != 1 {
		t.Fatalf("%d notices after the gag lifted, want 1", n)
	}
	if s := step(e.plan(id), notificationv1.StepKind_STEP_KIND_NOTIFY_CUSTOMER).GetStatus(); s != notificationv1.StepStatus_STEP_STATUS_DONE {
		t.Errorf("notice step = %v, want DONE", s)
	}
}

func TestClause2_2_DecisionThatDisclosesNothingOwesNoStepsAndHoldsNothing(t *testing.T) {
	e := newEnv(t)
	const id = "req-reject"
	ev := e.receive(request{id: id, country: "CN", decision: assessmentv1.DecisionKind_DECISION_KIND_REJECT})
	for range 2 { // a redelivered decision appends nothing twice
		if err := e.n.Derive(e.ctx, decided(e.t, ev)); err != nil {
			t.Fatal(err)
		}
	}
	if names := e.events(id); len(names) != 1 || names[0] != "plan_derived" {
		t.Fatalf("events = %v, want only plan_derived", names)
	}
	p := e.plan(id)
	if p.GetStatus() != notificationv1.PlanStatus_PLAN_STATUS_NOT_APPLICABLE {
		t.Errorf("status = %v, want NOT_APPLICABLE", p.GetStatus())
	}
	for _, s := range p.GetSteps() {
		if s.GetStatus() != notificationv1.StepStatus_STEP_STATUS_SKIPPED || s.GetSkipReason() != string(domain.SkipNoDisclosureDecided) {
			t.Errorf("step %v = %v %s, want skipped NO_DISCLOSURE_DECIDED", s.GetKind(), s.GetStatus(), s.GetSkipReason())
		}
	}
}

func TestClause4_1_1_RedirectAgreedEndsTheRequestAsRedirectedWithoutNotice(t *testing.T) {
	e := newEnv(t)
	smtpSrv := startSMTP(t, true)
	d := e.deliverer(contacts(""), smtpSrv.Addr(), "instance-1", nil)
	const id = "req-redirect"
	if err := e.n.Derive(e.ctx, decided(e.t, e.receive(request{id: id, country: "DE"}))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.n.RecordRedirectOutcome(e.ctx, staff, id, domain.RedirectAgreed, ""); err == nil {
		t.Fatal("agreed without the support given was accepted")
	}
	p := app.EncodePlan(must[app.PlanView](t)(e.n.RecordRedirectOutcome(e.ctx, staff, id, domain.RedirectAgreed, "sent the customer the authority's contact and our guidance")))
	if p.GetStatus() != notificationv1.PlanStatus_PLAN_STATUS_REDIRECTED {
		t.Fatalf("status = %v, want REDIRECTED", p.GetStatus())
	}
	names := e.events(id)
	if count(names, "redirect_outcome_recorded") != 1 || count(names, "redirected") != 1 || count(names, "cleared") != 0 {
		t.Fatalf("events = %v, want redirect_outcome_recorded and redirected, no cleared", names)
	}
	if err := d.Deliver(e.ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := len(smtpSrv.Messages()); n != 0 {
		t.Errorf("%d notices sent for a redirected request", n)
	}
}
