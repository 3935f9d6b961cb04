package grpcserver

import "github.com/ddrsuite/ddr/services/platform/grpcstatus"

// The decoders live in grpcstatus, so that clients need not import the
// server; these names stay for the services' tests that already use them.
var (
	PolicyViolationFrom = grpcstatus.PolicyViolationFrom
	FieldViolationsFrom = grpcstatus.FieldViolationsFrom
)
