package ddrerr

import "strings"

// FieldViolation names one input field and what is wrong with it. Field is a
// dotted path as the caller sent it (e.g. "subject.email"); Description must
// not repeat the offending value, since values may be personal data.
type FieldViolation struct {
	Field       string
	Description string
}

// ValidationError reports bad input: the request can never succeed as sent.
type ValidationError struct {
	Violations []FieldViolation
}

// Invalid returns a *ValidationError holding v. Use [Collector] when the
// violations are found one by one and there may be none.
func Invalid(v ...FieldViolation) error {
	return &ValidationError{Violations: v}
}

// Error lists every violation so that a log line or test failure is
// self-explanatory.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid argument")
	for i, v := range e.Violations {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(v.Field)
		b.WriteString(": ")
		b.WriteString(v.Description)
	}
	return b.String()
}

// Collector gathers field violations so that a caller sees all of them in
// one reply instead of fixing one field per round trip. The zero value is
// ready to use.
type Collector struct {
	violations []FieldViolation
}

// Add records that field is invalid for the given reason.
func (c *Collector) Add(field, description string) {
	c.violations = append(c.violations, FieldViolation{Field: field, Description: description})
}

// Err returns a *ValidationError with everything added so far, or nil (an
// untyped nil, safe to compare) when nothing was added.
func (c *Collector) Err() error {
	if len(c.violations) == 0 {
		return nil
	}
	return Invalid(c.violations...)
}
