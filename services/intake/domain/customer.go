package domain

import (
	"fmt"
	"strings"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Customer is one business customer a request concerns (issue 16): a
// request may name several, each controller or not, each with its own
// establishment.
type Customer struct {
	ID   string       // customers[i].customer_id
	Role CustomerRole // customers[i].role; empty: unknown
	// Establishment is the ISO country of the customer's establishment:
	// its DPA is competent too (2.2). Empty when unknown.
	Establishment string // customers[i].establishment
}

// CustomerRole says whether the company processes the customer's data on
// its behalf.
type CustomerRole string

// Customer roles. The empty role is unknown, which assessment reads as
// controller, the stricter reading (4.1.1, 4.1.2), until staff correct it.
const (
	CustomerController    CustomerRole = "controller"
	CustomerNotController CustomerRole = "not_controller"
)

// CustomerRoles lists every known customer role.
func CustomerRoles() []CustomerRole {
	return []CustomerRole{CustomerController, CustomerNotController}
}

// DefaultMaxCustomers bounds the customers of one request (the proto's
// max_items).
const DefaultMaxCustomers = 20

// AllCustomers returns the customers the request concerns, in one form:
// the customers list, or, for a request in the one-customer form written
// before it existed (customer_id, customer_establishment), that one
// customer with an unknown role. Validate refuses a request giving both.
func (r Request) AllCustomers() []Customer {
	if len(r.Customers) > 0 {
		return append([]Customer(nil), r.Customers...)
	}
	if r.CustomerID != "" {
		return []Customer{{ID: r.CustomerID, Establishment: r.CustomerEstablishment}}
	}
	return nil
}

// customers checks the customers list and how it combines with the
// one-customer form: one form or the other, never both, so that no rule
// has to guess which of two customer lists holds.
func (v *violations) customers(r Request, l Limits) {
	if len(r.Customers) == 0 {
		return
	}
	if r.CustomerID != "" || r.CustomerEstablishment != "" {
		v.add("customers", "give the customers either here or in customer_id and customer_establishment, not both")
	}
	if len(r.Customers) > DefaultMaxCustomers {
		v.add("customers", fmt.Sprintf("must list at most %d customers", DefaultMaxCustomers))
		return
	}
	seen := make(map[string]int, len(r.Customers))
	for i, c := range r.Customers {
		field := fmt.Sprintf("customers[%d]", i)
		idOK := v.text(field+".customer_id", c.ID, l.MaxValueLen, true)
		enum(v, field+".role", c.Role, CustomerRoles(), false)
		if e := c.Establishment; e != "" && (!policy.ParseCountry(e).Assigned() || e != strings.ToUpper(e)) {
			v.add(field+".establishment", "must be an assigned ISO 3166-1 alpha-2 code")
		}
		if !idOK {
			continue
		}
		// The description names the other index, never the id: it may be
		// a sole trader's name.
		if j, dup := seen[c.ID]; dup {
			v.add(field+".customer_id", fmt.Sprintf("duplicates customers[%d].customer_id", j))
			continue
		}
		seen[c.ID] = i
	}
}
