package domain_test

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/intake/domain"
)

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

func TestFingerprint_IsHexSHA256AndDeterministic(t *testing.T) {
	r := validRequest()
	fp := r.ContentDigest().LegacyHex()
	if !hex64.MatchString(fp) {
		t.Fatalf("Fingerprint = %q, want 64 lower-case hex digits", fp)
	}
	if again := validRequest().ContentDigest().LegacyHex(); again != fp {
		t.Errorf("fingerprint of an equal request differs: %s vs %s", again, fp)
	}
}

// A retry is the same submission even when the sender rebuilt it: lists in
// another order (e.g. from a map), times in another zone, the same digest in
// another case, no legal process spelled "" or "none".
func TestFingerprint_StableForTheSameContent(t *testing.T) {
	base := validRequest()
	base.Attachments = append(base.Attachments, domain.Attachment{URI: "https://files.example/b", SHA256: strings.Repeat("ab", 32)})
	want := base.ContentDigest().LegacyHex()

	tests := []struct {
		name   string
		mutate func(r *domain.Request)
	}{
		{"targets reversed", func(r *domain.Request) { slices.Reverse(r.Targets) }},
		{"data categories reversed", func(r *domain.Request) { slices.Reverse(r.DataCategories) }},
		{"attachments reversed", func(r *domain.Request) { slices.Reverse(r.Attachments) }},
		{"times in another zone", func(r *domain.Request) {
			z := time.FixedZone("UTC-5", -5*3600)
			r.ReceivedAt, r.Deadline = r.ReceivedAt.In(z), r.Deadline.In(z)
			r.TimeRange.From, r.TimeRange.To = r.TimeRange.From.In(z), r.TimeRange.To.In(z)
			r.Gag.ExpiresAt, r.LegalProcess.Date = r.Gag.ExpiresAt.In(z), r.LegalProcess.Date.In(z)
		}},
		{"digest in upper case", func(r *domain.Request) { r.Attachments[0].SHA256 = strings.ToUpper(r.Attachments[0].SHA256) }},
		{"another idempotency key", func(r *domain.Request) { r.IdempotencyKey = "other" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			r.Attachments = slices.Clone(base.Attachments)
			tt.mutate(&r)
			if got := r.ContentDigest().LegacyHex(); got != want {
				t.Errorf("fingerprint changed: %s, want %s", got, want)
			}
		})
	}

	t.Run("targets built from a map", func(t *testing.T) {
		byValue := map[string]domain.TargetKind{}
		for i, tg := range numberedTargets(200, "") {
			byValue[tg.Value] = domain.TargetKinds()[i%len(domain.TargetKinds())]
		}
		build := func() string {
			r := validRequest()
			r.Targets = nil
			for v, k := range byValue { // map order differs between runs
				r.Targets = append(r.Targets, domain.Target{Kind: k, Value: v})
			}
			return r.ContentDigest().LegacyHex()
		}
		first := build()
		for range 20 {
			if got := build(); got != first {
				t.Fatalf("fingerprint depends on map order: %s vs %s", got, first)
			}
		}
	})

	t.Run("no legal process, empty or none", func(t *testing.T) {
		a, b := validRequest(), validRequest()
		a.LegalProcess.Type, b.LegalProcess.Type = "", domain.LegalProcessNone
		if a.ContentDigest().LegacyHex() != b.ContentDigest().LegacyHex() {
			t.Error(`legal process type "" and "none" fingerprint differently`)
		}
	})
}

