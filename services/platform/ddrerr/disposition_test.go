package ddrerr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

type decodeFailure struct{}

func (decodeFailure) Error() string   { return "cannot decode" }
func (decodeFailure) Permanent() bool { return true }

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want ddrerr.Disposition
	}{
		{"validation", ddrerr.Invalid(ddrerr.FieldViolation{Field: "f", Description: "d"}), ddrerr.ClientError},
		{"policy", ddrerr.Policy("4.2.1", "hold", "no adequacy"), ddrerr.ClientError},
		{"not found", fmt.Errorf("%w: request r", ddrerr.ErrNotFound), ddrerr.ClientError},
		{"permission", ddrerr.ErrPermissionDenied, ddrerr.ClientError},
		{"exists", ddrerr.ErrAlreadyExists, ddrerr.ClientError},
		{"precondition", ddrerr.ErrFailedPrecondition, ddrerr.ClientError},
		{"conflict", fmt.Errorf("x: %w", ddrerr.ErrConflict), ddrerr.Retry},
		{"unavailable", ddrerr.ErrUnavailable, ddrerr.Retry},
		{"deadline", context.DeadlineExceeded, ddrerr.Retry},
		{"unknown", errors.New("boom"), ddrerr.Retry},
		{"permanent", ddrerr.Permanent(errors.New("invariant")), ddrerr.DeadLetter},
		{"permanent wins over client", ddrerr.Permanent(ddrerr.ErrNotFound), ddrerr.DeadLetter},
		{"Permanent() method", fmt.Errorf("wrapped: %w", decodeFailure{}), ddrerr.DeadLetter},
	} {
		if got := ddrerr.Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
	}
}
