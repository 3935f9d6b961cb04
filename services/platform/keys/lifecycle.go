package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/nats-io/nats.go/jetstream"
)

// CheckKeyFile refuses a key file (KEK, fingerprint key, recovery key)
// that others may read: the owner alone (0400, 0600), or with the group
// read-only if the group is the process's own (0440: a Kubernetes secret
// mounted with fsGroup). A key anyone on the host can read protects nothing.
func CheckKeyFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("keys: key file: %w", err)
	}
	perm := fi.Mode().Perm()
	if perm&0o007 != 0 {
		return fmt.Errorf("keys: key file %s is accessible to others (mode %04o); want 0400, or 0440 with the process's group", path, perm)
	}
	if perm&0o030 != 0 {
		return fmt.Errorf("keys: key file %s is writable or executable by its group (mode %04o); want 0400 or 0440", path, perm)
	}
	if perm&0o040 != 0 {
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || !ownGroup(int(st.Gid)) {
			return fmt.Errorf("keys: key file %s is readable by a group the process is not in (mode %04o)", path, perm)
		}
	}
	return nil
}

func ownGroup(gid int) bool {
	if gid == os.Getgid() || gid == os.Getegid() {
		return true
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if g == gid {
			return true
		}
	}
	return false
}

// writeKeyFile writes a new key file readable by its owner only; it
// refuses to overwrite one.
func writeKeyFile(path string, key []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o400)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	return errors.Join(err, f.Sync(), f.Close())
}

// NewKeyFile writes a fresh random 32-byte key to path (mode 0400), which
// must not exist yet.
func NewKeyFile(path string) error {
	k := make([]byte, KEKSize)
	if _, err := rand.Read(k); err != nil {
		return err
	}
	return writeKeyFile(path, k)
}

// RotateKEK re-wraps every data key of the bucket under newKEK, and
// secure-deletes each key's revision wrapped under the old KEK from the
// bucket's stream (its bytes overwritten on disk). Erased keys stay
// erased. Afterwards the keyring uses newKEK; the old KEK opens nothing in
// the bucket and is to be destroyed (retired). Run it with the services
// stopped, or a service still holding the old KEK fails to open new keys
// until it is restarted with the new one. It returns how many keys it
// re-wrapped. Interrupted, it can be run again: keys already under the
// new KEK are recognised and left as they are.
func (k *Keyring) RotateKEK(ctx context.Context, newKEK []byte) (int, error) {
	next, err := newAEAD(newKEK)
	if err != nil {
		return 0, fmt.Errorf("keys: new KEK: %w", err)
	}
	kv, err := k.bucket(ctx)
	if err != nil {
		return 0, err
	}
	stream, err := k.stream(ctx)
	if err != nil {
		return 0, err
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return 0, fmt.Errorf("keys: list data keys: %w", err)
	}
	var names []string
	if lister != nil {
		for n := range lister.Keys() {
			names = append(names, n)
		}
	}
	rotated := 0
	nextRing := &Keyring{kek: next}
	for _, name := range names {
		e, err := kv.Get(ctx, name)
		if err != nil {
			return rotated, fmt.Errorf("keys: get data key %s: %w", name, err)
		}
		if bytes.Equal(e.Value(), tombstone) {
			continue
		}
		if _, err := nextRing.unwrap(name, e.Value()); err == nil {
			continue // rotated already
		}
		dk, err := k.unwrapRaw(name, e.Value())
		if err != nil {
			return rotated, err
		}
		wrapped, err := wrap(next, name, dk)
		if err != nil {
			return rotated, err
		}
		if _, err := kv.Update(ctx, name, wrapped, e.Revision()); err != nil {
			return rotated, fmt.Errorf("keys: re-wrap data key %s: %w", name, err)
		}
		if err := secureDelete(ctx, stream, e.Revision()); err != nil {
			return rotated, err
		}
		rotated++
	}
	k.mu.Lock()
	k.kek = next
	c := k.cache
	k.mu.Unlock()
	if c != nil {
		// Keys cached under the old KEK would no longer unwrap.
		c.reset()
	}
	return rotated, nil
}

