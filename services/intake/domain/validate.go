package domain

import (
	"fmt"
	"mime"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Validate checks the domain rules of intake and returns nil or a
// *ddrerr.ValidationError with one violation per problem, each on a
// proto-style field path such as "targets[2].value".
//
// Clause 3.2: nothing here asks for a written channel, a legal process or a
// citation of data protection law. Clause 3.1: received_at is required and
// may not lie in the future (beyond limits.ClockSkew of now).
//
// Descriptions never repeat the offending value: it may be personal data.
func (r Request) Validate(now time.Time, limits Limits) error {
	l := limits.withDefaults()
	v := newViolations(l.MaxViolations)

	v.text("group_member", r.GroupMember, l.MaxValueLen, true)
	switch {
	case r.ReceivedAt.IsZero():
		v.add("received_at", "required")
	case r.ReceivedAt.After(now.Add(l.ClockSkew)):
		v.add("received_at", "must not be in the future")
	}
	enum(v, "channel", r.Channel, Channels(), true)
	v.text("received_by", r.ReceivedBy, l.MaxValueLen, false)

	v.text("authority.name", r.Authority.Name, l.MaxValueLen, true)
	enum(v, "authority.kind", r.Authority.Kind, AuthorityKinds(), true)
	switch c := r.Authority.Country; {
	case c == "":
		v.add("authority.country", "required")
	case c != CountryUnknown && !IsCountryCode(c):
		v.add("authority.country", "must be an ISO 3166-1 alpha-2 code in upper case, or UNKNOWN")
	}
	v.text("authority.subdivision", r.Authority.Subdivision, l.MaxValueLen, false)

	// An empty type is no legal process: clause 3.2 makes none a valid answer.
	enum(v, "legal_process.type", r.LegalProcess.Type, LegalProcessTypes(), false)
	v.text("legal_process.reference", r.LegalProcess.Reference, l.MaxValueLen, false)
	v.text("legal_process.issuing_body", r.LegalProcess.IssuingBody, l.MaxValueLen, false)

	v.targets(r.Targets, r.ScopeDescription, l)
	v.text("scope_description", r.ScopeDescription, l.MaxTextLen, false)
	enum(v, "scope_selector", r.ScopeSelector, ScopeSelectors(), false)
	v.text("customer_id", r.CustomerID, l.MaxValueLen, false)
	if c := r.CustomerEstablishment; c != "" {
		switch {
		case r.CustomerID == "":
			v.add("customer_establishment", "only with customer_id: it is that customer's establishment")
		case !policy.ParseCountry(c).Assigned() || c != strings.ToUpper(c):
			v.add("customer_establishment", "must be an assigned ISO 3166-1 alpha-2 code")
		}
	}
	v.customers(r, l)
	v.dataCategories(r.DataCategories)
	if !r.TimeRange.From.IsZero() && !r.TimeRange.To.IsZero() && r.TimeRange.From.After(r.TimeRange.To) {
		v.add("time_range.to", "must not be before time_range.from")
	}
	v.text("stated_purpose", r.StatedPurpose, l.MaxTextLen, false)

	v.text("emergency.harm_described", r.Emergency.HarmDescribed, l.MaxTextLen, false)
	if r.Emergency.Claimed && utf8.ValidString(r.Emergency.HarmDescribed) && blank(r.Emergency.HarmDescribed) {
		v.add("emergency.harm_described", "required when emergency.claimed is true")
	}

	if !r.Gag.Present && (r.Gag.Reference != "" || !r.Gag.ExpiresAt.IsZero()) {
		// Whether notice is prohibited decides clauses 4.1.2 and 4.2.2: a
		// half-filled gag must be resolved by the sender, not guessed here.
		v.add("gag.present", "must be true when gag.reference or gag.expires_at is given")
	}
	v.text("gag.reference", r.Gag.Reference, l.MaxValueLen, false)
	if !r.Gag.ExpiresAt.IsZero() && !r.ReceivedAt.IsZero() && !r.Gag.ExpiresAt.After(r.ReceivedAt) {
		v.add("gag.expires_at", "must be after received_at")
	}

	v.attachments("attachments", r.Attachments, l)
	v.text("notes", r.Notes, l.MaxTextLen, false)
	v.text("sender_address", r.SenderAddress, 320, false)
	v.text("idempotency_key", r.IdempotencyKey, l.MaxValueLen, false)
	return v.err()
}

// violations collects field violations up to a cap and counts the rest.
type violations struct {
	c     ddrerr.Collector
	n     int
	limit int
}

func newViolations(limit int) *violations { return &violations{limit: limit} }

func (v *violations) add(field, description string) {
	v.n++
	if v.n <= v.limit {
		v.c.Add(field, description)
	}
}

func (v *violations) err() error {
	if v.n > v.limit {
		v.c.Add("", fmt.Sprintf("%d more problems not listed", v.n-v.limit))
	}
	return v.c.Err()
}

// text checks a string field and reports whether it passed.
func (v *violations) text(field, s string, maxLen int, required bool) bool {
	switch {
	case !utf8.ValidString(s):
		v.add(field, "must be valid UTF-8")
	case required && blank(s):
		v.add(field, "required")
	case len(s) > maxLen && utf8.RuneCountInString(s) > maxLen:
		v.add(field, fmt.Sprintf("must be at most %d characters", maxLen))
	default:
		return true
	}
	return false
}

// enum checks an enumerated field and reports whether it passed; when not
// required, the empty value passes.
func enum[T ~string](v *violations, field string, val T, all []T, required bool) bool {
	switch {
	case val == "" && !required:
		return true
	case val == "":
		v.add(field, "required")
	case !known(val, all):
		names := make([]string, len(all))
		for i, a := range all {
			names[i] = string(a)
		}
		v.add(field, "must be one of "+strings.Join(names, ", "))
	default:
		return true
	}
	return false
}

func (v *violations) targets(ts []Target, scope string, l Limits) {
	switch {
	case len(ts) == 0:
		if blank(scope) {
			v.add("targets", "at least one target or a scope_description is required")
		}
		return
	case len(ts) > l.MaxTargets:
		v.add("targets", fmt.Sprintf("must list at most %d targets; describe a larger demand in scope_description and attach the list", l.MaxTargets))
		return
	}
	size := 0
	seen := make(map[Target]int, len(ts))
	for i, t := range ts {
		size += len(t.Value)
		field := fmt.Sprintf("targets[%d]", i)
		kindOK := enum(v, field+".kind", t.Kind, TargetKinds(), true)
		valueOK := v.text(field+".value", t.Value, l.MaxValueLen, true)
		if valueOK && len(t.Value) > l.MaxTargetValueBytes {
			v.add(field+".value", fmt.Sprintf("must be at most %d bytes", l.MaxTargetValueBytes))
			valueOK = false
		}
		if !kindOK || !valueOK {
			continue
		}
		if j, dup := seen[t]; dup {
			v.add(field, fmt.Sprintf("duplicates targets[%d]", j))
			continue
		}
		seen[t] = i
	}
	if size > l.MaxTargetBytes {
		v.add("targets", fmt.Sprintf("target values must total at most %d bytes; describe a larger demand in scope_description and attach the list", l.MaxTargetBytes))
	}
}

func (v *violations) dataCategories(cs []DataCategory) {
	seen := make(map[DataCategory]int, len(cs))
	for i, c := range cs {
		field := fmt.Sprintf("data_categories[%d]", i)
		if !enum(v, field, c, DataCategories(), true) {
			continue
		}
		if j, dup := seen[c]; dup {
			v.add(field, fmt.Sprintf("duplicates data_categories[%d]", j))
			continue
		}
		seen[c] = i
	}
}

func (v *violations) attachments(prefix string, as []Attachment, l Limits) {
	if len(as) > l.MaxAttachments {
		v.add(prefix, fmt.Sprintf("must have at most %d attachments", l.MaxAttachments))
		return
	}
	for i, a := range as {
		field := fmt.Sprintf("%s[%d]", prefix, i)
		if v.text(field+".uri", a.URI, l.MaxURILen, true) {
			u, err := url.Parse(a.URI)
			switch {
			case err != nil || !u.IsAbs():
				v.add(field+".uri", "must be an absolute URI")
			case strings.EqualFold(u.Scheme, "data"):
				// Events carry references, never the document itself.
				v.add(field+".uri", "must reference the document, not embed it")
			}
		}
		switch {
		case a.SHA256 == "":
			v.add(field+".sha256", "required")
		case !isSHA256Hex(a.SHA256):
			v.add(field+".sha256", "must be 64 hexadecimal digits")
		}
		if a.MediaType != "" && v.text(field+".media_type", a.MediaType, l.MaxValueLen, false) {
			if mt, _, err := mime.ParseMediaType(a.MediaType); err != nil || !strings.Contains(mt, "/") {
				v.add(field+".media_type", "must be a media type such as application/pdf")
			}
		}
	}
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }
