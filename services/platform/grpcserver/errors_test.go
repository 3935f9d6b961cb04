package grpcserver_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

// failWith serves a probe whose handler returns the error named by the request.
func failWith(errs map[string]error) *probe {
	return &probe{do: func(_ context.Context, req string) (string, error) {
		return "", errs[req]
	}}
}

func TestHandlerErrorsReachClientAsCodes(t *testing.T) {
	errs := map[string]error{
		"not-found":     fmt.Errorf("%w: request r-1", ddrerr.ErrNotFound),
		"denied":        fmt.Errorf("%w: not your request", ddrerr.ErrPermissionDenied),
		"exists":        fmt.Errorf("%w: request r-1", ddrerr.ErrAlreadyExists),
		"conflict":      fmt.Errorf("%w: retry", ddrerr.ErrConflict),
		"precondition":  fmt.Errorf("%w: request closed", ddrerr.ErrFailedPrecondition),
		"unavailable":   fmt.Errorf("%w: store down", ddrerr.ErrUnavailable),
		"canceled":      fmt.Errorf("load: %w", context.Canceled),
		"deadline":      fmt.Errorf("load: %w", context.DeadlineExceeded),
		"status":        fmt.Errorf("downstream: %w", status.Error(codes.ResourceExhausted, "quota")),
		"invalid":       ddrerr.Invalid(ddrerr.FieldViolation{Field: "country", Description: "must be 2 letters"}),
		"policy":        ddrerr.Policy("4.2.1", "COUNTRY_NOT_ADEQUATE", "transfer needs safeguards"),
		"wrapped-other": fmt.Errorf("decide: %w", ddrerr.Policy("2.1", "DISCLOSE_WITHOUT_BASIS", "no legal basis")),
	}
	f := start(t, grpcserver.Config{}, failWith(errs))
	conn := dial(t, f.addr)

	tests := []struct {
		req     string
		code    codes.Code
		message string
	}{
		{"not-found", codes.NotFound, "not found: request r-1"},
		{"denied", codes.PermissionDenied, "permission denied: not your request"},
		{"exists", codes.AlreadyExists, "already exists: request r-1"},
		{"conflict", codes.Aborted, "conflict: retry"},
		{"precondition", codes.FailedPrecondition, "failed precondition: request closed"},
		{"unavailable", codes.Unavailable, "unavailable: store down"},
		{"canceled", codes.Canceled, "load: context canceled"},
		{"deadline", codes.DeadlineExceeded, "load: context deadline exceeded"},
		{"status", codes.ResourceExhausted, "quota"},
		{"invalid", codes.InvalidArgument, "invalid argument: country: must be 2 letters"},
		{"policy", codes.FailedPrecondition, "policy clause 4.2.1: transfer needs safeguards"},
		{"wrapped-other", codes.FailedPrecondition, "policy clause 2.1: no legal basis"},
	}
	for _, tt := range tests {
		_, err := callDo(t.Context(), conn, tt.req)
		s := status.Convert(err)
		if s.Code() != tt.code || s.Message() != tt.message {
			t.Errorf("%s: got %v %q, want %v %q", tt.req, s.Code(), s.Message(), tt.code, tt.message)
		}
	}
}

func TestValidationErrorReachesClientAsFieldViolations(t *testing.T) {
	want := []ddrerr.FieldViolation{
		{Field: "service", Description: "is required"},
		{Field: "subject.country", Description: "must be 2 letters"},
	}
	f := start(t, grpcserver.Config{}, failWith(map[string]error{"x": ddrerr.Invalid(want...)}))

	_, err := callDo(t.Context(), dial(t, f.addr), "x")

	if diff := cmp.Diff(want, grpcserver.FieldViolationsFrom(err)); diff != "" {
		t.Errorf("field violations (-want +got):\n%s", diff)
	}
	if _, ok := grpcserver.PolicyViolationFrom(err); ok {
		t.Errorf("PolicyViolationFrom(validation error) ok = true")
	}
}

