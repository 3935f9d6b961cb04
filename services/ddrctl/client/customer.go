package client

import (
	"errors"
	"strings"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
)

// ParseCustomer reads a customer as people type it, ID[:ROLE[:COUNTRY]]:
// ROLE is controller, not-controller, unknown or empty, and COUNTRY the
// ISO 3166-1 alpha-2 code of the customer's establishment (any case), e.g.
// "c-42:controller:de". One spelling for every tool that takes customers
// (ddrctl's --customer, the console's correction form), so a line copied
// from one works in the other. The error says what is wrong but not the
// text given; the caller names the flag or field.
func ParseCustomer(s string) (*intakev1.Customer, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 || parts[0] == "" {
		return nil, errors.New("want ID[:controller|not-controller[:COUNTRY]]")
	}
	c := &intakev1.Customer{CustomerId: parts[0]}
	if len(parts) > 1 {
		switch parts[1] {
		case "", "unknown":
		case "controller":
			c.Role = intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER
		case "not-controller":
			c.Role = intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER
		default:
			return nil, errors.New("role must be controller or not-controller")
		}
	}
	if len(parts) > 2 {
		c.Establishment = strings.ToUpper(parts[2])
	}
	return c, nil
}
