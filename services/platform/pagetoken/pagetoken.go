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

// DefaultSize is a page's size when the caller asks for none (page_size 0).
const DefaultSize = 50

// Request is what [Page] reads of a List RPC's request.
type Request interface {
	GetPageSize() int32
	GetPageToken() string
}

// Page reads the page a List request asks for: the cursor it starts after
// ("" for the first page) and its size, [DefaultSize] when it gives none.
// The size's upper bound is the RPC's protovalidate rule, checked before.
func Page(req Request) (after string, size int, err error) {
	after, err = Decode(req.GetPageToken())
	if err != nil {
		return "", 0, err
	}
	size = int(req.GetPageSize())
	if size == 0 {
		size = DefaultSize
	}
	return after, size, nil
}