// fingerprintMutations changes each content field of a valid request, keyed
// by its Go field path. TestFingerprint_CoversEveryField keeps it complete.
var fingerprintMutations = map[string]func(r *domain.Request){
	"GroupMember":              func(r *domain.Request) { r.GroupMember += "x" },
	"ReceivedAt":               func(r *domain.Request) { r.ReceivedAt = r.ReceivedAt.Add(time.Nanosecond) },
	"Channel":                  func(r *domain.Request) { r.Channel = domain.ChannelFax },
	"Authority.Name":           func(r *domain.Request) { r.Authority.Name += "x" },
	"Authority.Kind":           func(r *domain.Request) { r.Authority.Kind = domain.AuthorityCourt },
	"Authority.Country":        func(r *domain.Request) { r.Authority.Country = "IE" },
	"Authority.Subdivision":    func(r *domain.Request) { r.Authority.Subdivision = "" },
	"LegalProcess.Type":        func(r *domain.Request) { r.LegalProcess.Type = domain.LegalProcessSubpoena },
	"LegalProcess.Reference":   func(r *domain.Request) { r.LegalProcess.Reference += "x" },
	"LegalProcess.IssuingBody": func(r *domain.Request) { r.LegalProcess.IssuingBody += "x" },
	"LegalProcess.Date":        func(r *domain.Request) { r.LegalProcess.Date = time.Time{} },
	"CitesDataProtectionLaw":   func(r *domain.Request) { r.CitesDataProtectionLaw = false },
	"Targets.Kind":             func(r *domain.Request) { r.Targets[0].Kind = domain.TargetUser },
	"Targets.Value":            func(r *domain.Request) { r.Targets[0].Value = "bob@example.com" },
	"ScopeDescription":         func(r *domain.Request) { r.ScopeDescription += "." },
	"DataCategories":           func(r *domain.Request) { r.DataCategories = r.DataCategories[:1] },
	"TimeRange.From":           func(r *domain.Request) { r.TimeRange.From = r.TimeRange.From.Add(-time.Second) },
	"TimeRange.To":             func(r *domain.Request) { r.TimeRange.To = time.Time{} },
	"StatedPurpose":            func(r *domain.Request) { r.StatedPurpose = "" },
	"Emergency.Claimed":        func(r *domain.Request) { r.Emergency.Claimed = false },
	"Emergency.HarmDescribed":  func(r *domain.Request) { r.Emergency.HarmDescribed += "!" },
	"Gag.Present":              func(r *domain.Request) { r.Gag.Present = false },
	"Gag.Reference":            func(r *domain.Request) { r.Gag.Reference = "" },
	"Gag.ExpiresAt":            func(r *domain.Request) { r.Gag.ExpiresAt = r.Gag.ExpiresAt.AddDate(0, 0, 1) },
	"Deadline":                 func(r *domain.Request) { r.Deadline = time.Time{} },
	"Attachments.URI":          func(r *domain.Request) { r.Attachments[0].URI += "2" },
	"Attachments.SHA256":       func(r *domain.Request) { r.Attachments[0].SHA256 = strings.Repeat("0", 64) },
	"Attachments.MediaType":    func(r *domain.Request) { r.Attachments[0].MediaType = "image/tiff" },
	"Notes":                    func(r *domain.Request) { r.Notes = " " + r.Notes },
	"ReceivedBy":               func(r *domain.Request) { r.ReceivedBy += " desk" },
	"ScopeSelector":            func(r *domain.Request) { r.ScopeSelector = domain.ScopeWholeTenant },
	"CustomerID":               func(r *domain.Request) { r.CustomerID += "-2" },
	"Emergency.ImminentRisk":   func(r *domain.Request) { r.Emergency.ImminentRisk = !r.Emergency.ImminentRisk },
	"SenderAddress":            func(r *domain.Request) { r.SenderAddress += "x@bka.bund.de" },
	"CustomerEstablishment":    func(r *domain.Request) { r.CustomerEstablishment = "FR" },
	// Customers are new: a request without them keeps its old digest, so
	// each mutation adds one; TestFingerprint_CustomerFieldsEachCount
	// checks each field against a request that has them.
	"Customers.ID": func(r *domain.Request) { r.Customers = []domain.Customer{{ID: "cust-9"}} },
	"Customers.Role": func(r *domain.Request) {
		r.Customers = []domain.Customer{{ID: "cust-9", Role: domain.CustomerController}}
	},
	"Customers.Establishment": func(r *domain.Request) { r.Customers = []domain.Customer{{ID: "cust-9", Establishment: "FR"}} },
	"LegalProcess.EnforcingAuthorityNotified": func(r *domain.Request) {
		r.LegalProcess.EnforcingAuthorityNotified = !r.LegalProcess.EnforcingAuthorityNotified
	},
}

func TestFingerprint_ChangesWithEveryContentField(t *testing.T) {
	want := validRequest().ContentDigest().LegacyHex()
	for field, mutate := range fingerprintMutations {
		t.Run(field, func(t *testing.T) {
			r := validRequest()
			mutate(&r)
			if r.ContentDigest().LegacyHex() == want {
				t.Errorf("changing %s left the fingerprint unchanged", field)
			}
		})
	}
	t.Run("adding a target", func(t *testing.T) {
		r := validRequest()
		r.Targets = append(r.Targets, domain.Target{Kind: domain.TargetUser, Value: "u1"})
		if r.ContentDigest().LegacyHex() == want {
			t.Error("adding a target left the fingerprint unchanged")
		}
	})
	t.Run("text moved between list elements", func(t *testing.T) {
		a, b := validRequest(), validRequest()
		a.Targets = []domain.Target{{Kind: domain.TargetOther, Value: "a"}, {Kind: domain.TargetOther, Value: "bc"}}
		b.Targets = []domain.Target{{Kind: domain.TargetOther, Value: "ab"}, {Kind: domain.TargetOther, Value: "c"}}
		if a.ContentDigest().LegacyHex() == b.ContentDigest().LegacyHex() {
			t.Error("different targets share a fingerprint")
		}
	})
	t.Run("text moved between fields", func(t *testing.T) {
		a, b := validRequest(), validRequest()
		a.Authority.Name, a.Authority.Subdivision = "Paris", ""
		b.Authority.Name, b.Authority.Subdivision = "", "Paris"
		if a.ContentDigest().LegacyHex() == b.ContentDigest().LegacyHex() {
			t.Error("different authorities share a fingerprint")
		}
	})
}

