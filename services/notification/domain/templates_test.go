package domain_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

func summary() domain.RequestSummary {
	return domain.RequestSummary{
		RequestID: "req-1", RequestingBody: "Metropolitan Police", AuthorityKind: "police", AuthorityCountry: "CN",
		ReceivedAt: t0, LegalBasis: "production order 2026/14", DataRequested: []string{"ticket content", "login IPs"},
		TimeRange: "2026-01-01 to 2026-02-01", TargetCount: 2, Deadline: t0.Add(14 * 24 * time.Hour),
	}
}

func TestClause4_1_2_CustomerNoticeGivesDetailsOfRequest(t *testing.T) {
	subject, body, err := domain.RenderCustomerNotice(domain.CustomerNotice{
		Customer: domain.Customer{Controller: true, ID: "cust-42"}, Request: summary(),
		Targets: []string{"user-7", "user-9"}, Contact: "privacy@corp.example",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(subject, "req-1") {
		t.Errorf("subject %q", subject)
	}
	for _, s := range []string{"Metropolitan Police", "production order 2026/14", "ticket content, login IPs", "user-7", "user-9", "privacy@corp.example", "4.1.2"} {
		if !strings.Contains(body, s) {
			t.Errorf("notice lacks %q:\n%s", s, body)
		}
	}
}

func TestClause4_1_2_CustomerNoticeRefusedWhenCustomerNotController(t *testing.T) {
	_, _, err := domain.RenderCustomerNotice(domain.CustomerNotice{Customer: domain.Customer{ID: "cust-42"}, Request: summary(), Targets: []string{"user-7"}})
	wantPolicy(t, err, "4.1.2", "NO_CUSTOMER_NOTICE")
}

func TestClause4_2_1_DPAPacketHasDataRequestedBodyAndLegalBasis(t *testing.T) {
	_, body, err := domain.RenderDPAPacket(domain.DPAPacket{
		DPA: "DPC-IE", Request: summary(), HoldPlacedAt: t0, Contact: "privacy@corp.example",
		Adequacy: policy.Adequacy{Country: "CN", Reason: "CN: no adequacy decision and not in the EEA"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Metropolitan Police", "production order 2026/14", "ticket content, login IPs", "no adequacy decision", "concerned: 2"} {
		if !strings.Contains(body, s) {
			t.Errorf("packet lacks %q:\n%s", s, body)
		}
	}
}

// For an adequate country the packet notifies and consults (2.2) and
// claims no hold that does not stand.
func TestClause2_2_DPAPacketWithoutAHoldSaysNoHold(t *testing.T) {
	_, body, err := domain.RenderDPAPacket(domain.DPAPacket{
		DPA: "DPC-IE", Request: summary(), Contact: "privacy@corp.example",
		Adequacy: policy.Adequacy{Country: "DE", Adequate: true, Reason: "DE (eea, general)"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "hold") || !strings.Contains(body, "clause\n2.2") {
		t.Errorf("packet for an adequate country:\n%s", body)
	}
	_, held, err := domain.RenderDPAPacket(domain.DPAPacket{DPA: "DPC-IE", Request: summary(), HoldPlacedAt: t0, Contact: "privacy@corp.example"})
	if err != nil || !strings.Contains(held, "on hold") || !strings.Contains(held, "On hold since:") {
		t.Errorf("packet for a held request: %v\n%s", err, held)
	}
}

// Only the customer notice may carry target identifiers; the packet and the
// shared summary have no field that could hold them.
func TestDPAPacketCannotCarryTargetIdentifiers(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[domain.DPAPacket](), reflect.TypeFor[domain.RequestSummary]()} {
		for f := range typ.Fields() {
			if f.Type.Kind() == reflect.Slice && f.Name != "DataRequested" {
				t.Errorf("%s.%s is a list that could carry identifiers", typ.Name(), f.Name)
			}
			if strings.Contains(strings.ToLower(f.Name), "target") && f.Type.Kind() != reflect.Int {
				t.Errorf("%s.%s may carry targets", typ.Name(), f.Name)
			}
		}
	}
}
