package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

func FuzzValidate(f *testing.F) {
	f.Add("zendesk-inc", "phone", "Police", "police", "DE", "email_address", "a@example.com", uint8(1), "",
		"s3://b/k", pdfSHA, "application/pdf", int64(-time.Hour), int64(0), int64(0), int64(0), true, "harm", "none")
	f.Add("", "", "", "", "", "", "", uint8(0), "", "", "", "", int64(0), int64(0), int64(0), int64(0), false, "", "")
	f.Add("\xff", "x", "\x00", "court", "UNKNOWN", "ip_address", "\xc3", uint8(255), "all users",
		"data:,x", "ZZ", "a/b;;", int64(1<<62), int64(-1<<62), int64(5), int64(-5), true, " ", "court_order")
	f.Fuzz(func(t *testing.T, member, channel, authName, authKind, country, targetKind, targetValue string,
		nTargets uint8, scope, uri, sha, media string, receivedOff, gagOff, fromOff, toOff int64,
		claimed bool, harm, lpType string) {
		r := domain.Request{
			GroupMember:      member,
			ReceivedAt:       now.Add(time.Duration(receivedOff)),
			Channel:          domain.Channel(channel),
			Authority:        domain.Authority{Name: authName, Kind: domain.AuthorityKind(authKind), Country: country},
			LegalProcess:     domain.LegalProcess{Type: domain.LegalProcessType(lpType)},
			ScopeDescription: scope,
			TimeRange:        domain.TimeRange{From: now.Add(time.Duration(fromOff)), To: now.Add(time.Duration(toOff))},
			Emergency:        domain.Emergency{Claimed: claimed, HarmDescribed: harm},
			Gag:              domain.Gag{Present: gagOff != 0, ExpiresAt: now.Add(time.Duration(gagOff))},
			Attachments:      []domain.Attachment{{URI: uri, SHA256: sha, MediaType: media}},
			DataCategories:   []domain.DataCategory{domain.DataCategory(targetKind)},
		}
		for range nTargets {
			r.Targets = append(r.Targets, domain.Target{Kind: domain.TargetKind(targetKind), Value: targetValue})
		}
		for _, limits := range []domain.Limits{{}, {MaxTargets: 3, MaxTextLen: 4, MaxValueLen: 4, MaxViolations: 2}} {
			err := r.Validate(now, limits)
			if err == nil {
				continue
			}
			var ve *ddrerr.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T, want *ddrerr.ValidationError", err)
			}
			maxV := limits.MaxViolations
			if maxV == 0 {
				maxV = domain.DefaultMaxViolations
			}
			if n := len(ve.Violations); n == 0 || n > maxV+1 {
				t.Fatalf("%d violations, want 1..%d", n, maxV+1)
			}
		}
		if fp := r.ContentDigest().LegacyHex(); !hex64.MatchString(fp) {
			t.Fatalf("Fingerprint = %q", fp)
		}
		a := domain.Amendment{Information: harm, Attachments: r.Attachments}
		_ = a.Validate(domain.Limits{})
		_ = domain.IdempotencyDigest(member, authName).LegacyHex()
	})
}
