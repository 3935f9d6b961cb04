package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// enumPrefix is the value prefix buf's STANDARD lint imposes: the enum's
// name in UPPER_SNAKE_CASE and an underscore (Stage -> STAGE_).
func enumPrefix(d protoreflect.EnumDescriptor) string {
	var b strings.Builder
	for i, r := range string(d.Name()) {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String()) + "_"
}

// enumChoices are the values people type: "under-review", never the
// unspecified zero.
func enumChoices(d protoreflect.EnumDescriptor) []string {
	var out []string
	prefix := enumPrefix(d)
	for i := range d.Values().Len() {
		v := d.Values().Get(i)
		if v.Number() == 0 {
			continue
		}
		out = append(out, strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix)), "_", "-"))
	}
	return out
}

// parseEnum accepts "under-review", "under_review", "UNDER_REVIEW" or the
// full "STAGE_UNDER_REVIEW".
func parseEnum(d protoreflect.EnumDescriptor, s string) (protoreflect.EnumNumber, error) {
	norm := strings.ToUpper(strings.NewReplacer("-", "_", " ", "_").Replace(strings.TrimSpace(s)))
	for _, name := range []string{enumPrefix(d) + norm, norm} {
		if v := d.Values().ByName(protoreflect.Name(name)); v != nil && v.Number() != 0 {
			return v.Number(), nil
		}
	}
	return 0, fmt.Errorf("%q is not one of %s", s, strings.Join(enumChoices(d), ", "))
}

// enumFlag is a flag holding one or (repeated, comma-separated) several
// values of a proto enum.
type enumFlag struct {
	d     protoreflect.EnumDescriptor
	multi bool
	vals  []protoreflect.EnumNumber
	raw   []string
}

func (f *enumFlag) Set(s string) error {
	parts := []string{s}
	if f.multi {
		parts = strings.Split(s, ",")
	}
	for _, p := range parts {
		n, err := parseEnum(f.d, p)
		if err != nil {
			return err
		}
		if !f.multi {
			f.vals, f.raw = nil, nil
		}
		f.vals = append(f.vals, n)
		f.raw = append(f.raw, p)
	}
	return nil
}

func (f *enumFlag) String() string { return strings.Join(f.raw, ",") }
func (f *enumFlag) Type() string {
	if f.multi {
		return "values"
	}
	return "value"
}

// get is the flag's single value (0 when unset).
func (f *enumFlag) get() protoreflect.EnumNumber {
	if len(f.vals) == 0 {
		return 0
	}
	return f.vals[0]
}

// enumVar declares an enum flag listing its choices in the help and in
// shell completion.
func enumVar(cmd *cobra.Command, name, usage string, d protoreflect.EnumDescriptor, multi bool) *enumFlag {
	f := &enumFlag{d: d, multi: multi}
	choices := enumChoices(d)
	cmd.Flags().Var(f, name, usage+" ("+strings.Join(choices, "|")+")")
	_ = cmd.RegisterFlagCompletionFunc(name, fixedCompletion(choices...))
	return f
}

// enumList converts the flag's values to a typed enum slice.
func enumList[E ~int32](f *enumFlag) []E {
	out := make([]E, 0, len(f.vals))
	for _, v := range f.vals {
		out = append(out, E(v))
	}
	return out
}
