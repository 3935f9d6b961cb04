package adapters

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
)

// Header names of a webhook delivery besides [domain.SignatureHeader].
const (
	// IdempotencyKeyHeader carries the delivery id: the same on every
	// retry, so the receiver can drop a repeat.
	IdempotencyKeyHeader = "Idempotency-Key"
	DeliveryIDHeader     = "DDR-Delivery-Id"
)

// WebhookPayload is the JSON body of a webhook notice.
type WebhookPayload struct {
	DeliveryID string    `json:"delivery_id"`
	RequestID  string    `json:"request_id"`
	Kind       string    `json:"kind"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body"`
	SentAt     time.Time `json:"sent_at"`
}

// Webhooks posts notices signed with HMAC-SHA256 over the timestamp and
// body (header DDR-Signature: t=<unix>,v1=<hex>). Any 2xx is a delivery;
// anything else, or no answer, a failure to retry.
type Webhooks struct {
	// Client defaults to one with a 30 s timeout.
	Client *http.Client
	// Now signs and dates; default time.Now.
	Now func() time.Time
}

var _ app.WebhookSender = (*Webhooks)(nil)

// PostWebhook implements app.WebhookSender.
func (w *Webhooks) PostWebhook(ctx context.Context, hook app.Webhook, m app.Message) (string, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	at := now().UTC()
	body, err := json.Marshal(WebhookPayload{DeliveryID: m.DeliveryID, RequestID: m.RequestID, Kind: m.Kind, Subject: m.Subject, Body: m.Body, SentAt: at})
	if err != nil {
		return "", &app.SendError{Reason: "webhook: cannot encode", Err: err}
	}
	sig, err := domain.SignWebhook([]byte(hook.Secret), body, at)
	if err != nil {
		return "", &app.SendError{Reason: "webhook: cannot sign", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return "", &app.SendError{Reason: "webhook: bad request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(domain.SignatureHeader, sig)
	req.Header.Set(IdempotencyKeyHeader, m.DeliveryID)
	req.Header.Set(DeliveryIDHeader, m.DeliveryID)
	resp, err := client.Do(req)
	if err != nil {
		return "", &app.SendError{Reason: "webhook: no answer", Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", &app.SendError{Reason: fmt.Sprintf("webhook: HTTP %d", resp.StatusCode), Err: fmt.Errorf("status %s", resp.Status)}
	}
	return "HTTP " + resp.Status, nil
}
