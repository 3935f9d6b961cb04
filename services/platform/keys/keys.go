// Package keys makes personal data erasable under an append-only record.
// The DDR stream can never be rewritten, yet whom a request is about must
// be forgettable at the end of retention. So identifiers are stored sealed
// (AES-256-GCM) with a data key of their own request, and the data keys live
// in a KV bucket, wrapped by a key-encryption key (KEK) from configuration.
// Erasing a request's data key leaves its events intact, hash chains
// included, and its identifiers unreadable: crypto-shredding.
package keys

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Bucket is the KV bucket of wrapped data keys, one per request id.
const Bucket = "ddr_data_keys"

// KEKSize is the size of the key-encryption key (AES-256).
const KEKSize = 32

// Errors. Compare with errors.Is.
var (
	// ErrErased: the request's data key was erased; its data is gone.
	ErrErased = errors.New("keys: data key erased")
	// ErrNoKey: the request never had a data key, so nothing was sealed.
	ErrNoKey = errors.New("keys: no data key")
	// ErrCorrupt: a sealed value or a wrapped key does not decrypt (wrong
	// KEK, wrong request, tampering).
	ErrCorrupt = errors.New("keys: cannot decrypt")
)

// Format versions, the first byte of sealed values and wrapped keys.
const (
	versionSealed  = 1
	versionWrapped = 1
)

// tombstone replaces an erased key. A plain delete would let a later Seal
// create a fresh key and make the request look never erased.
var tombstone = []byte("erased")

// Kind is one of a request's data keys. Each request has up to two, with
// retentions of their own: erasing one leaves the other's data readable.
type Kind int

const (
	// Subject seals what identifies or describes the people a request is
	// about (targets, descriptions, free text about them). It is the key
	// [Keyring.Seal] has always used, stored under the request id, so
	// values sealed before kinds existed stay readable; [Keyring.Erase]
	// destroys it at the end of retention.
	Subject Kind = iota + 1
	// Record seals the company's written record of what it did (reviewers'
	// text, reasons, the 4.2.2 efforts), kept readable for the record's own,
	// longer retention. Stored under "<request id>.record".
	Record
)

func (k Kind) String() string {
	switch k {
	case Subject:
		return "subject"
	case Record:
		return "record"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// bucketKey is where a request's key of kind k lives in the bucket.
func bucketKey(requestID string, k Kind) (string, error) {
	switch k {
	case Subject:
		return requestID, nil
	case Record:
		return requestID + ".record", nil
	}
	return "", fmt.Errorf("keys: unknown key kind %d", int(k))
}

// TargetLabel is the label a target identifier of intake is sealed under;
// it binds the ciphertext to its place, so sealed values cannot be swapped
// between targets or requests unnoticed.
func TargetLabel(ref string) string { return "intake.target/" + ref }

// ParseKEK reads a KEK written as base64 (std or URL, padded or not).
func ParseKEK(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil {
			if len(b) != KEKSize {
				return nil, fmt.Errorf("keys: KEK is %d bytes, want %d", len(b), KEKSize)
			}
			return b, nil
		}
	}
	return nil, errors.New("keys: KEK is not base64")
}

// LoadKEKFile reads a KEK file (base64 text).
// A file others may read is refused ([CheckKeyFile]).
func LoadKEKFile(path string) ([]byte, error) {
	if err := CheckKeyFile(path); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: KEK file: %w", err)
	}
	return ParseKEK(string(b))
}

// EnsureKEKFile writes a new random KEK to path unless a file is there. It
// is for development setups; production KEKs come from a secret store.
func EnsureKEKFile(path string) (created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	return true, NewKeyFile(path)
}

