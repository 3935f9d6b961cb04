package domain_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

func TestValidate_AcceptsValidRequests(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *domain.Request)
	}{
		{"complete request", func(r *domain.Request) {}},
		{"received within the allowed clock skew", func(r *domain.Request) { r.ReceivedAt = now.Add(domain.DefaultClockSkew) }},
		{"received long ago", func(r *domain.Request) {
			r.ReceivedAt = now.AddDate(-3, 0, 0)
		}},
		{"scope description instead of targets (a bulk demand)", func(r *domain.Request) {
			r.Targets = nil
			r.ScopeDescription = "every account that logged in from the region last week"
		}},
		{"targets without scope description", func(r *domain.Request) { r.ScopeDescription = "" }},
		{"country UNKNOWN", func(r *domain.Request) { r.Authority.Country = domain.CountryUnknown }},
		{"no optional field", func(r *domain.Request) {
			*r = domain.Request{
				GroupMember: r.GroupMember, ReceivedAt: r.ReceivedAt, Channel: r.Channel,
				Authority: domain.Authority{Name: "Tax office", Kind: domain.AuthorityTax, Country: "FR"},
				Targets:   r.Targets[:1],
			}
		}},
		{"exactly the maximum number of targets", func(r *domain.Request) {
			r.Targets = numberedTargets(domain.DefaultMaxTargets, "")
		}},
		{"exactly the maximum number of attachments", func(r *domain.Request) {
			r.Attachments = slices.Repeat(r.Attachments, domain.DefaultMaxAttachments)
		}},
		{"text at the limit, counted in characters not bytes", func(r *domain.Request) {
			r.Notes = strings.Repeat("é", domain.DefaultMaxTextLen)
		}},
		{"target value at its byte limit, in two-byte characters", func(r *domain.Request) {
			r.Targets[0].Value = strings.Repeat("ü", domain.DefaultMaxTargetValueBytes/2)
		}},
		{"SHA-256 in upper case", func(r *domain.Request) { r.Attachments[0].SHA256 = strings.ToUpper(pdfSHA) }},
		{"attachment without media type", func(r *domain.Request) { r.Attachments[0].MediaType = "" }},
		{"media type with parameters", func(r *domain.Request) { r.Attachments[0].MediaType = "text/plain; charset=utf-8" }},
		{"open-ended time range", func(r *domain.Request) { r.TimeRange.To = time.Time{} }},
		{"time range of one instant", func(r *domain.Request) { r.TimeRange.To = r.TimeRange.From }},
		{"gag without expiry", func(r *domain.Request) { r.Gag.ExpiresAt = time.Time{} }},
		{"emergency not claimed, no harm described", func(r *domain.Request) { r.Emergency = domain.Emergency{} }},
		{"same value under two target kinds", func(r *domain.Request) {
			r.Targets = []domain.Target{{Kind: domain.TargetUser, Value: "jdoe"}, {Kind: domain.TargetAccount, Value: "jdoe"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.mutate(&r)
			if err := r.Validate(now, domain.Limits{}); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

// TestValidate_BadInputs is the table of bad inputs and the exact field
// violations each produces: one per problem, on proto-style paths.
func TestValidate_BadInputs(t *testing.T) {
	tests := []struct {
		name   string
		limits domain.Limits
		mutate func(r *domain.Request)
		want   []ddrerr.FieldViolation
	}{
		{
			name:   "empty request: every required field",
			mutate: func(r *domain.Request) { *r = domain.Request{} },
			want: []ddrerr.FieldViolation{
				fv("group_member", "required"),
				fv("received_at", "required"),
				fv("channel", "required"),
				fv("authority.name", "required"),
				fv("authority.kind", "required"),
				fv("authority.country", "required"),
				fv("targets", "at least one target or a scope_description is required"),
			},
		},
		{
			name:   "blank group member and authority name",
			mutate: func(r *domain.Request) { r.GroupMember = " \t"; r.Authority.Name = "\n" },
			want:   []ddrerr.FieldViolation{fv("group_member", "required"), fv("authority.name", "required")},
		},
		{
			name:   "received in the future beyond the clock skew",
			mutate: func(r *domain.Request) { r.ReceivedAt = now.Add(domain.DefaultClockSkew + time.Second) },
			want:   []ddrerr.FieldViolation{fv("received_at", "must not be in the future")},
		},
		{
			name:   "received in the future with a tighter configured skew",
			limits: domain.Limits{ClockSkew: time.Second},
			mutate: func(r *domain.Request) { r.ReceivedAt = now.Add(2 * time.Second) },
			want:   []ddrerr.FieldViolation{fv("received_at", "must not be in the future")},
		},
		{
			name:   "unknown channel",
			mutate: func(r *domain.Request) { r.Channel = "carrier_pigeon" },
			want:   []ddrerr.FieldViolation{fv("channel", "must be one of letter, email, portal, fax, phone, in_person, other")},
		},
		{
			name:   "unknown authority kind",
			mutate: func(r *domain.Request) { r.Authority.Kind = "army" },
			want:   []ddrerr.FieldViolation{fv("authority.kind", "must be one of police, prosecutor, court, national_security, regulator, tax, other_government")},
		},
		{
			name:   "country in lower case",
			mutate: func(r *domain.Request) { r.Authority.Country = "gb" },
			want:   []ddrerr.FieldViolation{fv("authority.country", "must be an ISO 3166-1 alpha-2 code in upper case, or UNKNOWN")},
		},
		{
			name:   "country code not officially assigned (EU is only reserved)",
			mutate: func(r *domain.Request) { r.Authority.Country = "EU" },
			want:   []ddrerr.FieldViolation{fv("authority.country", "must be an ISO 3166-1 alpha-2 code in upper case, or UNKNOWN")},
		},
		{
			name:   "country as alpha-3",
			mutate: func(r *domain.Request) { r.Authority.Country = "GBR" },
			want:   []ddrerr.FieldViolation{fv("authority.country", "must be an ISO 3166-1 alpha-2 code in upper case, or UNKNOWN")},
		},
		{
			name:   "unknown legal process type",
			mutate: func(r *domain.Request) { r.LegalProcess.Type = "royal_decree" },
			want: []ddrerr.FieldViolation{fv("legal_process.type",
				"must be one of none, subpoena, court_order, search_warrant, production_order, emergency_request, national_security_letter, mlat_request, other, european_production_order, european_preservation_order")},
		},
		{
			name:   "neither targets nor scope description",
			mutate: func(r *domain.Request) { r.Targets = nil; r.ScopeDescription = "  " },
			want:   []ddrerr.FieldViolation{fv("targets", "at least one target or a scope_description is required")},
		},
		{
			name: "target without kind, target without value",
			mutate: func(r *domain.Request) {
				r.Targets[1].Kind = ""
				r.Targets[2].Value = ""
			},
			want: []ddrerr.FieldViolation{fv("targets[1].kind", "required"), fv("targets[2].value", "required")},
		},
		{
			name:   "unknown target kind",
			mutate: func(r *domain.Request) { r.Targets[0].Kind = "vehicle" },
			want:   []ddrerr.FieldViolation{fv("targets[0].kind", "must be one of account, user, email_address, phone_number, ip_address, other")},
		},
		{
			name:   "duplicate target",
			mutate: func(r *domain.Request) { r.Targets = append(r.Targets, r.Targets[0]) },
			want:   []ddrerr.FieldViolation{fv("targets[3]", "duplicates targets[0]")},
		},
		{
			name:   "target value too long",
			mutate: func(r *domain.Request) { r.Targets[0].Value = strings.Repeat("x", domain.DefaultMaxValueLen+1) },
			want:   []ddrerr.FieldViolation{fv("targets[0].value", "must be at most 512 characters")},
		},
		{
			// 257 characters, 514 bytes: within the characters, over the bytes.
			name: "target value too large in bytes",
			mutate: func(r *domain.Request) {
				r.Targets[0].Value = strings.Repeat("ü", domain.DefaultMaxTargetValueBytes/2+1)
			},
			want: []ddrerr.FieldViolation{fv("targets[0].value", "must be at most 512 bytes")},
		},
		{
			name:   "target value not UTF-8",
			mutate: func(r *domain.Request) { r.Targets[0].Value = "bad\xffvalue" },
			want:   []ddrerr.FieldViolation{fv("targets[0].value", "must be valid UTF-8")},
		},
		{
			name:   "too many targets",
			mutate: func(r *domain.Request) { r.Targets = numberedTargets(domain.DefaultMaxTargets+1, "") },
			want: []ddrerr.FieldViolation{fv("targets",
				"must list at most 1000 targets; describe a larger demand in scope_description and attach the list")},
		},
		{
			// By default the per-value caps imply the total; a deployment may
			// set a lower one.
			name:   "target values too large in total",
			limits: domain.Limits{MaxTargetBytes: 1000},
			mutate: func(r *domain.Request) { r.Targets = numberedTargets(3, strings.Repeat("v", 490)) },
			want: []ddrerr.FieldViolation{fv("targets",
				"target values must total at most 1000 bytes; describe a larger demand in scope_description and attach the list")},
		},
		{
			name:   "configured target limit",
			limits: domain.Limits{MaxTargets: 2},
			mutate: func(r *domain.Request) {},
			want: []ddrerr.FieldViolation{fv("targets",
				"must list at most 2 targets; describe a larger demand in scope_description and attach the list")},
		},
		{
			name: "unknown and duplicate data categories",
			mutate: func(r *domain.Request) {
				r.DataCategories = []domain.DataCategory{domain.DataContent, "biometrics", "", domain.DataContent}
			},
			want: []ddrerr.FieldViolation{
				fv("data_categories[1]", "must be one of subscriber, traffic, content, other"),
				fv("data_categories[2]", "required"),
				fv("data_categories[3]", "duplicates data_categories[0]"),
			},
		},
		{
			name:   "time range ends before it starts",
			mutate: func(r *domain.Request) { r.TimeRange.From, r.TimeRange.To = r.TimeRange.To, r.TimeRange.From },
			want:   []ddrerr.FieldViolation{fv("time_range.to", "must not be before time_range.from")},
		},
		{
			name:   "emergency claimed without harm described",
			mutate: func(r *domain.Request) { r.Emergency.HarmDescribed = " " },
			want:   []ddrerr.FieldViolation{fv("emergency.harm_described", "required when emergency.claimed is true")},
		},
		{
			name:   "gag expires before receipt",
			mutate: func(r *domain.Request) { r.Gag.ExpiresAt = r.ReceivedAt.Add(-time.Hour) },
			want:   []ddrerr.FieldViolation{fv("gag.expires_at", "must be after received_at")},
		},
		{
			name:   "gag expires at the moment of receipt",
			mutate: func(r *domain.Request) { r.Gag.ExpiresAt = r.ReceivedAt },
			want:   []ddrerr.FieldViolation{fv("gag.expires_at", "must be after received_at")},
		},
		{
			name:   "gag reference without the gag",
			mutate: func(r *domain.Request) { r.Gag.Present = false },
			want:   []ddrerr.FieldViolation{fv("gag.present", "must be true when gag.reference or gag.expires_at is given")},
		},
		{
			name: "bad attachment: relative URI, short digest, bad media type",
			mutate: func(r *domain.Request) {
				r.Attachments[0] = domain.Attachment{URI: "po.pdf", SHA256: pdfSHA[:63], MediaType: "pdf"}
			},
			want: []ddrerr.FieldViolation{
				fv("attachments[0].uri", "must be an absolute URI"),
				fv("attachments[0].sha256", "must be 64 hexadecimal digits"),
				fv("attachments[0].media_type", "must be a media type such as application/pdf"),
			},
		},
		{
			name: "attachment embedded as data URI, digest not hex",
			mutate: func(r *domain.Request) {
				r.Attachments[0].URI = "data:application/pdf;base64,JVBERi0xLjQK"
				r.Attachments[0].SHA256 = strings.Repeat("g", 64)
			},
			want: []ddrerr.FieldViolation{
				fv("attachments[0].uri", "must reference the document, not embed it"),
				fv("attachments[0].sha256", "must be 64 hexadecimal digits"),
			},
		},
		{
			name: "second attachment without URI and digest",
			mutate: func(r *domain.Request) {
				r.Attachments = append(r.Attachments, domain.Attachment{MediaType: "image/png"})
			},
			want: []ddrerr.FieldViolation{fv("attachments[1].uri", "required"), fv("attachments[1].sha256", "required")},
		},
		{
			name:   "too many attachments",
			mutate: func(r *domain.Request) { r.Attachments = slices.Repeat(r.Attachments, domain.DefaultMaxAttachments+1) },
			want:   []ddrerr.FieldViolation{fv("attachments", "must have at most 50 attachments")},
		},
		{
			name: "every free text field too long",
			mutate: func(r *domain.Request) {
				long := strings.Repeat("é", domain.DefaultMaxTextLen+1)
				r.ScopeDescription, r.StatedPurpose, r.Emergency.HarmDescribed, r.Notes = long, long, long, long
			},
			want: []ddrerr.FieldViolation{
				fv("scope_description", "must be at most 10000 characters"),
				fv("stated_purpose", "must be at most 10000 characters"),
				fv("emergency.harm_described", "must be at most 10000 characters"),
				fv("notes", "must be at most 10000 characters"),
			},
		},
		{
			name: "every short value too long",
			mutate: func(r *domain.Request) {
				long := strings.Repeat("a", domain.DefaultMaxValueLen+1)
				r.GroupMember, r.Authority.Name, r.Authority.Subdivision = long, long, long
				r.LegalProcess.Reference, r.LegalProcess.IssuingBody = long, long
				r.Gag.Reference, r.IdempotencyKey = long, long
				r.Attachments[0].MediaType = "application/" + long
			},
			want: []ddrerr.FieldViolation{
				fv("group_member", "must be at most 512 characters"),
				fv("authority.name", "must be at most 512 characters"),
				fv("authority.subdivision", "must be at most 512 characters"),
				fv("legal_process.reference", "must be at most 512 characters"),
				fv("legal_process.issuing_body", "must be at most 512 characters"),
				fv("gag.reference", "must be at most 512 characters"),
				fv("attachments[0].media_type", "must be at most 512 characters"),
				fv("idempotency_key", "must be at most 512 characters"),
			},
		},
		{
			name: "attachment URI too long",
			mutate: func(r *domain.Request) {
				r.Attachments[0].URI = "https://example.com/" + strings.Repeat("a", domain.DefaultMaxURILen)
			},
			want: []ddrerr.FieldViolation{fv("attachments[0].uri", "must be at most 2048 characters")},
		},
		{
			name: "several problems at once, one violation each",
			mutate: func(r *domain.Request) {
				r.ReceivedAt = now.Add(time.Hour)
				r.Channel = ""
				r.Authority.Country = "XX"
				r.Targets[2].Kind = "satellite"
				r.Gag.ExpiresAt = now
			},
			want: []ddrerr.FieldViolation{
				fv("received_at", "must not be in the future"),
				fv("channel", "required"),
				fv("authority.country", "must be an ISO 3166-1 alpha-2 code in upper case, or UNKNOWN"),
				fv("targets[2].kind", "must be one of account, user, email_address, phone_number, ip_address, other"),
				fv("gag.expires_at", "must be after received_at"),
			},
		},
		{
			name:   "violations beyond the cap are counted, not listed",
			limits: domain.Limits{MaxViolations: 3},
			mutate: func(r *domain.Request) {
				r.Targets = make([]domain.Target, 5)
				for i := range r.Targets {
					r.Targets[i].Kind = domain.TargetUser
				}
			},
			want: []ddrerr.FieldViolation{
				fv("targets[0].value", "required"),
				fv("targets[1].value", "required"),
				fv("targets[2].value", "required"),
				fv("", "2 more problems not listed"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.mutate(&r)
			err := r.Validate(now, tt.limits)
			if err == nil {
				t.Fatal("Validate accepted a bad request")
			}
			assertViolations(t, err, tt.want)
		})
	}
}

func TestValidate_DefaultViolationCapKeepsErrorSmall(t *testing.T) {
	r := validRequest()
	r.Targets = numberedTargets(domain.DefaultMaxTargets, "")
	for i := range r.Targets {
		r.Targets[i].Kind = "unknown"
	}
	vs := violationsOf(t, r.Validate(now, domain.Limits{}))
	if len(vs) != domain.DefaultMaxViolations+1 {
		t.Fatalf("got %d violations, want %d", len(vs), domain.DefaultMaxViolations+1)
	}
	want := fv("", fmt.Sprintf("%d more problems not listed", domain.DefaultMaxTargets-domain.DefaultMaxViolations))
	if last := vs[len(vs)-1]; last != want {
		t.Errorf("last violation = %+v, want %+v", last, want)
	}
}

// Violation descriptions reach callers and logs; target values are personal
// data and must not be echoed back.
func TestValidate_ViolationsNeverEchoTargetValues(t *testing.T) {
	const canary = "canary-7f3e-person@example.org"
	r := validRequest()
	r.Targets = []domain.Target{
		{Kind: "canary-kind", Value: canary},
		{Kind: domain.TargetEmail, Value: canary + strings.Repeat("x", domain.DefaultMaxValueLen)},
		{Kind: domain.TargetEmail, Value: canary},
		{Kind: domain.TargetEmail, Value: canary},
	}
	r.Authority.Country = canary
	err := r.Validate(now, domain.Limits{})
	if n := len(violationsOf(t, err)); n != 4 {
		t.Fatalf("got %d violations, want 4: %v", n, err)
	}
	if strings.Contains(err.Error(), "canary") {
		t.Errorf("error repeats a submitted value: %v", err)
	}
}

func TestClause1_1_EveryKindOfGovernmentAuthorityAccepted(t *testing.T) {
	want := []domain.AuthorityKind{"police", "prosecutor", "court", "national_security", "regulator", "tax", "other_government"}
	if got := domain.AuthorityKinds(); !slices.Equal(got, want) {
		t.Fatalf("AuthorityKinds() = %v, want %v", got, want)
	}
	for _, kind := range want {
		t.Run(string(kind), func(t *testing.T) {
			r := validRequest()
			r.Authority.Kind = kind
			if err := r.Validate(now, domain.Limits{}); err != nil {
				t.Fatalf("request from a %s authority refused: %v", kind, err)
			}
		})
	}
}

func TestClause1_1_AuthorityFromAnyCountryAccepted(t *testing.T) {
	codes := domain.CountryCodes()
	if len(codes) != 249 {
		t.Fatalf("got %d ISO 3166-1 codes, want the 249 officially assigned", len(codes))
	}
	for _, c := range append(codes, domain.CountryUnknown) {
		r := validRequest()
		r.Authority.Country = c
		if err := r.Validate(now, domain.Limits{}); err != nil {
			t.Errorf("country %s refused: %v", c, err)
		}
	}
	for _, c := range []string{"XK", "EU", "UK", "ZZ", "unknown", "de", "D", " DE"} {
		if domain.IsCountryCode(c) {
			t.Errorf("IsCountryCode(%q) = true, want false", c)
		}
	}
}

func TestClause3_2_OralRequestWithoutLegalProcessOrCitationAccepted(t *testing.T) {
	for _, channel := range []domain.Channel{domain.ChannelPhone, domain.ChannelInPerson} {
		for _, lp := range []domain.LegalProcessType{"", domain.LegalProcessNone} {
			t.Run(fmt.Sprintf("%s/legal_process=%q", channel, lp), func(t *testing.T) {
				r := domain.Request{
					GroupMember: "zendesk-de-gmbh",
					ReceivedAt:  now.Add(-10 * time.Minute),
					Channel:     channel,
					Authority: domain.Authority{
						Name: "Landeskriminalamt", Kind: domain.AuthorityPolice, Country: "DE",
					},
					LegalProcess:           domain.LegalProcess{Type: lp},
					CitesDataProtectionLaw: false,
					Targets:                []domain.Target{{Kind: domain.TargetPhone, Value: "+49 30 1234567"}},
				}
				if err := r.Validate(now, domain.Limits{}); err != nil {
					t.Fatalf("oral request without legal process refused: %v", err)
				}
			})
		}
	}
}

func TestClause3_2_AnyChannelAndLegalProcessAccepted(t *testing.T) {
	for _, channel := range domain.Channels() {
		for _, lp := range domain.LegalProcessTypes() {
			for _, cites := range []bool{false, true} {
				r := validRequest()
				r.Channel = channel
				r.LegalProcess = domain.LegalProcess{Type: lp}
				r.CitesDataProtectionLaw = cites
				if err := r.Validate(now, domain.Limits{}); err != nil {
					t.Errorf("channel %s, legal process %s, cites %v refused: %v", channel, lp, cites, err)
				}
			}
		}
	}
}

func TestClause3_1_ReceivedDateRequiredAndNotInFuture(t *testing.T) {
	tests := []struct {
		name     string
		received time.Time
		want     []ddrerr.FieldViolation
	}{
		{"missing", time.Time{}, []ddrerr.FieldViolation{fv("received_at", "required")}},
		{"an hour ahead", now.Add(time.Hour), []ddrerr.FieldViolation{fv("received_at", "must not be in the future")}},
		{"just past the skew", now.Add(domain.DefaultClockSkew + time.Nanosecond), []ddrerr.FieldViolation{fv("received_at", "must not be in the future")}},
		{"at the skew", now.Add(domain.DefaultClockSkew), nil},
		{"now", now, nil},
		{"a minute ago", now.Add(-time.Minute), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			r.ReceivedAt = tt.received
			r.Gag.ExpiresAt = time.Time{}
			assertViolations(t, r.Validate(now, domain.Limits{}), tt.want)
		})
	}
}

func TestDefaultLimits(t *testing.T) {
	want := domain.Limits{
		ClockSkew: 5 * time.Minute, MaxTargets: 1_000, MaxTargetValueBytes: 512, MaxTargetBytes: 512_000, MaxAttachments: 50,
		MaxTextLen: 10_000, MaxValueLen: 512, MaxURILen: 2048, MaxViolations: 50, MaxAmendments: 100,
	}
	if got := domain.DefaultLimits(); got != want {
		t.Errorf("DefaultLimits() = %+v, want %+v", got, want)
	}
}

func numberedTargets(n int, pad string) []domain.Target {
	ts := make([]domain.Target, n)
	for i := range ts {
		ts[i] = domain.Target{Kind: domain.TargetAccount, Value: fmt.Sprintf("acct-%d%s", i, pad)}
	}
	return ts
}
