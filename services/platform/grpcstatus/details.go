// Package grpcstatus is the wire form of a policy refusal and of field
// violations in a gRPC status: the server encodes them (grpcserver.ToStatus)
// and clients decode them with the same constants. It is its own package so
// that a client (services/ddrctl/client) decodes them without importing the
// server.
package grpcstatus

import (
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// Detail values of a policy refusal, written by the server and read here.
const (
	ErrorDomain         = "ddr"
	PolicyViolationType = "POLICY"
	ClauseSubjectPrefix = "clause "
	ClauseMetadataKey   = "clause"
	// ClausesMetadataKey lists every blocking clause, comma-separated, most
	// specific first; absent when only one clause was named.
	ClausesMetadataKey = "clauses"
)

// PolicyViolationFrom recovers the policy refusal from an error returned by
// a gRPC call, so that a client (or a service calling another) can branch on
// the rule instead of parsing messages. ok is false for any other error.
func PolicyViolationFrom(err error) (pv *ddrerr.PolicyViolation, ok bool) {
	s, isStatus := status.FromError(err)
	if !isStatus || s.Code() != codes.FailedPrecondition {
		return nil, false
	}
	pv = &ddrerr.PolicyViolation{}
	for _, d := range s.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if d.GetDomain() == ErrorDomain {
				pv.Rule = d.GetReason()
				pv.Clause = d.GetMetadata()[ClauseMetadataKey]
				if cs := d.GetMetadata()[ClausesMetadataKey]; cs != "" {
					pv.Clauses = strings.Split(cs, ",")
				}
				ok = true
			}
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				if v.GetType() == PolicyViolationType {
					pv.Reason = v.GetDescription()
					if pv.Clause == "" {
						pv.Clause = strings.TrimPrefix(v.GetSubject(), ClauseSubjectPrefix)
					}
				}
			}
		}
	}
	if !ok {
		return nil, false
	}
	return pv, true
}

// FieldViolationsFrom returns the field violations of an InvalidArgument
// error returned by a gRPC call, or nil.
func FieldViolationsFrom(err error) []ddrerr.FieldViolation {
	s, isStatus := status.FromError(err)
	if !isStatus || s.Code() != codes.InvalidArgument {
		return nil
	}
	var out []ddrerr.FieldViolation
	for _, d := range s.Details() {
		if br, isBR := d.(*errdetails.BadRequest); isBR {
			for _, v := range br.GetFieldViolations() {
				out = append(out, ddrerr.FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		}
	}
	return out
}
