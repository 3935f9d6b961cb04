package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/natsx"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

func unwrappable(kek []byte, id string, b []byte) []int {
	at, err := FindWrapped(kek, id, Subject, b)
	if err != nil {
		panic(err)
	}
	return at
}

// dataDirFiles reads every file under dir.
func dataDirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// After erasure, someone with the KEK and a copy of the data directory
// recovers nothing: no byte sequence of any file unwraps to the erased
// key (the bucket overwrote it, not just unlinked it), and a 100,000-value
// dictionary that holds the real value matches nothing stored (no value
// in clear, no plain digest of one). The RECORD key of the same request
// stays readable. Before erasure the same scan finds the key, so the scan
// is not blind.
func TestErasedKeyIsNotRecoverableFromTheDataDirectoryWithTheKEK(t *testing.T) {
	env := natstest.Start(t, natstest.Options{SyncAlways: true})
	dir := env.Server.JetStreamConfig().StoreDir
	ctx := t.Context()
	kr, _, kek := streamKeyring(t, env)
	const id, target = "req-shred", "+49 151 23456789"
	sealed, err := kr.Seal(ctx, id, TargetLabel("t1"), []byte(target))
	if err != nil {
		t.Fatal(err)
	}
	record, err := kr.SealKind(ctx, id, Record, "record", []byte("the 4.2.2 efforts"))
	if err != nil {
		t.Fatal(err)
	}
	// Other requests' keys around it, as in a real bucket.
	for i := range 20 {
		if _, err := kr.Seal(ctx, fmt.Sprintf("req-%d", i), "x", []byte("y")); err != nil {
			t.Fatal(err)
		}
	}
	found := 0
	for _, b := range dataDirFiles(t, dir) {
		found += len(unwrappable(kek, id, b))
	}
	if found == 0 {
		t.Fatal("before erasure the scan finds no wrapped key: it is blind")
	}

	if err := kr.Erase(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Open(ctx, id, TargetLabel("t1"), sealed); err == nil {
		t.Fatal("the erased value still opens")
	}
	if pt, err := kr.OpenKind(ctx, id, Record, "record", record); err != nil || string(pt) != "the 4.2.2 efforts" {
		t.Fatalf("the record key after the subject's erasure: %q, %v", pt, err)
	}
	env.Conn.Close()
	natsx.Shutdown(env.Server)

	files := dataDirFiles(t, dir)
	var size int
	for path, b := range files {
		size += len(b)
		if at := unwrappable(kek, id, b); len(at) > 0 {
			t.Errorf("the erased key unwraps with the KEK from %s at %v", path, at)
		}
	}

	// The dictionary: 100,000 phone numbers, the real one among them,
	// each tried in clear and as SHA-256 (raw, hex, base64) against every
	// stored byte.
	start := time.Now()
	dict := make([]string, 0, 100_000)
	for i := range 99_999 {
		dict = append(dict, fmt.Sprintf("+49 151 %08d", 23400000+i))
	}
	dict = append(dict, target)
	var all []byte
	for _, b := range files {
		all = append(all, b...)
		all = append(all, 0)
	}
	hits := 0
	for _, v := range dict {
		sum := sha256.Sum256([]byte(v))
		for _, probe := range [][]byte{[]byte(v), sum[:], []byte(hex.EncodeToString(sum[:])), []byte(base64.StdEncoding.EncodeToString(sum[:])), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))} {
			if bytes.Contains(all, probe) {
				hits++
			}
		}
	}
	if hits > 0 {
		t.Errorf("the dictionary matched %d stored values or digests", hits)
	}
	t.Logf("dictionary of %d values (5 probes each) against %d files, %d bytes: %d hits in %v", len(dict), len(files), size, hits, time.Since(start))
}
