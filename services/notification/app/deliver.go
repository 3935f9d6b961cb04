package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// Delivery is at least once on the wire and exactly once in the record:
//
//   - every notice to one recipient of one request has one delivery id
//     (domain.DeliveryID), the same on every retry; it goes out as the
//     e-mail's Message-ID and the webhook's Idempotency-Key, so a receiver
//     can drop a repeat;
//   - before sending, a worker takes a lease on the delivery id (a KV entry
//     with a TTL, see [Leaser]) and re-reads the record: a delivery already
//     recorded, or leased by another instance, is not sent;
//   - the receipt is recorded with store.Update, whose decide ignores a
//     delivery id already recorded, with an event id derived from the
//     delivery id: two racing recorders write one notice_delivered.
//
// A notice is sent twice only if a process dies, or cannot write, between
// the receiver's acceptance and the record; the retry then carries the same
// id. Recording an "attempt" event before sending was not chosen: it cannot
// tell a crash before the send from one after it, so it would not prevent
// the repeat, and it would fill the written record with non-events.

// Message is one notice as it goes out.
type Message struct {
	DeliveryID string
	RequestID  string
	// Kind is "customer_notice", "dpa_consultation" or "dpa_outcome".
	Kind    string
	From    string
	To      string // e-mail only
	Subject string
	Body    string
}

// Message kinds.
const (
	KindCustomerNotice  = "customer_notice"
	KindDPAConsultation = "dpa_consultation"
	KindDPAOutcome      = "dpa_outcome"
)

// EmailSender sends one e-mail and returns the server's receipt.
type EmailSender interface {
	SendEmail(ctx context.Context, m Message) (receipt string, err error)
}

// WebhookSender posts one signed notice and returns the receipt.
type WebhookSender interface {
	PostWebhook(ctx context.Context, hook Webhook, m Message) (receipt string, err error)
}

// SendError is a failed send with a reason fit for the record: no
// addresses, no message text.
type SendError struct {
	Reason string
	Err    error
}

func (e *SendError) Error() string { return e.Reason + ": " + e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

func failureReason(err error) string {
	var se *SendError
	if errors.As(err, &se) {
		return se.Reason
	}
	return "send failed"
}

// Leaser hands out short exclusive leases, so two instances do not send the
// same notice at once. Acquire reports false when someone else holds it.
type Leaser interface {
	Acquire(ctx context.Context, key string) (bool, error)
	Release(ctx context.Context, key string)
}

// DeliveryConfig tunes a [Deliverer].
type DeliveryConfig struct {
	Contacts Contacts
	// Email sends e-mail; nil: no e-mail channel.
	Email EmailSender
	// Webhook posts webhooks; nil: no webhook channel.
	Webhook WebhookSender
	// Leases guard sends across instances; nil: this instance only.
	Leases Leaser
	// RetryBase is the wait after the first failure, doubled per failure
	// up to RetryMax. Defaults 30 s and 1 h.
	RetryBase, RetryMax time.Duration
	Logger              *slog.Logger
	// Keys opens the sealed target identifiers for the customer notice.
	Keys Opener
}

// Opener opens values sealed with a request's data key (platform/keys).
type Opener interface {
	Open(ctx context.Context, requestID, label string, sealed []byte) ([]byte, error)
}

// Deliverer is the delivery worker: it sends the notices and packets the
// plans owe, retries failures with exponential backoff, sends a gagged
// notice once its gag lifts, and clears requests whose last blocker ran out.
// Work is found in the [Index] and done by one goroutine ([Deliverer.Run]).
type Deliverer struct {
	n   *Notification
	idx *Index
	cfg DeliveryConfig
	log *slog.Logger

	kick   chan struct{}
	mu     sync.Mutex
	forced map[string]bool
}

// NewDeliverer returns a Deliverer.
func NewDeliverer(n *Notification, idx *Index, cfg DeliveryConfig) *Deliverer {
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.RetryMax < cfg.RetryBase {
		cfg.RetryMax = max(time.Hour, cfg.RetryBase)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d := &Deliverer{n: n, idx: idx, cfg: cfg, log: cfg.Logger.With("component", "delivery"), kick: make(chan struct{}, 1), forced: map[string]bool{}}
	if idx != nil {
		idx.settleWith(d.noticesDelivered)
	}
	return d
}

// noticesDelivered reports whether every customer notice the plan may owe
// at any later time ([domain.Plan.NoticeRecipientsEver]) is recorded
// delivered to each address this worker's contacts give the customer:
// then ready lists no notice of the plan at any later time, since a
// delivery once recorded stays recorded and the contacts do not change
// while the process runs. The index keeps a plan that owes nothing else
// ([domain.Plan.MayOweWorkBesidesNotices]) out of the sweep's reads then.
func (d *Deliverer) noticesDelivered(p *domain.Plan) bool {
	for _, pd := range d.owedFor(p, p.NoticeRecipientsEver()) {
		if pd.step == domain.StepNotifyCustomer && !p.Delivered(pd.id) {
			return false
		}
	}
	return true
}

// Kick asks for a sweep soon (a plan changed).
func (d *Deliverer) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Retry asks for the request's owed deliveries to be tried at the next
// sweep, whatever their backoff.
func (d *Deliverer) Retry(requestID string) {
	d.mu.Lock()
	d.forced[requestID] = true
	d.mu.Unlock()
	d.Kick()
}

// Run sweeps on every tick and kick until ctx ends.
func (d *Deliverer) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-d.kick:
		}
		d.Sweep(ctx)
	}
}