// secureDelete overwrites a revision of the bucket's stream on disk. A
// revision the stream no longer holds is fine: there is nothing left.
func secureDelete(ctx context.Context, stream jetstream.Stream, seq uint64) error {
	err := stream.SecureDeleteMsg(ctx, seq)
	if err == nil || errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeMessageNotFound {
		return nil
	}
	return fmt.Errorf("keys: secure delete of revision %d: %w", seq, err)
}

func wrap(kek interface {
	NonceSize() int
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
}, bucketKey string, dk []byte) ([]byte, error) {
	nonce := make([]byte, kek.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	wrapped := append([]byte{versionWrapped}, nonce...)
	return kek.Seal(wrapped, nonce, dk, wrapAAD(bucketKey)), nil
}

// Backup: the KEK sealed under a recovery key, to be kept apart from both
// the KEK and the data (offline, in a safe). Losing the KEK without a
// backup loses every sealed datum; the backup restores it.
const backupMagic = "ddr-kek-backup-v1"

// BackupKEK seals kek under recoveryKey. The result is text (one line).
func BackupKEK(kek, recoveryKey []byte) ([]byte, error) {
	aead, err := newAEAD(recoveryKey)
	if err != nil {
		return nil, fmt.Errorf("keys: recovery key: %w", err)
	}
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("keys: KEK is %d bytes, want %d", len(kek), KEKSize)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	// The KEK's digest is bound in, so a restore says which KEK it is.
	ct := aead.Seal(nonce, nonce, kek, []byte(backupMagic))
	return []byte(backupMagic + ":" + base64.StdEncoding.EncodeToString(ct) + "\n"), nil
}

// RestoreKEK opens a backup made by [BackupKEK] with recoveryKey.
func RestoreKEK(backup, recoveryKey []byte) ([]byte, error) {
	aead, err := newAEAD(recoveryKey)
	if err != nil {
		return nil, fmt.Errorf("keys: recovery key: %w", err)
	}
	text := string(bytes.TrimSpace(backup))
	if len(text) < len(backupMagic)+1 || text[:len(backupMagic)+1] != backupMagic+":" {
		return nil, errors.New("keys: not a KEK backup")
	}
	ct, err := base64.StdEncoding.DecodeString(text[len(backupMagic)+1:])
	if err != nil || len(ct) < aead.NonceSize() {
		return nil, errors.New("keys: KEK backup is malformed")
	}
	kek, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(backupMagic))
	if err != nil {
		return nil, errors.New("keys: KEK backup does not open with this recovery key")
	}
	return kek, nil
}

// KEKID is a short, non-secret name of a KEK (a digest prefix), to tell
// KEKs apart in logs and backups without revealing them.
func KEKID(kek []byte) string {
	s := sha256.Sum256(append([]byte("ddr/kek-id/v1\x00"), kek...))
	return base64.RawURLEncoding.EncodeToString(s[:6])
}

// WriteKeyFile writes key to path (mode 0400); path must not exist.
func WriteKeyFile(path string, key []byte) error { return writeKeyFile(path, key) }

// FindWrapped lists the offsets in b where a wrapped data key of the
// request's kind sits that kek unwraps: what someone holding the KEK and a
// copy of the data directory would try at every byte of every file. For
// audits of erasure and its tests; after [Keyring.EraseKind] it finds
// nothing in the bucket's files.
func FindWrapped(kek []byte, requestID string, kind Kind, b []byte) ([]int, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	key, err := bucketKey(requestID, kind)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	size := 1 + n + 32 + aead.Overhead()
	aad := wrapAAD(key)
	var found []int
	for i := 0; i+size <= len(b); i++ {
		if b[i] != versionWrapped {
			continue
		}
		if _, err := aead.Open(nil, b[i+1:i+1+n], b[i+1+n:i+size], aad); err == nil {
			found = append(found, i)
		}
	}
	return found, nil
}
