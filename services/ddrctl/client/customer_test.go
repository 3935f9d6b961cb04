package client_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/ddrctl/client"
)

func TestParseCustomer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *intakev1.Customer
	}{
		{"c-1", &intakev1.Customer{CustomerId: "c-1"}},
		{"c-1:unknown", &intakev1.Customer{CustomerId: "c-1"}},
		{"c-1:controller:de", &intakev1.Customer{CustomerId: "c-1", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "DE"}},
		{"c-1:not-controller", &intakev1.Customer{CustomerId: "c-1", Role: intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER}},
		{"c-1::fr", &intakev1.Customer{CustomerId: "c-1", Establishment: "FR"}},
	} {
		got, err := client.ParseCustomer(tc.in)
		if err != nil || !proto.Equal(got, tc.want) {
			t.Errorf("ParseCustomer(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", ":controller", "c-1:owner", "c-1:controller:de:x"} {
		if got, err := client.ParseCustomer(in); err == nil {
			t.Errorf("ParseCustomer(%q) = %v, want an error", in, got)
		}
	}
}