// Sweep does the work due now: deliveries owed and past their backoff, and
// clearances whose last blocker ran out.
func (d *Deliverer) Sweep(ctx context.Context) {
	now := d.n.Now()
	d.mu.Lock()
	forced := d.forced
	d.forced = map[string]bool{}
	d.mu.Unlock()
	ids := d.due(d.idx.SelectLive, now, forced)
	for id := range forced {
		ids = append(ids, id)
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		if err := d.deliverRequest(ctx, id, forced[id]); err != nil {
			d.log.WarnContext(ctx, "delivery sweep failed", "request_id", id, "error", err)
		}
	}
	// Owed notices past their due date (after an emergency disclosure,
	// after a gag): recorded overdue once per due time, after this sweep's
	// deliveries had their chance.
	late := d.late(d.idx.SelectLive, d.n.Now())
	for _, id := range late {
		if ctx.Err() != nil {
			return
		}
		if _, err := d.n.FireOverdue(ctx, id); err != nil {
			d.log.WarnContext(ctx, "recording an overdue notice failed", "request_id", id, "error", err)
		}
	}
}

// selector is [Index.SelectLive] (what Sweep reads) or [Index.Select]
// (every plan: what the tests hold the sweep's reads to).
type selector func(keep func(p *domain.Plan) bool) []string

// due selects the requests with deliveries owed and past their backoff at
// now, or a clearance to make; the forced ones are left to the caller.
// Only a plan that may owe work ([domain.Plan.MayOweWork]) can be due.
func (d *Deliverer) due(among selector, now time.Time, forced map[string]bool) []string {
	return among(func(p *domain.Plan) bool {
		return !forced[p.RequestID()] && (len(d.ready(p, now, false)) > 0 || clearable(p, now))
	})
}

// late selects the requests owing a NoticeOverdue at now: a pending
// notice deadline, so a plan that may owe work.
func (d *Deliverer) late(among selector, now time.Time) []string {
	return among(func(p *domain.Plan) bool { return len(p.OverdueNotices(now)) > 0 })
}

func clearable(p *domain.Plan, now time.Time) bool {
	return !p.Cleared() && p.Outcome() == domain.OutcomeOpen && len(domain.Blockers(p, now)) == 0
}

// pending is one delivery a plan owes.
type pending struct {
	// customer is the customer a notice goes to (its id never leaves the
	// record), ref its reference ("" with one customer).
	customer  domain.Customer
	ref       string
	step      domain.StepKind
	party     string // customer id or DPA name
	recipient string // as recorded
	channel   domain.Channel
	email     string
	hook      Webhook
	id        string
	end       policy.Outcome // for an outcome notice
}

// owed lists every delivery the plan owes at now, delivered or not.
func (d *Deliverer) owed(p *domain.Plan, now time.Time) []pending {
	return d.owedFor(p, p.NoticeRecipients(now))
}

