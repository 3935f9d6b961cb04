package ddrerr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

func TestValidationErrorIsFoundThroughWrapping(t *testing.T) {
	err := fmt.Errorf("create request: %w", ddrerr.Invalid(
		ddrerr.FieldViolation{Field: "country", Description: "must be an ISO 3166-1 alpha-2 code"},
	))

	var ve *ddrerr.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("errors.As(%v, *ValidationError) = false", err)
	}
	want := []ddrerr.FieldViolation{{Field: "country", Description: "must be an ISO 3166-1 alpha-2 code"}}
	if diff := cmp.Diff(want, ve.Violations); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

func TestValidationErrorMessageListsEveryViolation(t *testing.T) {
	err := ddrerr.Invalid(
		ddrerr.FieldViolation{Field: "a", Description: "is required"},
		ddrerr.FieldViolation{Field: "b.c", Description: "too long"},
	)
	if got, want := err.Error(), "invalid argument: a: is required; b.c: too long"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestCollectorReturnsUntypedNilWhenNothingAdded(t *testing.T) {
	var c ddrerr.Collector
	if err := c.Err(); err != nil {
		t.Fatalf("Err() = %#v, want nil", err)
	}
}

func TestCollectorGathersAllViolationsInOrder(t *testing.T) {
	var c ddrerr.Collector
	c.Add("service", "is required")
	c.Add("reason", "is required")

	var ve *ddrerr.ValidationError
	if !errors.As(c.Err(), &ve) {
		t.Fatalf("Err() = %v, want *ValidationError", c.Err())
	}
	want := []ddrerr.FieldViolation{
		{Field: "service", Description: "is required"},
		{Field: "reason", Description: "is required"},
	}
	if diff := cmp.Diff(want, ve.Violations); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

func TestPolicyViolationIsFoundThroughWrappingAndMatchesFailedPrecondition(t *testing.T) {
	err := fmt.Errorf("decide: %w", ddrerr.Policy(policy.Clause4_2_1, "COUNTRY_NOT_ADEQUATE", "transfer needs safeguards"))

	var pv *ddrerr.PolicyViolation
	if !errors.As(err, &pv) {
		t.Fatalf("errors.As(%v, *PolicyViolation) = false", err)
	}
	want := &ddrerr.PolicyViolation{Clause: "4.2.1", Rule: "COUNTRY_NOT_ADEQUATE", Reason: "transfer needs safeguards"}
	if diff := cmp.Diff(want, pv); diff != "" {
		t.Errorf("policy violation (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Errorf("errors.Is(policy violation, ErrFailedPrecondition) = false")
	}
	if errors.Is(err, ddrerr.ErrNotFound) {
		t.Errorf("errors.Is(policy violation, ErrNotFound) = true")
	}
}

func TestSentinelsAreDistinctAndSurviveWrapping(t *testing.T) {
	sentinels := []error{
		ddrerr.ErrNotFound, ddrerr.ErrPermissionDenied, ddrerr.ErrAlreadyExists,
		ddrerr.ErrConflict, ddrerr.ErrFailedPrecondition, ddrerr.ErrUnavailable,
	}
	for i, s := range sentinels {
		wrapped := fmt.Errorf("%w: request r-1", s)
		for j, other := range sentinels {
			if got := errors.Is(wrapped, other); got != (i == j) {
				t.Errorf("errors.Is(%q, %q) = %v", wrapped, other, got)
			}
		}
	}
}

func TestPolicyAllNamesEveryClauseMostSpecificFirst(t *testing.T) {
	err := ddrerr.PolicyAll([]policy.Clause{policy.Clause2_2, policy.Clause4_2_1, policy.Clause4_1_2}, "DISCLOSURE_BLOCKED", "blocked")
	var pv *ddrerr.PolicyViolation
	if !errors.As(err, &pv) || !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("PolicyAll: %v", err)
	}
	if diff := cmp.Diff([]string{"4.1.2", "4.2.1", "2.2"}, pv.Clauses); diff != "" || pv.Clause != "4.1.2" {
		t.Errorf("clauses (-want +got):\n%s clause %s", diff, pv.Clause)
	}
	if ddrerr.Refused(nil) != nil {
		t.Error("Refused(nil) != nil")
	}
}
