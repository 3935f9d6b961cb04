package pagetoken_test

import (
	"errors"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/pagetoken"
)

func TestRoundTripAndEmpty(t *testing.T) {
	for _, cursor := range []string{"", "01a2-xyz", "2026-11-28T10:00:00Z|req-1"} {
		got, err := pagetoken.Decode(pagetoken.Encode(cursor))
		if err != nil || got != cursor {
			t.Errorf("round trip of %q = %q, %v", cursor, got, err)
		}
	}
}

func TestForeignTokensAreFieldViolations(t *testing.T) {
	for _, tok := range []string{"garbage!", "djI6eA" /* "v2:x" */, "eA" /* "x" */} {
		_, err := pagetoken.Decode(tok)
		var ve *ddrerr.ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Field != "page_token" {
			t.Errorf("Decode(%q) = %v, want one violation on page_token", tok, err)
		}
	}
}

type listRequest struct {
	size  int32
	token string
}

func (r listRequest) GetPageSize() int32   { return r.size }
func (r listRequest) GetPageToken() string { return r.token }

func TestPageDefaultsItsSizeAndReadsItsCursor(t *testing.T) {
	after, size, err := pagetoken.Page(listRequest{})
	if err != nil || after != "" || size != pagetoken.DefaultSize {
		t.Errorf("first page = %q, %d, %v; want \"\", %d", after, size, err, pagetoken.DefaultSize)
	}
	after, size, err = pagetoken.Page(listRequest{size: 7, token: pagetoken.Encode("req-9")})
	if err != nil || after != "req-9" || size != 7 {
		t.Errorf("next page = %q, %d, %v; want req-9, 7", after, size, err)
	}
	if _, _, err := pagetoken.Page(listRequest{token: "garbage!"}); err == nil {
		t.Error("a foreign token was accepted")
	}
}
