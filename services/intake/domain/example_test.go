package domain_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/lifecycle"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// A phone call from a police officer, with no paperwork: valid (clause 3.2)
// once the required facts are there. Each problem is one field violation.
func ExampleRequest_Validate() {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	r := domain.Request{
		GroupMember: "zendesk-de-gmbh",
		ReceivedAt:  now.Add(time.Hour),
		Channel:     domain.ChannelPhone,
		Authority:   domain.Authority{Name: "Polizei Berlin", Kind: domain.AuthorityPolice, Country: "de"},
		Targets:     []domain.Target{{Kind: domain.TargetEmail}},
	}
	var ve *ddrerr.ValidationError
	if errors.As(r.Validate(now, domain.Limits{}), &ve) {
		for _, v := range ve.Violations {
			fmt.Printf("%s: %s\n", v.Field, v.Description)
		}
	}
	// Output:
	// received_at: must not be in the future
	// authority.country: must be an ISO 3166-1 alpha-2 code in upper case, or UNKNOWN
	// targets[0].value: required
}

func ExampleLifecycle() {
	received := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	l := domain.NewLifecycle(received)
	_ = l.Apply(domain.Fact{Trigger: lifecycle.CaseOpened, At: received.Add(time.Hour)})
	_ = l.Apply(domain.Fact{Trigger: lifecycle.InformationAsked, At: received.Add(2 * time.Hour), Question: "Which account?"})
	fmt.Println(l.Stage(), l.Question().Text)
	_ = l.Amend(domain.Amendment{At: received.Add(3 * time.Hour), Information: "the account is on page 2"})
	_ = l.Withdraw(received.Add(4 * time.Hour))
	err := l.Amend(domain.Amendment{At: received.Add(5 * time.Hour), Information: "late detail"})
	fmt.Println(err)
	for _, e := range l.Timeline() {
		fmt.Println(e.At.Format(time.Kitchen), e.Stage, orNone(e.Outcome))
	}
	// Output:
	// information_requested Which account?
	// failed precondition: request was withdrawn; it can no longer be amended
	// 9:00AM received -
	// 10:00AM under_review -
	// 11:00AM information_requested -
	// 12:00PM amended -
	// 12:00PM under_review -
	// 1:00PM closed withdrawn
}

func orNone(o policy.Outcome) string {
	if o == "" {
		return "-"
	}
	return string(o)
}
