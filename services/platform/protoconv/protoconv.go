// Package protoconv holds the two conversions every service's ports need
// between its protobuf contract and its domain: enum values and times. One
// copy, so the four services spell enums and treat missing times the same
// way.
//
// The domains spell an enum value in lower case without the proto's prefix
// (DECISION_KIND_REDIRECT_TO_CUSTOMER is "redirect_to_customer"); the
// unspecified value is "" (which every domain reports as missing), and a
// number the proto does not define is "undefined_<n>" (which the domains
// report as unknown rather than silently as missing). A domain that spells
// an enum otherwise converts it through one two-way table, an [EnumMap].
package protoconv

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Enum is a generated protobuf enum type.
type Enum interface {
	~int32
	protoreflect.Enum
}

// EnumName spells e the domain's way: lower case without prefix; "" for
// the zero value, "undefined_<n>" for a number the enum does not define.
func EnumName[E Enum](e E, prefix string) string {
	if e == 0 {
		return ""
	}
	v := e.Descriptor().Values().ByNumber(e.Number())
	if v == nil {
		return "undefined_" + strconv.Itoa(int(e))
	}
	return strings.ToLower(strings.TrimPrefix(string(v.Name()), prefix))
}

// EnumValue is the inverse of [EnumName]: the value spelled s, or 0
// (unspecified) for "" and for a spelling the enum does not define, which
// protovalidate or the reader then reports.
func EnumValue[E Enum](s, prefix string) E {
	if s == "" {
		return 0
	}
	var zero E
	v := zero.Descriptor().Values().ByName(protoreflect.Name(prefix + strings.ToUpper(s)))
	if v == nil {
		return 0
	}
	return E(v.Number())
}

// Timestamp converts t for the wire; the zero time is "not set" (nil).
func Timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// Time converts a wire timestamp; nil (not set) is the zero time. The
// result is in UTC, as every domain stores times.
func Time(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime().UTC()
}
