package grpcserver

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
)

// ToStatus maps err to the status a client sees.
//
//   - *ddrerr.ValidationError: InvalidArgument with errdetails.BadRequest.
//   - *ddrerr.PolicyViolation: FailedPrecondition with
//     errdetails.PreconditionFailure and errdetails.ErrorInfo naming the clause.
//   - the ddrerr sentinels: NotFound, PermissionDenied, AlreadyExists,
//     Aborted (ErrConflict), FailedPrecondition, Unavailable, with
//     err.Error() as the message, so wrap them with text fit for callers.
//   - context.Canceled, context.DeadlineExceeded: Canceled, DeadlineExceeded.
//   - an error carrying a gRPC status (e.g. from a downstream call): that status.
//   - anything else: Internal with a fixed message, never err.Error(), which
//     may hold internals. The server's interceptor adds the trace id to the
//     message and logs err; ToStatus has no context to do either.
//
// A nil err gives an OK status.
func ToStatus(err error) *status.Status {
	if s, ok := knownStatus(err); ok {
		return s
	}
	return status.New(codes.Internal, "internal error")
}

// knownStatus maps the errors whose text is safe to show; ok is false for
// anything else.
func knownStatus(err error) (s *status.Status, ok bool) {
	if err == nil {
		return status.New(codes.OK, ""), true
	}
	// The one disposition rule (ddrerr.Classify): a permanent failure is
	// ours, not the caller's, whatever it wraps; INTERNAL.
	if ddrerr.Classify(err) == ddrerr.DeadLetter {
		return nil, false
	}
	var ve *ddrerr.ValidationError
	if errors.As(err, &ve) {
		return validationStatus(ve), true
	}
	var pv *ddrerr.PolicyViolation
	if errors.As(err, &pv) {
		return policyStatus(pv), true
	}
	for _, m := range sentinelCodes {
		if errors.Is(err, m.err) {
			return status.New(m.code, err.Error()), true
		}
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus(), true
	}
	return nil, false
}

// sentinelCodes is ordered: an error matching several takes the first.
var sentinelCodes = []struct {
	err  error
	code codes.Code
}{
	{ddrerr.ErrNotFound, codes.NotFound},
	{ddrerr.ErrPermissionDenied, codes.PermissionDenied},
	{ddrerr.ErrAlreadyExists, codes.AlreadyExists},
	{ddrerr.ErrConflict, codes.Aborted},
	{ddrerr.ErrFailedPrecondition, codes.FailedPrecondition},
	{ddrerr.ErrUnavailable, codes.Unavailable},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

func validationStatus(ve *ddrerr.ValidationError) *status.Status {
	br := &errdetails.BadRequest{}
	for _, v := range ve.Violations {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: v.Field, Description: v.Description,
		})
	}
	return withDetails(status.New(codes.InvalidArgument, ve.Error()), br)
}

func policyStatus(pv *ddrerr.PolicyViolation) *status.Status {
	s := status.New(codes.FailedPrecondition, "policy clause "+pv.Clause+": "+pv.Reason)
	// One violation per blocking clause, most specific first, so that a
	// refusal blocked by 4.1.2 and 4.2.1 at once names both (issue 15 item
	// 10); a reader that takes the first gets the same clause as before.
	clauses := pv.Clauses
	if len(clauses) == 0 {
		clauses = []string{pv.Clause}
	}
	violations := make([]*errdetails.PreconditionFailure_Violation, 0, len(clauses))
	for _, c := range clauses {
		violations = append(violations, &errdetails.PreconditionFailure_Violation{
			Type: grpcstatus.PolicyViolationType, Subject: grpcstatus.ClauseSubjectPrefix + c, Description: pv.Reason,
		})
	}
	meta := map[string]string{grpcstatus.ClauseMetadataKey: pv.Clause}
	if len(pv.Clauses) > 0 {
		meta[grpcstatus.ClausesMetadataKey] = strings.Join(pv.Clauses, ",")
	}
	return withDetails(s,
		&errdetails.PreconditionFailure{Violations: violations},
		&errdetails.ErrorInfo{Reason: pv.Rule, Domain: grpcstatus.ErrorDomain, Metadata: meta},
	)
}

// withDetails falls back to the bare status: WithDetails only fails for
// an OK status or unmarshalable details, neither of which happens here,
// and losing details beats losing the code.
func withDetails(s *status.Status, details ...protoadapt.MessageV1) *status.Status {
	if d, err := s.WithDetails(details...); err == nil {
		return d
	}
	return s
}
