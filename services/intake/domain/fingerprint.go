package domain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Digest is the SHA-256 of a canonical encoding. It is a plain hash of
// personal data, so it is never stored or shown as it is: the app keys it
// (an HMAC under the fingerprint key, see platform/keys.Fingerprinter) and
// stores only that, which cannot be undone by guessing a target. Keying the
// digest rather than the encoding lets the records written before keyed
// fingerprints (which stored [Digest.LegacyHex]) be keyed the same way.
type Digest [sha256.Size]byte

// LegacyHex is the form stored before keyed fingerprints: the hex digest,
// which anyone can recompute from a guessed target. Only for recognising
// those old records; never store it again.
func (d Digest) LegacyHex() string { return hex.EncodeToString(d[:]) }

// ParseLegacyHex reads a digest in its legacy stored form; ok is false for
// anything else (a keyed fingerprint).
func ParseLegacyHex(s string) (d Digest, ok bool) {
	if len(s) != 2*sha256.Size || strings.ToLower(s) != s {
		return d, false
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, false
	}
	return d, true
}

// ContentDigest digests a request's content: a retry carrying the same
// idempotency key and the same content is the same submission; the same
// key with different content is a different request reusing a key, which
// the app refuses instead of silently answering with the old id.
//
// It is the SHA-256 of a canonical encoding: every field but the
// idempotency key, each named and length-prefixed; times as UTC instants
// (so the same instant in another zone matches); targets, data categories
// and attachments as sets (their order does not matter); an empty legal
// process type as "none"; SHA-256 digests in lower case. Text is compared
// exactly.
func (r Request) ContentDigest() Digest {
	var e canon
	e.str("ddr.intake.request.v1")
	e.field("group_member", r.GroupMember)
	e.time("received_at", r.ReceivedAt)
	e.field("channel", string(r.Channel))
	e.field("received_by", r.ReceivedBy)
	e.field("authority.name", r.Authority.Name)
	e.field("authority.kind", string(r.Authority.Kind))
	e.field("authority.country", r.Authority.Country)
	e.field("authority.subdivision", r.Authority.Subdivision)
	lpType := r.LegalProcess.Type
	if lpType == "" {
		lpType = LegalProcessNone
	}
	e.field("legal_process.type", string(lpType))
	e.field("legal_process.reference", r.LegalProcess.Reference)
	e.field("legal_process.issuing_body", r.LegalProcess.IssuingBody)
	e.time("legal_process.date", r.LegalProcess.Date)
	e.bool("cites_data_protection_law", r.CitesDataProtectionLaw)
	e.set("targets", len(r.Targets), func(i int, c *canon) {
		c.field("kind", string(r.Targets[i].Kind))
		c.field("value", r.Targets[i].Value)
	})
	e.field("scope_description", r.ScopeDescription)
	e.field("scope_selector", string(r.ScopeSelector))
	e.field("customer_id", r.CustomerID)
	e.set("data_categories", len(r.DataCategories), func(i int, c *canon) {
		c.str(string(r.DataCategories[i]))
	})
	e.time("time_range.from", r.TimeRange.From)
	e.time("time_range.to", r.TimeRange.To)
	e.field("stated_purpose", r.StatedPurpose)
	e.bool("emergency.claimed", r.Emergency.Claimed)
	e.field("emergency.harm_described", r.Emergency.HarmDescribed)
	e.bool("emergency.imminent_risk_of_serious_harm", r.Emergency.ImminentRisk)
	e.bool("gag.present", r.Gag.Present)
	e.field("gag.reference", r.Gag.Reference)
	e.time("gag.expires_at", r.Gag.ExpiresAt)
	e.time("deadline", r.Deadline)
	e.attachments("attachments", r.Attachments)
	e.field("notes", r.Notes)
	// Fields added later are encoded only when set, so that the digest of
	// a request that does not use them stays what it always was (an
	// idempotent retry across an upgrade still matches).
	if r.CustomerEstablishment != "" {
		e.field("customer_establishment", r.CustomerEstablishment)
	}
	if r.SenderAddress != "" {
		e.field("sender_address", r.SenderAddress)
	}
	if r.LegalProcess.EnforcingAuthorityNotified {
		e.bool("legal_process.enforcing_authority_notified", true)
	}
	if len(r.Customers) > 0 {
		e.set("customers", len(r.Customers), func(i int, c *canon) {
			c.field("customer_id", r.Customers[i].ID)
			c.field("role", string(r.Customers[i].Role))
			c.field("establishment", r.Customers[i].Establishment)
		})
	}
	return sha256.Sum256(e.b)
}

// IdempotencyDigest digests (group member, idempotency key), the identity
// of a submission's key. Both parts are caller-chosen text (a key may be
// derived from the content), so only the keyed form of the digest names
// the key in storage. Scoping by group member keeps two members' equal
// keys apart.
func IdempotencyDigest(groupMember, idempotencyKey string) Digest {
	var e canon
	e.str("ddr.intake.idempotency.v1")
	e.str(groupMember)
	e.str(idempotencyKey)
	return sha256.Sum256(e.b)
}

// canon builds an unambiguous byte encoding: every string is prefixed with
// its length, so no two different inputs encode alike.
type canon struct{ b []byte }

func (c *canon) str(s string) {
	c.b = binary.AppendUvarint(c.b, uint64(len(s)))
	c.b = append(c.b, s...)
}

func (c *canon) field(name, value string) {
	c.str(name)
	c.str(value)
}

func (c *canon) bool(name string, v bool) { c.field(name, strconv.FormatBool(v)) }

func (c *canon) time(name string, t time.Time) {
	if t.IsZero() {
		c.field(name, "")
		return
	}
	c.field(name, t.UTC().Format(time.RFC3339Nano))
}

// set encodes n elements order-independently: each is encoded alone and the
// encodings are sorted.
func (c *canon) set(name string, n int, elem func(i int, c *canon)) {
	items := make([][]byte, n)
	for i := range n {
		var ec canon
		elem(i, &ec)
		items[i] = ec.b
	}
	slices.SortFunc(items, bytes.Compare)
	c.str(name)
	c.b = binary.AppendUvarint(c.b, uint64(n))
	for _, it := range items {
		c.str(string(it))
	}
}

func (c *canon) attachments(name string, as []Attachment) {
	c.set(name, len(as), func(i int, e *canon) {
		e.field("uri", as[i].URI)
		e.field("sha256", strings.ToLower(as[i].SHA256))
		e.field("media_type", as[i].MediaType)
	})
}
