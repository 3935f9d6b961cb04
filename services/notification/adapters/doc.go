// Package adapters connects notification's delivery worker to the outside
// world: an SMTP server (net/smtp), webhook endpoints (signed HTTP POSTs)
// and a JetStream KV bucket of delivery leases. The app package defines what
// it needs; these are the real implementations.
package adapters
