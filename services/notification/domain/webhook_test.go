package domain_test

import (
	"testing"

	"github.com/ddrsuite/ddr/services/notification/domain"
)

func TestDeliveryIDStablePerRequestStepRecipient(t *testing.T) {
	id := domain.DeliveryID("req-1", domain.StepNotifyCustomer, "a@b")
	if id != domain.DeliveryID("req-1", domain.StepNotifyCustomer, "a@b") {
		t.Fatal("not deterministic")
	}
	for _, other := range []string{
		domain.DeliveryID("req-2", domain.StepNotifyCustomer, "a@b"),
		domain.DeliveryID("req-1", domain.StepHoldAndConsultDPA, "a@b"),
		domain.DeliveryID("req-1", domain.StepNotifyCustomer, "c@d"),
		domain.DeliveryID("req-1a", domain.StepNotifyCustomer, "@b"), // framing: no shifting of bytes between fields
	} {
		if other == id {
			t.Fatalf("collision: %s", other)
		}
	}
}
