package grpcserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"go.opentelemetry.io/otel/trace"
)

// traceID names the call in an Internal error message and in the log line
// holding the real error, so that an operator can go from one to the other.
// Without a span (telemetry not set up) a random id of the same shape keeps
// that link working.
func traceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