// EnsureBucket creates or updates the data-key bucket. It keeps two
// revisions per key, so that erasing (or re-wrapping) a key can write the
// tombstone (new wrapping) first and then secure-delete the old revision
// itself: with one revision the stream would drop it by its limit, which
// unlinks it without overwriting its bytes.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	// The bucket's stream is made here rather than by CreateKeyValue,
	// which denies message deletes for good (a stream cannot lift it
	// later): erasure must overwrite the erased key's revision. The rest
	// is what CreateKeyValue would set, so it is an ordinary bucket.
	err := eventstore.EnsureStream(ctx, js, jetstream.StreamConfig{
		Name:              "KV_" + Bucket,
		Description:       "ddr: per-request data keys, wrapped by the KEK",
		Subjects:          []string{"$KV." + Bucket + ".>"},
		MaxMsgsPerSubject: 2,
		MaxBytes:          -1,
		MaxMsgSize:        -1,
		MaxMsgs:           -1,
		MaxConsumers:      -1,
		Storage:           jetstream.FileStorage,
		Replicas:          max(replicas, 1),
		AllowRollup:       true,
		DenyDelete:        false,
		AllowDirect:       true,
		Duplicates:        2 * time.Minute,
		Discard:           jetstream.DiscardNew,
	})
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == 10052 {
		// A bucket made before erasure overwrote keys denies deletes for
		// good. It still serves; erasing fails loudly ("message delete not
		// permitted") until it is migrated to a new bucket. Refusing to
		// start here would take every service down for it.
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("keys: bucket: %w", err)
	}
	kv, err := js.KeyValue(ctx, Bucket)
	if err != nil {
		return nil, fmt.Errorf("keys: bucket: %w", err)
	}
	return kv, nil
}

// Keyring seals and opens values with per-request data keys.
type Keyring struct {
	mu  sync.Mutex
	kek cipher.AEAD // guarded by mu: RotateKEK replaces it
	kv  jetstream.KeyValue
	js  jetstream.JetStream // opens kv on first use when kv is nil
	// streamJS reaches the bucket's stream for secure deletion when the
	// keyring was made with [New] (see [Keyring.WithJetStream]).
	streamJS jetstream.JetStream
	// cache holds recently used data keys, wrapped, and the most recently
	// used of them unwrapped too (see cache.go); nil
	// when disabled. It needs a JetStream handle for its watch of the
	// bucket: [Lazy], or [New] with [Keyring.WithJetStream].
	cache *keyCache
}

// WithCacheSize sets how many data keys the keyring caches (see
// [DefaultCacheSize]); 0 turns the cache off, so that every sealed value
// opened reads its key from the bucket. Call it before the keyring's
// first use.
func (k *Keyring) WithCacheSize(n int) *Keyring {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cache = nil
	if n > 0 {
		k.cache = newKeyCache(n)
	}
	return k
}

// CacheStats reports what the data-key cache did so far.
func (k *Keyring) CacheStats() CacheStats {
	k.mu.Lock()
	c := k.cache
	k.mu.Unlock()
	if c == nil {
		return CacheStats{}
	}
	return c.stats()
}

// Close stops the watch of the data-key cache; the keyring goes on working
// without the cache.
func (k *Keyring) Close() {
	k.mu.Lock()
	c := k.cache
	k.mu.Unlock()
	if c != nil {
		c.start(nil) // a keyring never used has nothing to stop but must not start later
		c.stop()
	}
}

// CacheRunning starts the data-key cache's watch of the bucket if it has
// not started yet, and reports whether the cache serves now (the watch
// starts in the background: until it runs, keys are read from the bucket).
func (k *Keyring) CacheRunning(ctx context.Context) bool {
	if _, err := k.bucket(ctx); err != nil {
		return false
	}
	return k.keyCache() != nil && k.CacheStats().Running
}

// keyCache returns the cache, with its watch started, or nil.
func (k *Keyring) keyCache() *keyCache {
	k.mu.Lock()
	c := k.cache
	k.mu.Unlock()
	if c != nil {
		c.start(k.jetStream())
	}
	return c
}

// jetStream is the keyring's JetStream handle: the one it opens the bucket
// with ([Lazy]), else the one given by [Keyring.WithJetStream]; nil when
// it has neither.
func (k *Keyring) jetStream() jetstream.JetStream {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.js != nil {
		return k.js
	}
	return k.streamJS
}

