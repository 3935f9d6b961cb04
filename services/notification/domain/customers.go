package domain

import (
	"strconv"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// A redirect and a notice per controller customer (clauses 4.1.1, 4.1.2;
// issue 16 item 6).
//
// A request may concern several customers ([Requirements.Customers], each
// with its role; the legacy [Requirements.Customer] is the one customer of
// older decisions). Each controller customer has its own ask-to-redirect
// and notify-customer step; the DPA notice, the hold and the waiver efforts
// stay one per request. Steps, redirect answers, deliveries and exemptions
// name a customer by its reference ("c1", "c2", ...: its place in the
// decision's list of customers), never by its id, so the reference can be
// logged and shown; the fold resolves the reference to the customer when
// it folds the event, so a later decision that lists the customers in
// another order does not move what was done to another customer.
//
// Each customer's steps end on their own: one customer's authority
// agreeing to redirect skips that customer's notice only. Disclosure waits
// for every controller customer's steps.
//
// The request's overall outcome: when every controller customer's redirect
// was agreed, the request is redirected ([OutcomeRedirected],
// RequestRedirected on the wire) and the company discloses nothing;
// otherwise the disclosure proceeds for the rest, once their steps are done,
// and the agreed customers' data is left to their own authorities' request
// to them. The transparency report counts the request once, by its most
// significant outcome: a disclosure made for any customer makes it a
// disclosure (data left the company); only a request redirected for every
// customer counts as redirected. Reporting owns the count; this is the rule
// notification's events support (RequestRedirected only when all agreed;
// NoticeDelivered and RedirectOutcomeRecorded name the customer reference).

// customerRef is the reference of the customer at index i (0-based).
func customerRef(i int) string { return "c" + strconv.Itoa(i+1) }

// Customers lists the request's customers once each, in the decision's
// order: the legacy customer first, then the others.
func (r Requirements) allCustomers() []Customer {
	var out []Customer
	seen := map[string]bool{}
	for _, c := range append([]Customer{r.Customer}, r.Customers...) {
		if strings.TrimSpace(c.ID) == "" || seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		out = append(out, c)
	}
	return out
}

// ControllerCustomers lists the customers the company processes the data
// for: each is owed its own redirect request and notice.
func (r Requirements) ControllerCustomers() []Customer {
	var out []Customer
	for _, c := range r.allCustomers() {
		if c.Controller {
			out = append(out, c)
		}
	}
	return out
}

// anyController reports whether any customer is controller.
func (r Requirements) anyController() bool { return len(r.ControllerCustomers()) > 0 }

// stepCustomer is a customer the plan computes steps for, with its
// reference.
type stepCustomer struct {
	Customer
	Ref string
}

// stepCustomers lists the customers that get steps: every controller
// customer, and every customer once owed a notice (rule 11 keeps it owed
// until a weakening is confirmed). Several: the steps carry references.
func (p *Plan) stepCustomers() []stepCustomer {
	all := p.req.allCustomers()
	var out []stepCustomer
	in := map[string]bool{}
	for i, c := range all {
		if c.Controller || p.owedCustomers[c.ID] {
			out = append(out, stepCustomer{Customer: c, Ref: customerRef(i)})
			in[c.ID] = true
		}
	}
	for _, id := range p.owedCustomerOrder {
		if !in[id] {
			out = append(out, stepCustomer{Customer: Customer{ID: id}, Ref: customerRef(len(all) + len(out))})
		}
	}
	return out
}

// customerIDByRef resolves a reference as the plan in force names it; an
// empty reference is the first controller customer (events recorded
// before several customers existed, or a request with one).
func (p *Plan) customerIDByRef(ref string) string {
	if ref == "" {
		if cs := p.stepCustomers(); len(cs) > 0 {
			return cs[0].ID
		}
		return ""
	}
	for _, c := range p.stepCustomers() {
		if c.Ref == ref {
			return c.ID
		}
	}
	for i, c := range p.req.allCustomers() {
		if customerRef(i) == ref {
			return c.ID
		}
	}
	return ""
}

// severalCustomers reports whether steps carry customer references.
func (p *Plan) severalCustomers() bool { return len(p.stepCustomers()) > 1 }

// redirectFor returns the redirect answer recorded for customer id.
func (p *Plan) redirectFor(id string) (RedirectRecord, bool) {
	for i := len(p.redirects) - 1; i >= 0; i-- {
		if p.redirects[i].Customer == id {
			return p.redirects[i], true
		}
	}
	return RedirectRecord{}, false
}

// allRedirected reports whether every controller customer's authority
// agreed to go to the customer: only then is the request redirected.
func (p *Plan) allRedirected() bool {
	cs := p.stepCustomers()
	if len(cs) == 0 {
		return false
	}
	for _, c := range cs {
		r, ok := p.redirectFor(c.ID)
		if !ok || r.Outcome != RedirectAgreed {
			return false
		}
	}
	return true
}

// deliveredTo returns the first accepted customer notice to customer id.
func (p *Plan) deliveredTo(id string) (Delivery, bool) {
	for _, d := range p.deliveries {
		if d.Step == StepNotifyCustomer && !d.Failed && d.Customer == id {
			return d, true
		}
	}
	return Delivery{}, false
}

// lastFailedTo reports whether the last customer notice attempt to
// customer id failed.
func (p *Plan) lastFailedTo(id string) (Delivery, bool) {
	for i := len(p.deliveries) - 1; i >= 0; i-- {
		if d := p.deliveries[i]; d.Step == StepNotifyCustomer && d.Customer == id {
			return d, d.Failed
		}
	}
	return Delivery{}, false
}

// CustomerStep returns the step of kind k of the customer with reference
// ref ("" for a request with one customer).
func (p *Plan) CustomerStep(k StepKind, ref string) (Step, bool) {
	for _, s := range p.steps {
		if s.Kind == k && (s.CustomerRef == ref || (ref == "" && !p.severalCustomers())) {
			return s, true
		}
	}
	return Step{}, false
}

// customerSteps returns the steps of kind k, one per customer.
func (p *Plan) customerSteps(k StepKind) []Step {
	var out []Step
	for _, s := range p.steps {
		if s.Kind == k {
			out = append(out, s)
		}
	}
	return out
}

// stepOf returns the step of kind k of customer id.
func (p *Plan) stepOf(k StepKind, id string) Step {
	for _, s := range p.steps {
		if s.Kind == k && s.customer == id {
			return s
		}
	}
	return Step{Kind: k}
}

// NoticeRecipients lists the controller customers whose notice is to be
// sent at now, with their references (see [Plan.NoticeOwedTo]).
func (p *Plan) NoticeRecipients(now time.Time) []CustomerNoticeDue {
	return p.noticeRecipients(now, false)
}

// NoticeRecipientsEver lists the controller customers whose notice is to
// be sent at some time from now on: those of [Plan.NoticeRecipients] now,
// and those whose notice a prohibition's end date or a scheduled time
// makes owed later. Only an event changes it.
func (p *Plan) NoticeRecipientsEver() []CustomerNoticeDue {
	return p.noticeRecipients(time.Time{}, true)
}

func (p *Plan) noticeRecipients(now time.Time, ever bool) []CustomerNoticeDue {
	var out []CustomerNoticeDue
	for _, s := range p.customerSteps(StepNotifyCustomer) {
		if s.customer != "" && p.noticeOwedTo(s.customer, now, ever) {
			c := p.customer(s.customer)
			out = append(out, CustomerNoticeDue{Customer: c, Ref: s.CustomerRef})
		}
	}
	return out
}

// CustomerNoticeDue is one customer whose notice is due.
type CustomerNoticeDue struct {
	Customer Customer
	// Ref is empty for a request with one customer.
	Ref string
}

func (p *Plan) customer(id string) Customer {
	for _, c := range p.req.allCustomers() {
		if c.ID == id {
			return c
		}
	}
	return Customer{ID: id}
}

func (p *Plan) resolveDelivery(d Delivery) Delivery {
	if d.Step == StepNotifyCustomer && d.Customer == "" {
		d.Customer = p.customerIDByRef(d.CustomerRef)
	}
	return d
}

func (p *Plan) resolveExemption(e Exemption) Exemption {
	if e.Step == StepNotifyCustomer && e.CustomerRef != "" && e.Customer == "" {
		e.Customer = p.customerIDByRef(e.CustomerRef)
	}
	return e
}

// customerFor resolves the customer reference a command names: required
// when the request has several controller customers.
func (p *Plan) customerFor(ref string) (string, error) {
	cs := p.stepCustomers()
	if ref == "" {
		if len(cs) > 1 {
			return "", ddrerr.Invalid(ddrerr.FieldViolation{Field: "customer_ref", Description: "required: the request has several controller customers (c1 to " + cs[len(cs)-1].Ref + ")"})
		}
		if len(cs) == 1 {
			return cs[0].ID, nil
		}
		return "", nil
	}
	for _, c := range cs {
		if c.Ref == ref {
			return c.ID, nil
		}
	}
	return "", ddrerr.Invalid(ddrerr.FieldViolation{Field: "customer_ref", Description: "no controller customer of this request has this reference"})
}
