package eventstore_test

import (
	"errors"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

func TestValidateToken(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"018f2d1e-7c1a-7b3e-9f00-000000000001", true},
		{"intake", true},
		{"request_received", true},
		{"Ä-ok", true},
		{"", false},
		{"a.b", false},
		{".", false},
		{"*", false},
		{"a*", false},
		{">", false},
		{"a>", false},
		{"a b", false},
		{"a\tb", false},
		{"a\nb", false},
		{"a\rb", false},
		{"a\x00b", false},
		{"a\u00a0b", false}, // non-breaking space
	}
	for _, tt := range tests {
		err := eventstore.ValidateToken(tt.in)
		if tt.ok && err != nil {
			t.Errorf("ValidateToken(%q) = %v, want nil", tt.in, err)
		}
		if !tt.ok && !errors.Is(err, eventstore.ErrInvalidToken) {
			t.Errorf("ValidateToken(%q) = %v, want ErrInvalidToken", tt.in, err)
		}
	}
}

func TestSubjectHelpers(t *testing.T) {
	if got, want := eventstore.Subject("r1", "intake", "received"), "ddr.req.r1.intake.received"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	if got, want := eventstore.RequestFilter("r1"), "ddr.req.r1.>"; got != want {
		t.Errorf("RequestFilter = %q, want %q", got, want)
	}
	if got, want := eventstore.SubjectPattern("intake", "received"), "ddr.req.*.intake.received"; got != want {
		t.Errorf("SubjectPattern = %q, want %q", got, want)
	}
	if got, want := eventstore.DLQSubject("notifier"), "ddr.dlq.notifier"; got != want {
		t.Errorf("DLQSubject = %q, want %q", got, want)
	}
}

func TestParseSubject(t *testing.T) {
	id, svc, name, err := eventstore.ParseSubject("ddr.req.r1.intake.received")
	if err != nil || id != "r1" || svc != "intake" || name != "received" {
		t.Errorf("ParseSubject = %q %q %q %v", id, svc, name, err)
	}
	for _, bad := range []string{"", "ddr.req.r1.intake", "ddr.req.r1.intake.received.x", "ddr.dlq.r1.intake.received", "ddr.req.*.intake.received", "ddr.req..intake.received"} {
		if _, _, _, err := eventstore.ParseSubject(bad); !errors.Is(err, eventstore.ErrInvalidToken) {
			t.Errorf("ParseSubject(%q) = %v, want ErrInvalidToken", bad, err)
		}
	}
}

func TestDerivedID_StableAndDistinct(t *testing.T) {
	a := eventstore.DerivedID("evt-1", "notification.sent")
	if a != eventstore.DerivedID("evt-1", "notification.sent") {
		t.Error("DerivedID is not stable")
	}
	for _, other := range []string{
		eventstore.DerivedID("evt-2", "notification.sent"),
		eventstore.DerivedID("evt-1", "notification.failed"),
		eventstore.DerivedID("evt-1notification.sent"),
	} {
		if other == a {
			t.Errorf("DerivedID collision: %s", a)
		}
	}
}

// A subject names its request for logs, but the pattern that goes to span
// names and metric labels must not; a subject that does not parse is
// still described rather than dropped.
func TestDescribeSubject(t *testing.T) {
	tests := []struct{ subject, requestID, pattern string }{
		{"ddr.req.r-1.intake.RequestSubmitted", "r-1", "ddr.req.*.intake.RequestSubmitted"},
		{"ddr.req.r-1", "r-1", "ddr.req.*"},
		{"ddr.dlq", "", "ddr.dlq"},
	}
	for _, tt := range tests {
		id, pattern := eventstore.DescribeSubject(tt.subject)
		if id != tt.requestID || pattern != tt.pattern {
			t.Errorf("DescribeSubject(%q) = %q, %q; want %q, %q", tt.subject, id, pattern, tt.requestID, tt.pattern)
		}
	}
}