func TestFingerprint_CustomerFieldsEachCount(t *testing.T) {
	base := func() domain.Request {
		r := validRequest()
		r.CustomerID, r.CustomerEstablishment = "", ""
		r.Customers = []domain.Customer{{ID: "a", Role: domain.CustomerController, Establishment: "DE"}, {ID: "b"}}
		return r
	}
	want := base().ContentDigest()
	for name, mutate := range map[string]func(*domain.Request){
		"id":            func(r *domain.Request) { r.Customers[0].ID = "c" },
		"role":          func(r *domain.Request) { r.Customers[0].Role = domain.CustomerNotController },
		"establishment": func(r *domain.Request) { r.Customers[0].Establishment = "" },
		"one more":      func(r *domain.Request) { r.Customers = append(r.Customers, domain.Customer{ID: "d"}) },
	} {
		r := base()
		mutate(&r)
		if r.ContentDigest() == want {
			t.Errorf("changing the customers' %s left the fingerprint unchanged", name)
		}
	}
	r := base()
	r.Customers[0], r.Customers[1] = r.Customers[1], r.Customers[0]
	if r.ContentDigest() != want {
		t.Error("the customers' order changed the fingerprint; they are a set")
	}
}

// A new field in Request must either be fingerprinted (and mutated above) or
// be deliberately left out here.
func TestFingerprint_CoversEveryField(t *testing.T) {
	excluded := map[string]bool{"IdempotencyKey": true}
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for f := range typ.Fields() {
			path := prefix + f.Name
			ft := f.Type
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
				walk(path+".", ft)
				continue
			}
			if _, ok := fingerprintMutations[path]; !ok && !excluded[path] {
				t.Errorf("field %s has no fingerprint mutation", path)
			}
		}
	}
	walk("", reflect.TypeFor[domain.Request]())
}

func TestAmendmentFingerprint(t *testing.T) {
	a := domain.Amendment{At: now, Information: "case number corrected", Attachments: validRequest().Attachments}
	b := a
	b.At = now.Add(time.Hour)
	if a.ContentDigest().LegacyHex() != b.ContentDigest().LegacyHex() {
		t.Error("amendment fingerprint depends on the time intake accepted it")
	}
	b.Information += "."
	if a.ContentDigest().LegacyHex() == b.ContentDigest().LegacyHex() {
		t.Error("different amendment information shares a fingerprint")
	}
	if !hex64.MatchString(a.ContentDigest().LegacyHex()) {
		t.Errorf("Fingerprint = %q, want 64 hex digits", a.ContentDigest().LegacyHex())
	}
}

var kvSafe = regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`)

func TestIdempotencyDigest(t *testing.T) {
	tests := []struct{ member, key string }{
		{"zendesk-uk-ltd", "mail-2026-11-28-0001"},
		{"spiffe://ddr.local/group-member/zendesk-inc", "a key with spaces, * and > and ünïcödé"},
		{"", ""},
		{"m", strings.Repeat("k", 10_000)},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		k := domain.IdempotencyDigest(tt.member, tt.key).LegacyHex()
		if !kvSafe.MatchString(k) || len(k) != 64 {
			t.Errorf("IdempotencyDigest(%q, …) = %q, not 64 hex digits", tt.member, k)
		}
		if k != domain.IdempotencyDigest(tt.member, tt.key).LegacyHex() {
			t.Errorf("IdempotencyDigest(%q, …) is not deterministic", tt.member)
		}
		if seen[k] {
			t.Errorf("IdempotencyDigest(%q, …) collides", tt.member)
		}
		seen[k] = true
	}
	if domain.IdempotencyDigest("member-a", "k1").LegacyHex() == domain.IdempotencyDigest("member-b", "k1").LegacyHex() {
		t.Error("two group members' equal keys share a KV key")
	}
	if domain.IdempotencyDigest("ab", "c").LegacyHex() == domain.IdempotencyDigest("a", "bc").LegacyHex() {
		t.Error("member and key boundary is ambiguous")
	}
}