// owedFor is owed, with notices the customers' notices owed.
func (d *Deliverer) owedFor(p *domain.Plan, notices []domain.CustomerNoticeDue) []pending {
	var out []pending
	// add lists one delivery per address of party. A customer notice is
	// owed to each contact, so each address has its own delivery id and
	// recipient; a DPA packet (as) is owed to the authority, so its
	// addresses share the authority's id and the record names the
	// authority, as the plan counts it: any address accepting it delivers it.
	add := func(step domain.StepKind, party string, e Endpoints, as string, c domain.Customer, ref string) {
		one := func(r string) (string, string) {
			if as != "" {
				r = as
			}
			return r, domain.DeliveryID(p.RequestID(), step, r)
		}
		if step == domain.StepNotifyDPAOutcome {
			// One notice per authority and end: a later end (after a
			// reopening) is a new notice, a repeat of the same is not.
			end, _ := p.OutcomeRecipients()
			one = func(string) (string, string) {
				return as, domain.DeliveryID(p.RequestID(), step, as+"/"+string(end))
			}
		}
		if d.cfg.Email != nil {
			for _, addr := range e.Emails {
				r, id := one(party + " <mailto:" + addr + ">")
				out = append(out, pending{customer: c, ref: ref, step: step, party: party, recipient: r, channel: domain.ChannelEmail, email: addr, id: id})
			}
		}
		if d.cfg.Webhook != nil {
			for _, h := range e.Webhooks {
				r, id := one(party + " <" + redactURL(h.URL) + ">")
				out = append(out, pending{customer: c, ref: ref, step: step, party: party, recipient: r, channel: domain.ChannelWebhook, hook: h, id: id})
			}
		}
	}
	// One notice per controller customer whose notice is due (4.1.2).
	for _, due := range notices {
		add(domain.StepNotifyCustomer, due.Customer.ID, d.cfg.Contacts.Customers[due.Customer.ID], "", due.Customer, due.Ref)
	}
	// 2.2: the packet goes to every competent authority it has not reached,
	// for every plan that may lead to disclosure, held or not. An authority
	// without addresses is reached by a manual dispatch two people confirm.
	for _, name := range p.PacketRecipients() {
		if e, ok := d.cfg.Contacts.dpa(name); ok {
			add(domain.StepNotifyDPA, name, e, name, domain.Customer{}, "")
		}
	}
	// 5.1: once the request ended, each DPA consulted on it is told how.
	// One without addresses got its packet by hand; the step shows it
	// still owed.
	end, to := p.OutcomeRecipients()
	for _, name := range to {
		if e, ok := d.cfg.Contacts.dpa(name); ok {
			n := len(out)
			add(domain.StepNotifyDPAOutcome, name, e, name, domain.Customer{}, "")
			for i := n; i < len(out); i++ {
				out[i].end = end
			}
		}
	}
	return out
}

// redactURL keeps scheme, host and path: a query may hold a token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "webhook"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// ready lists the owed deliveries not yet recorded whose backoff has run.
func (d *Deliverer) ready(p *domain.Plan, now time.Time, force bool) []pending {
	var out []pending
	for _, pd := range d.owed(p, now) {
		if p.Delivered(pd.id) {
			continue
		}
		if n, last := p.FailedAttempts(pd.id); n > 0 && !force && now.Before(last.Add(domain.Backoff(n, d.cfg.RetryBase, d.cfg.RetryMax))) {
			continue
		}
		out = append(out, pd)
	}
	return out
}

// Deliver does the request's due work now, reading the record rather than
// the index: the sends owed and past their backoff, and a clearance.
func (d *Deliverer) Deliver(ctx context.Context, requestID string) error {
	return d.deliverRequest(ctx, requestID, false)
}

func (d *Deliverer) deliverRequest(ctx context.Context, requestID string, force bool) error {
	r, err := d.n.Get(ctx, requestID)
	if err != nil {
		return err
	}
	for _, pd := range d.ready(r.Plan, d.n.Now(), force) {
		if err := d.attempt(ctx, requestID, pd); err != nil {
			d.log.WarnContext(ctx, "delivery not recorded", "request_id", requestID, "delivery_id", pd.id, "error", err)
		}
	}
	return d.n.clear(ctx, requestID)
}

