package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// DeliveryID is the id of the delivery of one step's notice to one
// recipient of one request. It is the same on every retry, so the sender
// and the record can both tell a retry from a second notice: the mail's
// Message-ID and the webhook's idempotency header carry it, and
// [Plan.RecordDelivery] ignores an id it has seen. Fields are length-framed
// so that no two different triples hash alike.
func DeliveryID(requestID string, step StepKind, recipient string) string {
	h := sha256.New()
	for _, s := range []string{requestID, string(step), recipient} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return "dlv_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// NoticeOwed reports whether the customer notice is to be sent at now: the
// customer controls the data, the authority has answered the redirect
// request (4.1.1), and the notice is required, failed so far, scheduled and
// due (a gag has lifted), or done while some contact may still lack it.
// Skipped notices (prohibited, imminent risk, redirected, not owed) are not
// sent. The notice an imminent risk exempted as prior notice becomes
// required once reporting records the disclosure (lifecycle.go): 4.1.2
// exempts only prior notification, so it is then sent like any other, due
// within the notice window. With several controller customers it is owed
// if any customer's is ([Plan.NoticeOwedTo] answers per customer).
func (p *Plan) NoticeOwed(now time.Time) bool {
	for _, s := range p.customerSteps(StepNotifyCustomer) {
		if p.NoticeOwedTo(s.customer, now) {
			return true
		}
	}
	return false
}

// NoticeOwedTo is [Plan.NoticeOwed] for one customer: each controller
// customer's notice waits for that customer's redirect answer only.
func (p *Plan) NoticeOwedTo(id string, now time.Time) bool { return p.noticeOwedTo(id, now, false) }

// noticeOwedTo is [Plan.NoticeOwedTo]; with ever, it answers for any time
// from now on instead of at now: the time only ever makes a notice owed
// (a gag's end date passes, a scheduled notice's time comes), never takes
// one back, so ever is now at the end of time. A condition added here that
// time can take back must keep ever true while it may hold
// ([Plan.MayOweWork] rests on it).
func (p *Plan) noticeOwedTo(id string, now time.Time, ever bool) bool {
	if !p.derived || p.Outcome() == OutcomeRedirected || id == "" {
		return false
	}
	if _, stopped := p.stopped(); stopped && !p.undoesNothing() {
		return false // withdrawn or back in review: nothing leaves
	}
	if p.stepOf(StepAskAuthorityToRedirect, id).Status == StatusRequired {
		return false
	}
	if p.gagOn(StepNotifyCustomer) && (p.req.Prohibition.ExpiresAt.IsZero() || (!ever && now.Before(p.req.Prohibition.ExpiresAt))) {
		return false // a standing prohibition: telling the customer would break it
	}
	switch s := p.stepOf(StepNotifyCustomer, id); s.Status {
	case StatusRequired, StatusFailed, StatusDone:
		return true
	case StatusScheduled:
		return ever || !now.Before(s.ScheduledFor)
	}
	return false
}

// PacketOwed reports whether DPA packets are to be sent: to every competent
// authority not reached yet, for any request that may lead to disclosure
// (2.2), held or not; never while a prohibition bars it.
func (p *Plan) PacketOwed() bool { return len(p.PacketRecipients()) > 0 }

// Delivered reports whether a delivery with this id is recorded.
func (p *Plan) Delivered(deliveryID string) bool {
	for _, d := range p.deliveries {
		if d.DeliveryID == deliveryID && !d.Failed {
			return true
		}
	}
	return false
}

// FailedAttempts returns how many failed attempts of a delivery are
// recorded, and when the last one was: the retry backoff runs from there,
// so it survives a restart.
func (p *Plan) FailedAttempts(deliveryID string) (n int, last time.Time) {
	for _, d := range p.deliveries {
		if d.DeliveryID == deliveryID && d.Failed {
			n++
			last = d.At
		}
	}
	return n, last
}

// Backoff is the wait after n failed attempts: base doubled per attempt,
// capped at limit.
func Backoff(n int, base, limit time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