// WithJetStream lets a keyring made by [New] reach the bucket's stream,
// which erasure needs to overwrite the erased key on disk.
func (k *Keyring) WithJetStream(js jetstream.JetStream) *Keyring {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.streamJS = js
	return k
}

// New returns a keyring over kv (see [EnsureBucket]) with kek.
func New(kv jetstream.KeyValue, kek []byte) (*Keyring, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, fmt.Errorf("keys: KEK: %w", err)
	}
	return &Keyring{kv: kv, kek: aead, cache: newKeyCache(DefaultCacheSize)}, nil
}

// Lazy returns a keyring that opens the bucket (created by the process,
// see [EnsureBucket]) on first use, so that a service that never touches
// personal data needs no access to the bucket.
func Lazy(js jetstream.JetStream, kek []byte) (*Keyring, error) {
	k, err := New(nil, kek)
	if err != nil {
		return nil, err
	}
	k.js = js
	return k, nil
}

func (k *Keyring) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kv == nil {
		kv, err := k.js.KeyValue(ctx, Bucket)
		if err != nil {
			return nil, fmt.Errorf("keys: bucket %s: %w", Bucket, err)
		}
		k.kv = kv
	}
	return k.kv, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("key is %d bytes, want 32", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// wrapAAD binds a wrapped key to its bucket key (the request id, plus the
// kind for kinds other than Subject), so keys cannot be swapped unnoticed.
func wrapAAD(bucketKey string) []byte { return []byte("ddr/data-key/v1\x00" + bucketKey) }

func valueAAD(requestID, label string) []byte {
	return []byte("ddr/sealed/v1\x00" + requestID + "\x00" + label)
}

// dataKey returns the request's data key of kind, creating it if create
// is set. The key comes from the cache when it holds it, else from the
// bucket.
func (k *Keyring) dataKey(ctx context.Context, requestID string, kind Kind, create bool) (cipher.AEAD, error) {
	kv, err := k.bucket(ctx)
	if err != nil {
		return nil, err
	}
	requestID, err = bucketKey(requestID, kind)
	if err != nil {
		return nil, err
	}
	c := k.keyCache()
	for range 3 {
		var t Ticket
		if c != nil {
			var h held
			var hit bool
			h, hit, t = c.lookupKey(requestID)
			if hit && h.aead != nil {
				return h.aead, nil
			}
			if hit {
				aead, err := k.unwrap(requestID, h.value)
				if err == nil {
					c.keepKey(requestID, h.rev, aead)
				}
				if !errors.Is(err, ErrCorrupt) {
					return aead, err
				}
				// Wrapped under a KEK rotated away since: read it again.
				c.drop(requestID)
				_, _, t = c.lookup(requestID)
			}
		}
		e, err := k.get(ctx, kv, requestID)
		switch {
		case err == nil:
			if c == nil {
				return k.unwrap(requestID, e.value)
			}
			c.admit(t, requestID, e.rev, e.value)
			aead, err := k.unwrap(requestID, e.value)
			if err == nil {
				c.keepKey(requestID, e.rev, aead) // if admitted
			}
			return aead, err
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return nil, fmt.Errorf("keys: get data key: %w", err)
		case !create:
			return nil, fmt.Errorf("%w for request %s", ErrNoKey, requestID)
		}
		dk := make([]byte, 32)
		if _, err := rand.Read(dk); err != nil {
			return nil, err
		}
		wrapped, err := wrap(k.currentKEK(), requestID, dk)
		if err != nil {
			return nil, err
		}
		rev, err := kv.Create(ctx, requestID, wrapped)
		if err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue // another writer won; use its key
			}
			return nil, fmt.Errorf("keys: store data key: %w", err)
		}
		aead, err := newAEADCleared(dk)
		if c != nil {
			c.observe(requestID, rev, wrapped)
			if err == nil {
				c.keepKey(requestID, rev, aead)
			}
		}
		return aead, err
	}
	return nil, fmt.Errorf("keys: data key of %s is contended", requestID)
}

