// Package pagetoken makes the page tokens of List RPCs (AIP-158): opaque to
// clients, so a service may change what a cursor holds without breaking
// callers, and checked on the way back in, so a forged or foreign token is
// an INVALID_ARGUMENT on page_token rather than a silently wrong page.
package pagetoken

import (
	"encoding/base64"
	"strings"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// prefix versions the token format.
const prefix = "v1:"

// Encode wraps a service's cursor; an empty cursor (no next page) is "".
func Encode(cursor string) string {
	if cursor == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + cursor))
}

// Decode returns the cursor of a token from [Encode]; "" gives "" (the first
// page). Anything else is a field violation on page_token.
func Decode(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || !strings.HasPrefix(string(b), prefix) {
		return "", ddrerr.Invalid(ddrerr.FieldViolation{Field: "page_token", Description: "not a token this service issued"})
	}
	return strings.TrimPrefix(string(b), prefix), nil
}
