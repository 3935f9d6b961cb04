package codec

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

func TestReopenTriggersAndCustomerRolesRoundTrip(t *testing.T) {
	roundTrip(t, ReopenTriggers.Domain, ReopenTriggers.Proto)
	for _, r := range []domain.CustomerRole{domain.RoleUnknown, domain.RoleController, domain.RoleNotController} {
		back := CustomersToDomain(CustomersToProto([]domain.Customer{{ID: "c", Role: r}}))
		if back[0].Role != r {
			t.Errorf("role %q read back as %q", r, back[0].Role)
		}
	}
}

// The issue-16 events assessment writes fold back to the domain events the
// commands decided.
func TestLifecycleEventsRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	yes, country := true, "US"
	k := domain.FactCorrection{ID: "k1", CustomersSet: true, Customers: []domain.Customer{{ID: "c1", Role: domain.RoleNotController, Establishment: "DE"}},
		Prohibition: &domain.Gag{Present: true, Reference: "G-1", Expires: at.AddDate(0, 1, 0)}, AuthorityCountry: &country, EmergencyClaimed: &yes}
	f := domain.RequestFacts{RequestID: "r", ReceivedAt: at, AuthorityCountry: "US"}
	m := domain.Meta{By: "spiffe://ddr.test/staff/alice", At: at}
	evs := []domain.Event{
		domain.CaseReopened{Meta: domain.Meta{At: at}, Trigger: domain.ReopenRedirectDeclined, CauseEventID: "cause", SupersededDecisionID: "D1", Reason: "why"},
		domain.InformationRequested{Meta: m, Question: "which?"},
		domain.WithdrawalAcknowledged{Meta: m, AfterDisclosure: true},
		domain.CaseLinked{Meta: m, LinkedRequestID: "r2", Reason: "same"},
		domain.FactCorrectionProposed{Meta: m, Correction: k, Reason: "because", Weakens: []domain.Weakening{{Clause: policy.Clause4_1, Reason: "w"}},
			Lift: policy.Lift{ID: "fact-correction/k1", Clause: policy.Clause4_1, What: "x", Basis: "because", Evidence: "e", RecordedBy: m.By, RecordedAt: at, ConfirmRoles: []policy.Role{policy.RoleApprover}}},
		domain.FactsCorrected{Meta: m, CorrectionID: "k1", Correction: k, Reason: "because", ProposedBy: m.By, ConfirmedBy: "spiffe://ddr.test/staff/bob",
			Facts: k.Apply(f), Flags: nil},
	}
	e := Encoder{RequestID: "r", Facts: f, Now: at, ID: func(p ...string) string { return eventstore.DerivedID(append([]string{"t"}, p...)...) }}
	out, err := e.Encode(evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(evs) {
		t.Fatalf("%d events written, want %d", len(out), len(evs))
	}
	for i, w := range out {
		w.Actor = evs[i].Actor()
		got, err := Decode(w, f, domain.Rules{})
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %v %v", evs[i].EventName(), got, err)
		}
		if d := cmp.Diff(evs[i], got[0], cmpopts.EquateEmpty(), cmpopts.IgnoreFields(domain.FactsCorrected{}, "Notification")); d != "" {
			t.Errorf("%s round trip (-want +got):\n%s", evs[i].EventName(), d)
		}
	}
}

// Clause 4.1: the facts name every customer of the request, each with its
// role; a request naming only the legacy customer_id has that one customer,
// of unknown role, read as controller.
func TestClause4_1_FactsFromReceivedNameEveryCustomer(t *testing.T) {
	rr := &intakev1.RequestReceived{RequestId: "r", Request: &intakev1.DataDisclosureRequest{Customers: []*intakev1.Customer{
		{CustomerId: "billing", Role: intakev1.CustomerRole_CUSTOMER_ROLE_NOT_CONTROLLER},
		{CustomerId: "tenant", Role: intakev1.CustomerRole_CUSTOMER_ROLE_CONTROLLER, Establishment: "FR"},
	}}}
	f := FactsFromReceived(rr)
	if len(f.Customers) != 2 || !f.CustomerIsController || f.CustomerID != "tenant" || f.CustomerEstablishment != "FR" {
		t.Fatalf("facts %+v", f)
	}
	legacy := FactsFromReceived(&intakev1.RequestReceived{RequestId: "r", Request: &intakev1.DataDisclosureRequest{CustomerId: "cust-1"}})
	if len(legacy.Customers) != 1 || legacy.Customers[0].Role != domain.RoleUnknown || !legacy.CustomerIsController {
		t.Fatalf("legacy facts %+v", legacy)
	}
	none := FactsFromReceived(&intakev1.RequestReceived{RequestId: "r", Request: &intakev1.DataDisclosureRequest{}})
	if len(none.Customers) != 0 || none.CustomerIsController {
		t.Fatalf("no customer: %+v", none)
	}
	if p := factsToProto(f, ""); len(p.GetCustomers()) != 2 {
		t.Fatalf("CaseFacts.customers %v", p.GetCustomers())
	}
}

// An event without its own time (written before the field existed) is
// dated by the stream; one with it keeps it, whichever file decodes it.
func TestDecodeDatesAnEventByItsOwnTimeElseTheStoredTime(t *testing.T) {
	stored := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	own := stored.Add(-time.Hour)
	for _, tc := range []struct {
		name       string
		with, none proto.Message
	}{
		{"lifecycle", &assessmentv1.CaseLinked{LinkTime: timestamppb.New(own)}, &assessmentv1.CaseLinked{}},
		{"verification", &assessmentv1.AuthorityFlagged{FlagTime: timestamppb.New(own)}, &assessmentv1.AuthorityFlagged{}},
		{"clocks", &assessmentv1.DeadlineMet{MetTime: timestamppb.New(own)}, &assessmentv1.DeadlineMet{}},
		{"withdrawal", &intakev1.RequestWithdrawn{WithdrawTime: timestamppb.New(own)}, &intakev1.RequestWithdrawn{}},
	} {
		for want, p := range map[time.Time]proto.Message{own: tc.with, stored: tc.none} {
			evs, err := Decode(eventstore.Event{Time: stored, Actor: "a", Payload: p}, domain.RequestFacts{}, domain.Rules{})
			if err != nil || len(evs) != 1 {
				t.Fatalf("%s: Decode = %v, %v; want one event", tc.name, evs, err)
			}
			if got := evs[0].OccurredAt(); !got.Equal(want) {
				t.Errorf("%s: dated %v, want %v", tc.name, got, want)
			}
		}
	}
}
