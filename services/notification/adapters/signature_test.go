package adapters_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/notification/adapters"
)

// t0 is 1772442000 in Unix seconds, the timestamp the headers below spell.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestWebhookSignatureVerifies(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"request_id":"req-1"}`)
	h, err := adapters.SignWebhook(secret, body, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "t=1772442000,v1=") || len(h) != len("t=1772442000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := adapters.VerifyWebhook(secret, body, h, t0.Add(time.Minute), adapters.DefaultSignatureTolerance); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

func TestWebhookSignatureRejects(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"request_id":"req-1"}`)
	good, _ := adapters.SignWebhook(secret, body, t0)
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		now    time.Time
		want   error
	}{
		{"tampered body", secret, []byte(`{"request_id":"req-2"}`), good, t0, adapters.ErrSignatureMismatch},
		{"wrong secret", []byte("other"), body, good, t0, adapters.ErrSignatureMismatch},
		{"tampered timestamp", secret, body, strings.Replace(good, "t=1772442000", "t=1772442001", 1), t0, adapters.ErrSignatureMismatch},
		{"stale", secret, body, good, t0.Add(adapters.DefaultSignatureTolerance + time.Second), adapters.ErrSignatureStale},
		{"from the future", secret, body, good, t0.Add(-adapters.DefaultSignatureTolerance - time.Second), adapters.ErrSignatureStale},
		{"no signature", secret, body, "t=1772442000", t0, adapters.ErrSignatureMalformed},
		{"no timestamp", secret, body, good[strings.Index(good, "v1="):], t0, adapters.ErrSignatureMalformed},
		{"not hex", secret, body, "t=1772442000,v1=zz", t0, adapters.ErrSignatureMalformed},
		{"empty header", secret, body, "", t0, adapters.ErrSignatureMalformed},
		{"no secret", nil, body, good, t0, adapters.ErrSignatureNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := adapters.VerifyWebhook(tt.secret, tt.body, tt.header, tt.now, adapters.DefaultSignatureTolerance)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWebhookSignatureAcceptsEitherSecretDuringRotation(t *testing.T) {
	body := []byte("{}")
	oldH, _ := adapters.SignWebhook([]byte("old"), body, t0)
	newH, _ := adapters.SignWebhook([]byte("new"), body, t0)
	both := oldH + "," + newH[strings.Index(newH, "v1="):]
	for _, s := range []string{"old", "new"} {
		if err := adapters.VerifyWebhook([]byte(s), body, both, t0, time.Minute); err != nil {
			t.Errorf("secret %s: %v", s, err)
		}
	}
}
