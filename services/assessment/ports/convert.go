package ports

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// enumName turns a proto enum value name into the domain's spelling:
// DECISION_KIND_REDIRECT_TO_CUSTOMER becomes "redirect_to_customer", and the
// unspecified value "" (which the domain reports as missing).
func enumName(name, prefix string) string {
	s := strings.TrimPrefix(name, prefix)
	if s == "UNSPECIFIED" {
		return ""
	}
	return strings.ToLower(s)
}

func asTime(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime().UTC()
}

func indexed(list string, i int, field string) string {
	return list + "[" + strconv.Itoa(i) + "]." + field
}
