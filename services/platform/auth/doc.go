// Package auth tells a handler who is calling. Callers are named by
// SPIFFE-style URIs (spiffe://<trust-domain>/<kind>/<name>) so that the same
// name works in an mTLS certificate, in an event's ddr-actor header and in
// logs. Handlers read the caller with [FromContext]; the gRPC plumbing
// ([ServerIdentity], [DevCredentials]) puts it there.
package auth