// attempt sends one delivery under its lease and records the outcome.
func (d *Deliverer) attempt(ctx context.Context, requestID string, pd pending) error {
	if d.cfg.Leases != nil {
		ok, err := d.cfg.Leases.Acquire(ctx, pd.id)
		if err != nil || !ok {
			return err // another instance is on it
		}
		defer d.cfg.Leases.Release(context.WithoutCancel(ctx), pd.id)
	}
	// Re-read under the lease: another instance may have recorded it.
	r, err := d.n.Get(ctx, requestID)
	if err != nil {
		return err
	}
	if r.Plan.Delivered(pd.id) || !containsID(d.owed(r.Plan, d.n.Now()), pd.id) {
		return nil
	}
	m, err := d.render(ctx, r, pd)
	if err != nil {
		return err
	}
	var receipt string
	if pd.channel == domain.ChannelEmail {
		m.To = pd.email
		receipt, err = d.cfg.Email.SendEmail(ctx, m)
	} else {
		receipt, err = d.cfg.Webhook.PostWebhook(ctx, pd.hook, m)
	}
	dl := domain.Delivery{Step: pd.step, Recipient: pd.recipient, Channel: pd.channel, DeliveryID: pd.id, Receipt: receipt, At: d.n.Now(), CustomerRef: pd.ref, End: pd.end}
	outcome := "delivered"
	if err != nil {
		outcome = "failed"
	}
	deliveries().Add(ctx, 1, metric.WithAttributes(attribute.String("channel", string(pd.channel)), attribute.String("outcome", outcome)))
	if err != nil {
		dl.Reason = failureReason(err)
		d.log.WarnContext(ctx, "delivery failed", "request_id", requestID, "delivery_id", pd.id, "step", pd.step, "channel", pd.channel, "reason", dl.Reason)
	} else {
		d.log.InfoContext(ctx, "delivered", "request_id", requestID, "delivery_id", pd.id, "step", pd.step, "channel", pd.channel)
	}
	return d.record(ctx, requestID, dl, err != nil)
}

// record writes the receipt or the failure, once per delivery id.
func (d *Deliverer) record(ctx context.Context, requestID string, dl domain.Delivery, failed bool) error {
	_, err := d.n.store.Update(ctx, requestID, func(h eventstore.History) ([]eventstore.Event, error) {
		r, err := Fold(h)
		if err != nil {
			return nil, err
		}
		// A delivery can remove the last blocker: clearance judges
		// adequacy again.
		r.Plan.UseRegistry(d.n.cfg.Registry)
		trigger := dl.DeliveryID
		var evs []domain.Event
		if failed {
			n, _ := r.Plan.FailedAttempts(dl.DeliveryID)
			trigger = fmt.Sprintf("%s/failed/%d", dl.DeliveryID, n+1)
			evs, err = r.Plan.RecordDeliveryFailure(dl)
		} else {
			evs, err = r.Plan.RecordDelivery(dl)
		}
		if err != nil {
			return nil, err
		}
		return encoder{requestID: requestID, trigger: trigger, actor: d.n.cfg.Actor, at: dl.At, p: r.Plan}.encode(evs)
	})
	return err
}

func containsID(ps []pending, id string) bool {
	for _, p := range ps {
		if p.id == id {
			return true
		}
	}
	return false
}

