package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/keys"
)

// Idempotency is where Submit remembers, per (group member, idempotency
// key), the request id a submission got, for as long as the store lives: a
// retry days later still finds its request, unlike the stream's 2-minute
// dedupe window. Keys and records hold no personal data: keyed digests
// (the content's sealed with the request's SUBJECT key), an id and a
// time. adapters.IdempotencyKV is the JetStream KV one.
type Idempotency interface {
	// Create stores rec under key; ErrKeyTaken when the key is there.
	Create(ctx context.Context, key string, rec IdemRecord) error
	// Get returns the record under key and its revision; ErrNoKey when
	// there is none. It sees every write acknowledged before it, through
	// whichever server (a key Create found taken is there).
	Get(ctx context.Context, key string) (IdemRecord, uint64, error)
	// Peek is Get for a key that is most likely not there (a legacy
	// record): a miss costs no more than a read, and it may miss a key
	// written through another server an instant before.
	Peek(ctx context.Context, key string) (IdemRecord, uint64, error)
	// Update replaces the record under key if it is still at revision;
	// ErrKeyChanged when another writer changed it first.
	Update(ctx context.Context, key string, rec IdemRecord, revision uint64) error
	// Delete removes a key.
	Delete(ctx context.Context, key string) error
}

// Errors of an [Idempotency] store.
var (
	ErrNoKey      = errors.New("no such idempotency key")
	ErrKeyTaken   = errors.New("idempotency key taken")
	ErrKeyChanged = errors.New("idempotency record changed meanwhile")
)

// IdemRecord is what the idempotency store holds per key.
type IdemRecord struct {
	RequestID string
	// Fingerprint is the keyed content fingerprint of the submission that
	// last took the key, sealed with the request's SUBJECT key (see
	// [Intake.sealFingerprint]; the keyed fingerprint in clear, or a plain
	// hex digest, in records written before, until a retry rekeys them).
	Fingerprint string
	SubmitTime  time.Time
}

// Fingerprinter makes keyed digests (platform/keys.Fingerprinter is one):
// a plain hash of a request names its targets to whoever guesses them.
type Fingerprinter interface {
	Fingerprint(purpose string, parts ...[]byte) string
}

// Purposes of intake's keyed digests: the same digest keyed for the two
// gives unrelated results.
const (
	contentPurpose     = "intake.content/v1"
	idempotencyPurpose = "intake.idempotency/v1"
)

// contentFingerprint is what RequestReceived.content_fingerprint and the
// idempotency record hold.
func (in *Intake) contentFingerprint(d domain.Digest) string {
	return in.cfg.Fingerprints.Fingerprint(contentPurpose, d[:])
}

// idempotencyKey is the store key of (group member, idempotency key).
func (in *Intake) idempotencyKey(d domain.Digest) string {
	return in.cfg.Fingerprints.Fingerprint(idempotencyPurpose, d[:])
}

// sealedFingerprintPrefix starts a record's sealed fingerprint.
const sealedFingerprintPrefix = "sealed1:"

// fingerprintLabel binds a sealed record fingerprint to its place.
const fingerprintLabel = "intake.idempotency/content_fingerprint"

// sealFingerprint seals fp with the request's SUBJECT key for the
// idempotency record. The fingerprint is keyed, but whoever holds the
// fingerprint key (it lives beside the KEK) could confirm a guessed target
// with it; sealed, it is erased with the targets (issue 14), as the
// event's copy is (RequestReceived.content_fingerprint is marked).
func (in *Intake) sealFingerprint(ctx context.Context, requestID, fp string) (string, error) {
	b, err := in.cfg.Keys.Seal(ctx, requestID, fingerprintLabel, []byte(fp))
	if err != nil {
		return "", fmt.Errorf("seal fingerprint: %w", err)
	}
	return sealedFingerprintPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// recordHolds says whether rec's fingerprint is that of the content whose
// keyed fingerprint is fp. After the request's targets were erased it
// holds nothing: a retry then goes by the recorded event.
func (in *Intake) recordHolds(ctx context.Context, rec IdemRecord, fp string) (bool, error) {
	stored := rec.Fingerprint
	if rest, ok := strings.CutPrefix(stored, sealedFingerprintPrefix); ok {
		b, err := base64.RawURLEncoding.DecodeString(rest)
		if err != nil {
			return false, nil //nolint:nilerr // a malformed record matches no content; the event decides
		}
		pt, err := in.cfg.Keys.Open(ctx, rec.RequestID, fingerprintLabel, b)
		switch {
		case errors.Is(err, keys.ErrErased):
			return false, nil
		case err != nil:
			return false, err
		}
		stored = string(pt)
	}
	return in.sameContent(stored, fp), nil
}

// sameContent says whether a stored fingerprint is that of the content
// whose keyed fingerprint is fp.
func (in *Intake) sameContent(stored, fp string) bool {
	if stored == fp {
		return true
	}
	// LEGACY: events and records written before keyed fingerprints hold
	// the plain hex digest (events are forever). Keyed, it compares with a
	// keyed fingerprint like a new one; only a legacy value gets here.
	if d, ok := domain.ParseLegacyHex(stored); ok {
		return in.contentFingerprint(d) == fp
	}
	return false
}

// rekeyLegacy moves the record of a submission made before keyed
// fingerprints, stored under the plain digest d with a plain content
// digest, to the keyed key with the keyed fingerprint, and deletes it: its
// retry then finds it like any other, and no plain digest of personal data
// stays in the store. Concurrent movers write the same record; the first
// wins, and the rest find the key taken.
//
// LEGACY: one read per submission while records may remain from before the
// change. A store listing would move them all once at start, but the
// service's NATS user may not list the bucket.
func (in *Intake) rekeyLegacy(ctx context.Context, d domain.Digest, key string) error {
	legacy := d.LegacyHex()
	rec, _, err := in.idem.Peek(ctx, legacy)
	if errors.Is(err, ErrNoKey) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("legacy idempotency record: %w", err)
	}
	if fd, ok := domain.ParseLegacyHex(rec.Fingerprint); ok {
		if rec.Fingerprint, err = in.sealFingerprint(ctx, rec.RequestID, in.contentFingerprint(fd)); err != nil {
			return err
		}
	}
	if err := in.idem.Create(ctx, key, rec); err != nil && !errors.Is(err, ErrKeyTaken) {
		return fmt.Errorf("rekey idempotency record: %w", err)
	}
	if err := in.idem.Delete(ctx, legacy); err != nil {
		return fmt.Errorf("delete legacy idempotency record: %w", err)
	}
	return nil
}