func TestPolicyViolationReachesClientWithClauseAndRule(t *testing.T) {
	want := &ddrerr.PolicyViolation{Clause: "4.2.1", Rule: "COUNTRY_NOT_ADEQUATE", Reason: "transfer needs safeguards"}
	f := start(t, grpcserver.Config{}, failWith(map[string]error{"x": fmt.Errorf("decide: %w", want)}))

	_, err := callDo(t.Context(), dial(t, f.addr), "x")

	got, ok := grpcserver.PolicyViolationFrom(err)
	if !ok {
		t.Fatalf("PolicyViolationFrom(%v) ok = false", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policy violation (-want +got):\n%s", diff)
	}
	if v := grpcserver.FieldViolationsFrom(err); v != nil {
		t.Errorf("FieldViolationsFrom(policy error) = %v, want nil", v)
	}
}

func TestClause4_2_1_RefusalNamesEveryBlockingClauseMostSpecificFirst(t *testing.T) {
	want := &ddrerr.PolicyViolation{
		Clause: "4.1.2", Rule: "NOT_CLEARED", Reason: "notice and hold outstanding",
		Clauses: []string{"4.1.2", "4.2.1", "2.2"},
	}
	f := start(t, grpcserver.Config{}, failWith(map[string]error{"x": want}))

	_, err := callDo(t.Context(), dial(t, f.addr), "x")

	got, ok := grpcserver.PolicyViolationFrom(err)
	if !ok {
		t.Fatalf("PolicyViolationFrom(%v) ok = false", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policy violation (-want +got):\n%s", diff)
	}
	st, _ := status.FromError(err)
	var subjects []string
	for _, d := range st.Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			for _, v := range pf.GetViolations() {
				subjects = append(subjects, v.GetSubject())
			}
		}
	}
	if diff := cmp.Diff([]string{"clause 4.1.2", "clause 4.2.1", "clause 2.2"}, subjects); diff != "" {
		t.Errorf("one violation per clause, in order (-want +got):\n%s", diff)
	}
}

func TestPlainFailedPreconditionIsNotAPolicyViolation(t *testing.T) {
	f := start(t, grpcserver.Config{}, failWith(map[string]error{"x": ddrerr.ErrFailedPrecondition}))

	_, err := callDo(t.Context(), dial(t, f.addr), "x")

	if _, ok := grpcserver.PolicyViolationFrom(err); ok {
		t.Errorf("PolicyViolationFrom(%v) ok = true, want false", err)
	}
}

var internalMessage = regexp.MustCompile(`^internal error; trace id ([0-9a-f]{32})$`)

func TestInternalErrorHidesDetailsAndLogsThemUnderTraceID(t *testing.T) {
	handlerTrace := make(chan string, 1)
	f := start(t, grpcserver.Config{}, &probe{do: func(ctx context.Context, _ string) (string, error) {
		handlerTrace <- traceIDOf(ctx)
		return "", errors.New("dial postgres://app:hunter2@10.0.0.3: refused")
	}})

	_, err := callDo(t.Context(), dial(t, f.addr), "x")

	s := status.Convert(err)
	m := internalMessage.FindStringSubmatch(s.Message())
	if s.Code() != codes.Internal || m == nil {
		t.Fatalf("got %v %q, want Internal %q", s.Code(), s.Message(), internalMessage)
	}
	if want := <-handlerTrace; m[1] != want {
		t.Errorf("message trace id %s, want the handler's trace id %s", m[1], want)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "10.0.0.3") || len(s.Details()) != 0 {
		t.Errorf("client error %v leaks the original error", err)
	}

	logged := f.logs.Lines(t, "internal error")
	if len(logged) != 1 {
		t.Fatalf("%d internal error log lines, want 1:\n%s", len(logged), f.logs)
	}
	if logged[0]["trace_id"] != m[1] || !strings.Contains(fmt.Sprint(logged[0]["error"]), "hunter2") {
		t.Errorf("log line %v lacks trace id %s or the original error", logged[0], m[1])
	}
}

func TestToStatusWithoutServerKeepsInternalsOut(t *testing.T) {
	s := grpcserver.ToStatus(errors.New("secret detail"))
	if s.Code() != codes.Internal || strings.Contains(s.Message(), "secret") {
		t.Errorf("ToStatus(unknown) = %v %q", s.Code(), s.Message())
	}
	if s := grpcserver.ToStatus(nil); s.Err() != nil {
		t.Errorf("ToStatus(nil).Err() = %v, want nil", s.Err())
	}
}
