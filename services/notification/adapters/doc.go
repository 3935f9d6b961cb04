// Package adapters connects notification's delivery worker to the outside
// world: an SMTP server (github.com/wneessen/go-mail), webhook endpoints
// (signed HTTPS POSTs) and a JetStream KV bucket of delivery leases. Both
// senders keep the rule of notices over TLS (app.Target) on every
// connection they open (dial.go). The app package defines what it needs;
// these are the real implementations.
package adapters