// render fills the domain's templates. Only the customer notice carries
// the target identifiers (4.1.2; the customer controls the data).
func (d *Deliverer) render(ctx context.Context, r *Request, pd pending) (Message, error) {
	p := r.Plan
	sum := summary(p, r.Received)
	m := Message{DeliveryID: pd.id, RequestID: p.RequestID(), From: d.cfg.Contacts.From}
	var err error
	switch pd.step {
	case domain.StepNotifyCustomer:
		m.Kind = KindCustomerNotice
		var ts []string
		if ts, err = d.targets(ctx, r.Received); err != nil {
			return m, err
		}
		m.Subject, m.Body, err = domain.RenderCustomerNotice(domain.CustomerNotice{
			Customer: pd.customer, Request: sum, Targets: ts, Contact: d.cfg.Contacts.ReplyContact,
		})
	case domain.StepNotifyDPA, domain.StepHoldAndConsultDPA:
		m.Kind = KindDPAConsultation
		m.Subject, m.Body, err = domain.RenderDPAPacket(domain.DPAPacket{
			DPA: pd.party, Request: sum, Adequacy: p.Adequacy(), HoldPlacedAt: p.Hold().PlacedAt, Contact: d.cfg.Contacts.ReplyContact,
		})
	case domain.StepNotifyDPAOutcome:
		m.Kind = KindDPAOutcome
		_, at, _ := p.End()
		m.Subject, m.Body, err = domain.RenderDPAOutcome(domain.DPAOutcome{
			DPA: pd.party, RequestID: p.RequestID(), End: pd.end, EndedAt: at, Contact: d.cfg.Contacts.ReplyContact,
		})
	default:
		err = fmt.Errorf("%w: step %s sends nothing", ddrerr.ErrFailedPrecondition, pd.step)
	}
	return m, err
}

func lowerEnum(name, prefix string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, prefix)), "_", " ")
}

// summary is the request as the notices describe it, without identifiers.
func summary(p *domain.Plan, rr *intakev1.RequestReceived) domain.RequestSummary {
	s := domain.RequestSummary{
		RequestID:        p.RequestID(),
		AuthorityCountry: string(p.Adequacy().Country),
		ReceivedAt:       p.Requirements().ReceivedAt,
		LegalBasis:       "not recorded",
	}
	req := rr.GetRequest()
	if req == nil {
		return s
	}
	s.RequestingBody = req.GetAuthority().GetName()
	if k := req.GetAuthority().GetKind(); k != 0 {
		s.AuthorityKind = lowerEnum(k.String(), "AUTHORITY_KIND_")
	}
	if lp := req.GetLegalProcess(); lp != nil {
		parts := []string{lowerEnum(lp.GetType().String(), "LEGAL_PROCESS_TYPE_")}
		if lp.GetReference() != "" {
			parts = append(parts, lp.GetReference())
		}
		if lp.GetIssuingBody() != "" {
			parts = append(parts, "issued by "+lp.GetIssuingBody())
		}
		s.LegalBasis = strings.Join(parts, ", ")
	}
	for _, c := range req.GetDataCategories() {
		s.DataRequested = append(s.DataRequested, lowerEnum(c.String(), "DATA_CATEGORY_"))
	}
	if len(s.DataRequested) == 0 {
		s.DataRequested = []string{"not specified"}
	}
	if tr := req.GetTimeRange(); tr != nil {
		from, to := "open", "open"
		if tr.GetFrom() != nil {
			from = tr.GetFrom().AsTime().UTC().Format(time.DateOnly)
		}
		if tr.GetTo() != nil {
			to = tr.GetTo().AsTime().UTC().Format(time.DateOnly)
		}
		s.TimeRange = from + " to " + to
	}
	s.TargetCount = len(req.GetTargets())
	s.Deadline = protoconv.Time(req.GetDeadline())
	return s
}

// targets are the identifiers sought: personal data, for the customer
// notice only. Intake stores them sealed; once erased they read as such.
func (d *Deliverer) targets(ctx context.Context, rr *intakev1.RequestReceived) ([]string, error) {
	var out []string
	for _, t := range rr.GetRequest().GetTargets() {
		v := t.GetValue()
		if sealed := t.GetSealedValue(); len(sealed) > 0 {
			if d.cfg.Keys == nil {
				return nil, errors.New("notification: a sealed target and no keyring to open it")
			}
			pt, err := d.cfg.Keys.Open(ctx, rr.GetRequestId(), keys.TargetLabel(t.GetRef()), sealed)
			switch {
			case errors.Is(err, keys.ErrErased):
				v = "(erased)"
			case err != nil:
				return nil, err
			default:
				v = string(pt)
			}
		}
		out = append(out, lowerEnum(t.GetKind().String(), "TARGET_KIND_")+": "+v)
	}
	return out, nil
}