// newAEADCleared is newAEAD that then overwrites the raw key: the cipher
// keeps its own expanded copy, and nothing else needs it.
func newAEADCleared(dk []byte) (cipher.AEAD, error) {
	aead, err := newAEAD(dk)
	clear(dk)
	return aead, err
}

func (k *Keyring) unwrap(requestID string, wrapped []byte) (cipher.AEAD, error) {
	dk, err := k.unwrapRaw(requestID, wrapped)
	if err != nil {
		return nil, err
	}
	return newAEADCleared(dk)
}

func (k *Keyring) unwrapRaw(requestID string, wrapped []byte) ([]byte, error) {
	if bytes.Equal(wrapped, tombstone) {
		return nil, fmt.Errorf("%w: request %s", ErrErased, requestID)
	}
	kek := k.currentKEK()
	n := kek.NonceSize()
	if len(wrapped) < 1+n || wrapped[0] != versionWrapped {
		return nil, fmt.Errorf("%w: data key of %s: unknown format", ErrCorrupt, requestID)
	}
	dk, err := kek.Open(nil, wrapped[1:1+n], wrapped[1+n:], wrapAAD(requestID))
	if err != nil {
		return nil, fmt.Errorf("%w: data key of %s (wrong KEK?)", ErrCorrupt, requestID)
	}
	return dk, nil
}

// currentKEK is the KEK in use ([Keyring.RotateKEK] replaces it).
func (k *Keyring) currentKEK() cipher.AEAD {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.kek
}

// ErrNothingToSealWith refuses to record personal data for a request
// whose data key was erased at the end of its retention: it could not be
// sealed, and a new key would bring back what the erasure ended.
var ErrNothingToSealWith = ddrerr.Policy(policy.Clause4_1_2, policy.RuleTargetsErased,
	"the request's personal data was erased at the end of its retention: nothing that names or describes a person can be recorded for it any more; leave that text out, or send it as a new request")

// Seal encrypts plaintext for the request under label (where the value
// lives, e.g. [TargetLabel]); the request's data key is created on first use.
func (k *Keyring) Seal(ctx context.Context, requestID, label string, plaintext []byte) ([]byte, error) {
	return k.SealKind(ctx, requestID, Subject, label, plaintext)
}

// SealKind is [Keyring.Seal] with the request's data key of kind.
//
// After [Keyring.Erase] it fails with [ErrErased] and [ErrNothingToSealWith]:
// a caller trying to record personal data for an erased request gets a
// refusal that says why (FAILED_PRECONDITION), not an internal error, and
// a reactor dead-letters the event instead of retrying it for ever.
func (k *Keyring) SealKind(ctx context.Context, requestID string, kind Kind, label string, plaintext []byte) ([]byte, error) {
	aead, err := k.dataKey(ctx, requestID, kind, true)
	if errors.Is(err, ErrErased) {
		return nil, fmt.Errorf("%w: %w", ErrNothingToSealWith, err)
	}
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append([]byte{versionSealed}, nonce...)
	return aead.Seal(out, nonce, plaintext, valueAAD(requestID, label)), nil
}

// Open decrypts what [Keyring.Seal] sealed for the same request and label.
// After [Keyring.Erase] it fails with [ErrErased].
func (k *Keyring) Open(ctx context.Context, requestID, label string, sealed []byte) ([]byte, error) {
	return k.OpenKind(ctx, requestID, Subject, label, sealed)
}

// OpenKind is [Keyring.Open] with the request's data key of kind.
func (k *Keyring) OpenKind(ctx context.Context, requestID string, kind Kind, label string, sealed []byte) ([]byte, error) {
	aead, err := k.dataKey(ctx, requestID, kind, false)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != versionSealed {
		return nil, fmt.Errorf("%w: sealed value of %s: unknown format", ErrCorrupt, requestID)
	}
	pt, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], valueAAD(requestID, label))
	if err != nil {
		return nil, fmt.Errorf("%w: sealed value of %s", ErrCorrupt, requestID)
	}
	return pt, nil
}

