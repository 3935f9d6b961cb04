package domain

import "github.com/ddrsuite/ddr/services/platform/deadline"

// MayOweWork reports whether the delivery worker may still find work in
// the plan, at any time from now on, without a new event: a notice, a
// packet or an outcome notice to send, a clearance to make, a notice
// deadline to record overdue. When it is false, no later time changes that
// (only an event can), so a read model can keep the plans for which it is
// true apart and have the worker look only at those (issue 19: the record
// only grows, the open work does not).
//
// It reads no clock and no contacts configuration, and it is conservative:
// each part below is true whenever the worker's question could be answered
// yes for some contacts configuration at some later time, so a plan that
// leaves the set can owe nothing at all.
func (p *Plan) MayOweWork() bool {
	// 4.1.2: a customer notice owed now, or once a prohibition's end date
	// passes or a scheduled notice's time comes. A notice already done
	// counts too: the worker owes it to each of the customer's contact
	// addresses, each its own delivery, and the step is done once any of
	// them has it; another address (a failed one, one added to the
	// configuration) is still owed it. Which addresses are owed is the
	// worker's to say, for its contacts ([Plan.NoticeRecipientsEver]).
	return len(p.NoticeRecipientsEver()) > 0 || p.MayOweWorkBesidesNotices()
}

// MayOweWorkBesidesNotices is [Plan.MayOweWork] leaving out the customer
// notices: whether a packet, an outcome notice, a clearance or an overdue
// record may still be owed at some later time without a new event.
func (p *Plan) MayOweWorkBesidesNotices() bool {
	// 2.2: the DPA packet to a competent authority it has not reached;
	// the time plays no part ([Plan.PacketRecipients]).
	if len(p.PacketRecipients()) > 0 {
		return true
	}
	// 5.1: once the request ended, a consulted DPA not yet told how
	// ([Plan.OutcomeRecipients]; no time either).
	if _, to := p.OutcomeRecipients(); len(to) > 0 {
		return true
	}
	// 2.2, 4.1.2, 4.2.1: a clearance still to make. Whether the gate
	// lets it through depends on the time (a scheduled notice falls due,
	// a stricter law's notice period runs out), so a plan not cleared and
	// still open stays in however long it waits; a cleared or ended one
	// is cleared again only after an event (a new decision, a lost
	// adequacy, a reopening's end).
	if p.derived && !p.Cleared() && p.Outcome() == OutcomeOpen {
		return true
	}
	// 4.1.2: an owed notice's deadline pending (it falls overdue with the
	// time) or overdue (still counted until the notice is delivered or the
	// steps stop): only events move a deadline out of either.
	for _, v := range p.ledger().All() {
		if v.Status == deadline.Pending || v.Status == deadline.Overdue {
			return true
		}
	}
	return false
}
