package eventstore

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Stream and subject layout. The request id comes first in the subject so
// that one wildcard filter selects a whole request, which is what both the
// history read and the concurrency check need.
const (
	StreamName    = "DDR"
	DLQStreamName = "DDR_DLQ"

	// SubjectPrefix is the root of every event subject.
	SubjectPrefix = "ddr.req"
	// AllEvents matches every event subject.
	AllEvents = SubjectPrefix + ".>"
	// DLQPrefix is the root of every dead-letter subject.
	DLQPrefix = "ddr.dlq"
	// AllDeadLetters matches every dead-letter subject.
	AllDeadLetters = DLQPrefix + ".>"
)

// ErrInvalidToken is wrapped by every subject token validation error.
var ErrInvalidToken = errors.New("eventstore: invalid subject token")

// ValidateToken checks that s can be used as one subject token (request id,
// service, event name, consumer name): non-empty, no dots, no wildcards, no
// whitespace or control characters. Any of those would let a value address
// other requests' events or break the subject grammar.
func ValidateToken(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalidToken)
	}
	for _, r := range s {
		switch {
		case r == '.':
			return fmt.Errorf("%w: %q contains '.'", ErrInvalidToken, s)
		case r == '*' || r == '>':
			return fmt.Errorf("%w: %q contains a wildcard", ErrInvalidToken, s)
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return fmt.Errorf("%w: %q contains whitespace or a control character", ErrInvalidToken, s)
		}
	}
	return nil
}

// Subject returns the subject of an event: ddr.req.<id>.<service>.<name>.
// It does not validate; [ToMsg] and [Store.Append] do.
func Subject(requestID, service, name string) string {
	return SubjectPrefix + "." + requestID + "." + service + "." + name
}

// RequestFilter selects every event of one request: ddr.req.<id>.>.
func RequestFilter(requestID string) string {
	return SubjectPrefix + "." + requestID + ".>"
}

// SubjectPattern is the subject with the request id replaced by '*'. It
// names a kind of event without identifying a request, so it is safe for
// span names and metric labels.
func SubjectPattern(service, name string) string {
	return Subject("*", service, name)
}

// DescribeSubject returns the request id of an event subject and its
// pattern ([SubjectPattern]), for logs, spans and metrics, even from a
// subject that does not parse: one of fewer than three tokens is its own
// pattern, with no request id.
func DescribeSubject(subject string) (requestID, pattern string) {
	parts := strings.Split(subject, ".")
	if len(parts) < 3 {
		return "", subject
	}
	requestID = parts[2]
	parts[2] = "*"
	return requestID, strings.Join(parts, ".")
}

// ParseSubject splits an event subject into its tokens.
func ParseSubject(subject string) (requestID, service, name string, err error) {
	parts := strings.Split(subject, ".")
	if len(parts) != 5 || parts[0]+"."+parts[1] != SubjectPrefix {
		return "", "", "", fmt.Errorf("%w: %q is not ddr.req.<id>.<service>.<name>", ErrInvalidToken, subject)
	}
	for _, p := range parts[2:] {
		if err := ValidateToken(p); err != nil {
			return "", "", "", err
		}
	}
	return parts[2], parts[3], parts[4], nil
}

// DLQSubject is the dead-letter subject of a consumer: ddr.dlq.<consumer>.
func DLQSubject(consumer string) string {
	return DLQPrefix + "." + consumer
}
