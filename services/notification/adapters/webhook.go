package adapters

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ddrsuite/ddr/services/notification/app"
)

// Header names of a webhook delivery besides [SignatureHeader].
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
//
// Endpoints must be https, except on loopback (see app.Target). Every
// connection, redirects included, goes through the rule: the host is
// resolved, a plaintext connection is refused unless every address is
// loopback, and the checked addresses are the ones dialled. Certificates
// are verified against the system roots or RootCAs. No proxy is used: a
// notice goes straight to its endpoint.
type Webhooks struct {
	// RootCAs verify endpoints' certificates; nil: the system roots.
	RootCAs *x509.CertPool
	// Resolver resolves endpoint names; nil: net.DefaultResolver.
	Resolver Resolver
	// Timeout bounds one post; default 30 s.
	Timeout time.Duration
	// Now signs and dates; default time.Now.
	Now func() time.Time

	once   sync.Once
	client *http.Client
}

var _ app.WebhookSender = (*Webhooks)(nil)

// WebhookURLSetting names webhook URLs in the errors of the TLS rule at
// delivery time.
const WebhookURLSetting = "webhook url"

func (w *Webhooks) httpClient() *http.Client {
	w.once.Do(func() {
		timeout := w.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		dial := func(sec app.Security) func(ctx context.Context, network, addr string) (net.Conn, error) {
			return func(ctx context.Context, _, addr string) (net.Conn, error) {
				host, portText, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				port, err := strconv.Atoi(portText)
				if err != nil {
					return nil, err
				}
				t := app.Target{Setting: WebhookURLSetting, Host: host, Port: port, Security: sec}
				return dialChecked(ctx, w.Resolver, t, clientTLS(w.RootCAs, host))
			}
		}
		w.client = &http.Client{
			Timeout: timeout,
			Transport: &http.Transport{
				Proxy:               nil,
				DialContext:         dial(app.Plaintext),   // http://: loopback only
				DialTLSContext:      dial(app.ImplicitTLS), // https://: verified TLS
				TLSHandshakeTimeout: timeout,
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     90 * time.Second,
			},
		}
	})
	return w.client
}

// PostWebhook implements app.WebhookSender.
func (w *Webhooks) PostWebhook(ctx context.Context, hook app.Webhook, m app.Message) (string, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	// The rule as written first: a URL that fails it is not even resolved.
	t, err := app.WebhookTarget(WebhookURLSetting, hook.URL)
	if err == nil {
		err = t.Check()
	}
	if err != nil {
		return "", &app.SendError{Reason: "webhook: refused: https required except to loopback", Err: err}
	}
	client := w.httpClient()
	at := now().UTC()
	body, err := json.Marshal(WebhookPayload{DeliveryID: m.DeliveryID, RequestID: m.RequestID, Kind: m.Kind, Subject: m.Subject, Body: m.Body, SentAt: at})
	if err != nil {
		return "", &app.SendError{Reason: "webhook: cannot encode", Err: err}
	}
	sig, err := SignWebhook([]byte(hook.Secret), body, at)
	if err != nil {
		return "", &app.SendError{Reason: "webhook: cannot sign", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return "", &app.SendError{Reason: "webhook: bad request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, sig)
	req.Header.Set(IdempotencyKeyHeader, m.DeliveryID)
	req.Header.Set(DeliveryIDHeader, m.DeliveryID)
	resp, err := client.Do(req)
	if err != nil {
		var refused *refusedError
		if errors.As(err, &refused) {
			return "", &app.SendError{Reason: "webhook: " + refused.reason, Err: err}
		}
		return "", &app.SendError{Reason: "webhook: no answer", Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", &app.SendError{Reason: fmt.Sprintf("webhook: HTTP %d", resp.StatusCode), Err: fmt.Errorf("status %s", resp.Status)}
	}
	return "HTTP " + resp.Status, nil
}
