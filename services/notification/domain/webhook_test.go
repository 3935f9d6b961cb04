package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/domain"
)

func TestWebhookSignatureVerifies(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"request_id":"req-1"}`)
	h, err := domain.SignWebhook(secret, body, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "t=1772442000,v1=") || len(h) != len("t=1772442000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := domain.VerifyWebhook(secret, body, h, t0.Add(time.Minute), domain.DefaultSignatureTolerance); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

func TestWebhookSignatureRejects(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"request_id":"req-1"}`)
	good, _ := domain.SignWebhook(secret, body, t0)
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		now    time.Time
		want   error
	}{
		{"tampered body", secret, []byte(`{"request_id":"req-2"}`), good, t0, domain.ErrSignatureMismatch},
		{"wrong secret", []byte("other"), body, good, t0, domain.ErrSignatureMismatch},
		{"tampered timestamp", secret, body, strings.Replace(good, "t=1772442000", "t=1772442001", 1), t0, domain.ErrSignatureMismatch},
		{"stale", secret, body, good, t0.Add(domain.DefaultSignatureTolerance + time.Second), domain.ErrSignatureStale},
		{"from the future", secret, body, good, t0.Add(-domain.DefaultSignatureTolerance - time.Second), domain.ErrSignatureStale},
		{"no signature", secret, body, "t=1772442000", t0, domain.ErrSignatureMalformed},
		{"no timestamp", secret, body, good[strings.Index(good, "v1="):], t0, domain.ErrSignatureMalformed},
		{"not hex", secret, body, "t=1772442000,v1=zz", t0, domain.ErrSignatureMalformed},
		{"empty header", secret, body, "", t0, domain.ErrSignatureMalformed},
		{"no secret", nil, body, good, t0, domain.ErrSignatureNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.VerifyWebhook(tt.secret, tt.body, tt.header, tt.now, domain.DefaultSignatureTolerance)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWebhookSignatureAcceptsEitherSecretDuringRotation(t *testing.T) {
	body := []byte("{}")
	oldH, _ := domain.SignWebhook([]byte("old"), body, t0)
	newH, _ := domain.SignWebhook([]byte("new"), body, t0)
	both := oldH + "," + newH[strings.Index(newH, "v1="):]
	for _, s := range []string{"old", "new"} {
		if err := domain.VerifyWebhook([]byte(s), body, both, t0, time.Minute); err != nil {
			t.Errorf("secret %s: %v", s, err)
		}
	}
}

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