// Erase destroys the request's data key: every value sealed for it becomes
// unreadable for good. Erasing twice, or a request that never had a key,
// is fine; afterwards no new key can be made for the request.
func (k *Keyring) Erase(ctx context.Context, requestID string) error {
	return k.EraseKind(ctx, requestID, Subject)
}

// EraseKind destroys the request's data key of kind; the other kind's
// data stays readable.
func (k *Keyring) EraseKind(ctx context.Context, requestID string, kind Kind) error {
	requestID, err := bucketKey(requestID, kind)
	if err != nil {
		return err
	}
	kv, err := k.bucket(ctx)
	if err != nil {
		return err
	}
	old, err := k.get(ctx, kv, requestID)
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("keys: erase data key of %s: %w", requestID, err)
	}
	rev, err := kv.Put(ctx, requestID, tombstone)
	if err != nil {
		return fmt.Errorf("keys: erase data key of %s: %w", requestID, err)
	}
	// This keyring's own cache forgets the key now; the others' learn it
	// from their watch of the bucket.
	c := k.keyCache()
	if c != nil {
		c.observe(requestID, rev, tombstone)
	}
	if old.rev == 0 || bytes.Equal(old.value, tombstone) {
		return nil
	}
	// The tombstone is written first, so no Seal can make a fresh key in
	// between; the bucket keeps two revisions, so the wrapped key is still
	// in the stream now, and is overwritten on disk (not just unlinked
	// from the index, which leaves its bytes in the block file, where
	// anyone with the KEK would unwrap it).
	if err := k.secureDeleteRevision(ctx, old.rev); err != nil {
		return err
	}
	// On a cluster the raft log entry that carried the wrapped key to the
	// followers stays in each replica's log files until the replica
	// snapshots the bucket's group with its log fully applied, which
	// removes the log's files (nats-server does so on its own every 2 to
	// 3 minutes). A snapshot finds nothing to take while no entry came
	// after the last one, and one taken between the tombstone and the
	// delete leaves the log's last file in place with the key in it; a
	// last write after the delete makes sure the next snapshot purges it.
	rev, err = kv.Put(ctx, requestID, tombstone)
	if err != nil {
		return fmt.Errorf("keys: erase data key of %s: %w", requestID, err)
	}
	if c != nil {
		c.observe(requestID, rev, tombstone)
	}
	return nil
}

// secureDeleteRevision overwrites revision seq of the bucket's stream.
func (k *Keyring) secureDeleteRevision(ctx context.Context, seq uint64) error {
	stream, err := k.stream(ctx)
	if err != nil {
		return err
	}
	return secureDelete(ctx, stream, seq)
}

// stream is the bucket's stream, where revisions are secure-deleted.
func (k *Keyring) stream(ctx context.Context) (jetstream.Stream, error) {
	js := k.jetStream()
	if js == nil {
		return nil, errors.New("keys: the keyring cannot reach the bucket's stream to overwrite old keys (use Lazy, or New with WithJetStream)")
	}
	stream, err := js.Stream(ctx, "KV_"+Bucket)
	if err != nil {
		return nil, fmt.Errorf("keys: bucket stream: %w", err)
	}
	return stream, nil
}

// Erased reports whether the request's data key was erased.
func (k *Keyring) Erased(ctx context.Context, requestID string) (bool, error) {
	kv, err := k.bucket(ctx)
	if err != nil {
		return false, err
	}
	var t Ticket
	c := k.keyCache()
	if c != nil {
		var cached []byte
		var hit bool
		if cached, hit, t = c.lookup(requestID); hit {
			return bytes.Equal(cached, tombstone), nil
		}
	}
	e, err := k.get(ctx, kv, requestID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c != nil {
		c.admit(t, requestID, e.rev, e.value)
	}
	return bytes.Equal(e.value, tombstone), nil
}
