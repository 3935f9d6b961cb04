// Package validate checks requests against the buf.validate rules written
// in our .proto files and reports failures as [ddrerr.ValidationError], so
// that rule breaches reach clients as INVALID_ARGUMENT with one field
// violation each, exactly like checks written by hand in domain code.
package validate

import (
	"errors"
	"fmt"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// Validator is safe for concurrent use. Make one per process: it caches the
// compiled rules of each message type.
type Validator struct {
	v protovalidate.Validator
}

// New returns a Validator.
func New() (*Validator, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return &Validator{v: v}, nil
}

// Check returns nil when msg satisfies its rules, or a
// *ddrerr.ValidationError with one violation per broken rule. Any other
// error means the rules themselves are broken (they failed to compile or
// evaluate) and is a bug on our side, not the caller's.
func (v *Validator) Check(msg proto.Message) error {
	err := v.v.Validate(msg)
	if err == nil {
		return nil
	}
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	var c ddrerr.Collector
	for _, viol := range ve.Violations {
		desc := viol.Proto.GetMessage()
		if desc == "" {
			desc = "breaks rule " + viol.Proto.GetRuleId()
		}
		c.Add(protovalidate.FieldPathString(viol.Proto.GetField()), desc)
	}
	return c.Err()
}
