package domain_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// now is the server clock in every test: fixed, so no test depends on timing.
var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const pdfSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// validRequest is a complete, valid request with every field set.
func validRequest() domain.Request {
	return domain.Request{
		GroupMember: "zendesk-uk-ltd",
		ReceivedAt:  now.Add(-2 * time.Hour),
		Channel:     domain.ChannelEmail,
		Authority: domain.Authority{
			Name:        "Metropolitan Police Service",
			Kind:        domain.AuthorityPolice,
			Country:     "GB",
			Subdivision: "London",
		},
		LegalProcess: domain.LegalProcess{
			Type:        domain.LegalProcessProductionOrder,
			Reference:   "PO-2026-118",
			IssuingBody: "Westminster Magistrates' Court",
			Date:        now.Add(-72 * time.Hour),
		},
		CitesDataProtectionLaw: true,
		Targets: []domain.Target{
			{Kind: domain.TargetEmail, Value: "alice@example.com"},
			{Kind: domain.TargetAccount, Value: "acct-4411"},
			{Kind: domain.TargetIPAddress, Value: "192.0.2.7"},
		},
		ScopeDescription: "tickets of the named users",
		DataCategories:   []domain.DataCategory{domain.DataSubscriber, domain.DataTraffic},
		TimeRange:        domain.TimeRange{From: now.AddDate(0, -3, 0), To: now.AddDate(0, -1, 0)},
		StatedPurpose:    "fraud investigation",
		Emergency:        domain.Emergency{Claimed: true, HarmDescribed: "threat to life reported"},
		Gag:              domain.Gag{Present: true, Reference: "s.12 order", ExpiresAt: now.AddDate(0, 6, 0)},
		Deadline:         now.AddDate(0, 0, 14),
		Attachments: []domain.Attachment{
			{URI: "s3://ddr-intake/attachments/po-2026-118.pdf", SHA256: pdfSHA, MediaType: "application/pdf"},
		},
		Notes:          "served at reception",
		IdempotencyKey: "mail-2026-11-28-0001",
	}
}

// violationsOf returns the field violations of err, failing the test when
// err is not a validation error.
func violationsOf(t testing.TB, err error) []ddrerr.FieldViolation {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ddrerr.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error is %T (%v), want *ddrerr.ValidationError", err, err)
	}
	return ve.Violations
}

func formatViolations(vs []ddrerr.FieldViolation) string {
	if len(vs) == 0 {
		return "  (none)\n"
	}
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "  %s: %s\n", v.Field, v.Description)
	}
	return b.String()
}

func assertViolations(t *testing.T, err error, want []ddrerr.FieldViolation) {
	t.Helper()
	got := violationsOf(t, err)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("violations:\n got:\n%s want:\n%s", formatViolations(got), formatViolations(want))
	}
}

func fv(field, description string) ddrerr.FieldViolation {
	return ddrerr.FieldViolation{Field: field, Description: description}
}
