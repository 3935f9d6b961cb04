package policy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/policy"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func registry(t *testing.T) *policy.AdequacyRegistry {
	t.Helper()
	r, err := policy.DefaultAdequacy()
	if err != nil {
		t.Fatalf("DefaultAdequacy: %v", err)
	}
	return r
}

// wantInvalid checks that err is an invalid-registry error with a problem
// on field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ie *policy.InvalidAdequacyError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want *InvalidAdequacyError", err)
	}
	if !errors.Is(err, policy.ErrInvalidAdequacy) {
		t.Fatalf("errors.Is(%v, ErrInvalidAdequacy) = false", err)
	}
	for _, p := range ie.Problems {
		if p.Field == field {
			if !strings.Contains(err.Error(), field) {
				t.Fatalf("error text %q does not name %s", err, field)
			}
			return
		}
	}
	t.Fatalf("problems %+v lack field %s", ie.Problems, field)
}
