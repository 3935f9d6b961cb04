package transparency_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/mod/sumdb/note"

	"github.com/ddrsuite/ddr/services/platform/translog"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

const origin = "example.com/transparency"

func newSigner(t *testing.T) *translog.Signer {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, "example-transparency")
	if err != nil {
		t.Fatal(err)
	}
	s, err := translog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func files(name string, requests int) map[string][]byte {
	return map[string][]byte{
		transparency.FileJSON: fmt.Appendf(nil, "{\"period\":%q,\"totals\":{\"requests\":%d}}\n", name, requests),
		transparency.FileCSV:  fmt.Appendf(nil, "dimension,key,value\ntotal,requests,%d\n", requests),
		transparency.FileHTML: fmt.Appendf(nil, "<p>%d requests</p>\n", requests),
	}
}

// publish appends a report to st as the publisher does (reporting/app).
func publish(t *testing.T, st *transparency.State, s *translog.Signer, name, corrects string, requests int) {
	t.Helper()
	period := name[:len("2026-H1")]
	f := files(name, requests)
	stmt, err := transparency.NewStatement(name, period, corrects, f)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(stmt.Text())
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.Log()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(stmt.Text()); err != nil {
		t.Fatal(err)
	}
	root, _ := l.Root(l.Size())
	cp, err := s.SignCheckpoint(translog.Checkpoint{Origin: st.Origin, Size: l.Size(), Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	st.Entries = append(st.Entries, transparency.Published{Statement: signed, Checkpoint: cp, Files: f})
}

func index(rows []transparency.IndexEntry, cp string) ([]byte, error) {
	var b bytes.Buffer
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %s\n", r.Name, r.CorrectedBy)
	}
	b.WriteString(cp)
	return b.Bytes(), nil
}

func site(t *testing.T, st transparency.State) fstest.MapFS {
	t.Helper()
	fs, err := transparency.Site(st, index)
	if err != nil {
		t.Fatal(err)
	}
	out := fstest.MapFS{}
	for p, b := range fs {
		out[p] = &fstest.MapFile{Data: b}
	}
	return out
}

// three reports, the last a correction, the key rotated before the third.
func history(t *testing.T) (transparency.State, *translog.Signer, *translog.Signer) {
	k0, k1 := newSigner(t), newSigner(t)
	st := transparency.State{Origin: origin, InitialKey: k0.VerifierKey()}
	publish(t, &st, k0, "2025-H2", "", 120)
	publish(t, &st, k0, "2026-H1", "", 130)
	rot, err := translog.Rotate(k0, k1, 3)
	if err != nil {
		t.Fatal(err)
	}
	st.Rotations = append(st.Rotations, rot)
	publish(t, &st, k1, "2026-H1-c1", "2026-H1", 131)
	return st, k0, k1
}

func TestClause5_1_PublishedSiteVerifiesOffline(t *testing.T) {
	st, k0, k1 := history(t)
	fs := site(t, st)
	for _, anchor := range []string{k0.VerifierKey(), k1.VerifierKey()} {
		c, err := transparency.VerifySite(fs, anchor, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.Reports, " "); got != "2025-H2 2026-H1 2026-H1-c1" || c.Checkpoint.Size != 3 {
			t.Fatalf("verified %q at size %d", got, c.Checkpoint.Size)
		}
	}
	if !strings.Contains(string(fs[transparency.PathIndex].Data), "2026-H1 2026-H1-c1") {
		t.Fatalf("the index does not link the correction:\n%s", fs[transparency.PathIndex].Data)
	}
	// A checkpoint kept from an earlier visit is extended by today's log.
	if _, err := transparency.VerifySite(fs, k1.VerifierKey(), st.Entries[0].Checkpoint); err != nil {
		t.Fatal(err)
	}
}

// Publishing the same state twice gives the same bytes, file by file.
func TestClause5_1_RepublishIsByteIdentical(t *testing.T) {
	st, _, _ := history(t)
	a, b := site(t, st), site(t, st)
	if !maps.EqualFunc(a, b, func(x, y *fstest.MapFile) bool { return bytes.Equal(x.Data, y.Data) }) {
		t.Fatal("two publications of one log differ")
	}
}

func TestClause5_1_VerifierDetectsAChangedFigure(t *testing.T) {
	st, k0, _ := history(t)
	for _, f := range transparency.ReportFiles {
		fs := site(t, st)
		p := transparency.ReportPath("2026-H1", f)
		fs[p].Data = bytes.Replace(fs[p].Data, []byte("130"), []byte("103"), 1)
		if _, err := transparency.VerifySite(fs, k0.VerifierKey(), nil); !errors.Is(err, transparency.ErrChanged) {
			t.Fatalf("%s with a changed figure: %v", f, err)
		}
	}
}

// A report taken out of the log: out of the files (the log still names
// it), out of the leaf list (the signed tree no longer rebuilds), or out
// of a log re-signed without it (today's log does not extend a checkpoint
// the verifier kept).
func TestClause5_1_VerifierDetectsARemovedReport(t *testing.T) {
	st, k0, k1 := history(t)
	fs := site(t, st)
	for _, f := range append(transparency.ReportFiles, "statement.note") {
		delete(fs, transparency.ReportPath("2025-H2", f))
	}
	if _, err := transparency.VerifySite(fs, k0.VerifierKey(), nil); !errors.Is(err, transparency.ErrMissing) {
		t.Fatalf("report files removed: %v", err)
	}

	fs = site(t, st)
	fs[transparency.PathLeaves].Data = []byte("0 2026-H1\n1 2026-H1-c1\n")
	if _, err := transparency.VerifySite(fs, k0.VerifierKey(), nil); !errors.Is(err, transparency.ErrLog) {
		t.Fatalf("leaf list without a report: %v", err)
	}

	// The operator rebuilds and re-signs the log without 2025-H2, with the
	// current key; the site is self-consistent, but not with what was
	// published before.
	kept := st.Entries[2].Checkpoint
	forged := transparency.State{Origin: origin, InitialKey: k1.VerifierKey()}
	publish(t, &forged, k1, "2026-H1", "", 130)
	publish(t, &forged, k1, "2026-H1-c1", "2026-H1", 131)
	publish(t, &forged, k1, "2026-H2", "", 140)
	fs = site(t, forged)
	if _, err := transparency.VerifySite(fs, k1.VerifierKey(), nil); err != nil {
		t.Fatalf("the forged site is not even self-consistent: %v", err)
	}
	if _, err := transparency.VerifySite(fs, k1.VerifierKey(), kept); !errors.Is(err, translog.ErrInconsistent) {
		t.Fatalf("a log without a published report passed against a kept checkpoint: %v", err)
	}
}

func TestClause5_1_VerifierDetectsAForgedSignature(t *testing.T) {
	st, k0, _ := history(t)
	fs := site(t, st)
	p := transparency.ReportPath("2026-H1", "statement.note")
	d := fs[p].Data
	d[len(d)-5] ^= 'A' ^ 'B' // inside the signature's base64
	if _, err := transparency.VerifySite(fs, k0.VerifierKey(), nil); !errors.Is(err, translog.ErrSignature) {
		t.Fatalf("forged statement signature: %v", err)
	}
	// A statement signed by a key outside the chain.
	fs = site(t, st)
	stranger := newSigner(t)
	stmt := translog.NoteText(fs[p].Data)
	fs[p].Data, _ = stranger.Sign([]byte(stmt))
	if _, err := transparency.VerifySite(fs, k0.VerifierKey(), nil); !errors.Is(err, translog.ErrSignature) {
		t.Fatalf("statement by an unknown key: %v", err)
	}
}

// After the rotation, the retired key's signature on a new statement or
// checkpoint is refused, though it still vouches for what it signed before.
func TestClause5_1_VerifierDetectsARetiredKeysSignature(t *testing.T) {
	st, k0, k1 := history(t)
	fs := site(t, st)
	p := transparency.ReportPath("2026-H1-c1", "statement.note")
	fs[p].Data, _ = k0.Sign([]byte(translog.NoteText(fs[p].Data)))
	if _, err := transparency.VerifySite(fs, k1.VerifierKey(), nil); !errors.Is(err, translog.ErrRetiredKey) {
		t.Fatalf("statement by the retired key: %v", err)
	}
	fs = site(t, st)
	fs[transparency.PathCheckpoint].Data, _ = k0.Sign([]byte(translog.NoteText(fs[transparency.PathCheckpoint].Data)))
	if _, err := transparency.VerifySite(fs, k1.VerifierKey(), nil); !errors.Is(err, translog.ErrRetiredKey) {
		t.Fatalf("checkpoint by the retired key: %v", err)
	}
}

func TestVerifierRefusesAnUnloggedReport(t *testing.T) {
	st, k0, _ := history(t)
	fs := site(t, st)
	for f, b := range files("2026-H2", 1) {
		fs[transparency.ReportPath("2026-H2", f)] = &fstest.MapFile{Data: b}
	}
	if _, err := transparency.VerifySite(fs, k0.VerifierKey(), nil); !errors.Is(err, transparency.ErrNotLogged) {
		t.Fatalf("report outside the log: %v", err)
	}
}
