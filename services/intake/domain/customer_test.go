package domain_test

import (
	"reflect"
	"testing"

	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// Issue 16 item 5: a request names several customers, each controller or
// not, each with its establishment; the one-customer form stays valid on
// its own, never beside the list.
func TestClause4_1_CustomersAtIntake(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *domain.Request)
		want   []ddrerr.FieldViolation
	}{
		{"several customers", func(r *domain.Request) {
			r.Customers = []domain.Customer{{ID: "acme", Role: domain.CustomerController, Establishment: "DE"}, {ID: "globex", Role: domain.CustomerNotController}, {ID: "initech"}}
		}, nil},
		{"the one-customer form alone", func(r *domain.Request) { r.CustomerID, r.CustomerEstablishment = "acme", "FR" }, nil},
		{"both forms", func(r *domain.Request) {
			r.CustomerID = "acme"
			r.Customers = []domain.Customer{{ID: "globex"}}
		}, []ddrerr.FieldViolation{fv("customers", "give the customers either here or in customer_id and customer_establishment, not both")}},
		{"duplicate id", func(r *domain.Request) {
			r.Customers = []domain.Customer{{ID: "acme"}, {ID: "acme", Role: domain.CustomerController}}
		}, []ddrerr.FieldViolation{fv("customers[1].customer_id", "duplicates customers[0].customer_id")}},
		{"missing id, unknown role, bad establishment", func(r *domain.Request) {
			r.Customers = []domain.Customer{{ID: "acme"}, {ID: " ", Role: "owner", Establishment: "de"}}
		}, []ddrerr.FieldViolation{
			fv("customers[1].customer_id", "required"),
			fv("customers[1].role", "must be one of controller, not_controller"),
			fv("customers[1].establishment", "must be an assigned ISO 3166-1 alpha-2 code"),
		}},
		{"too many", func(r *domain.Request) {
			for i := range domain.DefaultMaxCustomers + 1 {
				r.Customers = append(r.Customers, domain.Customer{ID: string(rune('a' + i))})
			}
		}, []ddrerr.FieldViolation{fv("customers", "must list at most 20 customers")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.mutate(&r)
			assertViolations(t, r.Validate(now, domain.Limits{}), tt.want)
		})
	}
}

func TestRequest_AllCustomers(t *testing.T) {
	r := validRequest()
	if got := r.AllCustomers(); got != nil {
		t.Errorf("no customer named: %+v", got)
	}
	r.CustomerID, r.CustomerEstablishment = "acme", "FR"
	if got, want := r.AllCustomers(), []domain.Customer{{ID: "acme", Establishment: "FR"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("the one-customer form: %+v, want %+v (role unknown)", got, want)
	}
	r.CustomerID, r.CustomerEstablishment = "", ""
	r.Customers = []domain.Customer{{ID: "a", Role: domain.CustomerNotController}, {ID: "b"}}
	if got := r.AllCustomers(); !reflect.DeepEqual(got, r.Customers) {
		t.Errorf("the list: %+v", got)
	}
}
