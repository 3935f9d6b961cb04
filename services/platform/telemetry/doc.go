// Package telemetry wires OpenTelemetry tracing and ties logs to traces.
// Every process calls [Setup] once so that trace ids exist everywhere, even
// with no collector, and logs through [NewLogger] so that each log line
// written with a context names the trace it belongs to.
package telemetry
