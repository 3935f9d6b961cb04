package app_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/translog"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/domain"
	"github.com/ddrsuite/ddr/services/reporting/transparency"
)

// memLog is an in-memory app.PublicLog with the store's create-once rule.
type memLog struct{ st transparency.State }

func (m *memLog) Load(context.Context) (transparency.State, error) {
	st := m.st
	st.Entries = append([]transparency.Published(nil), m.st.Entries...)
	st.Rotations = append([][]byte(nil), m.st.Rotations...)
	return st, nil
}

func (m *memLog) Init(_ context.Context, origin, key string) error {
	if m.st.InitialKey != "" {
		return ddrerr.ErrConflict
	}
	m.st.Origin, m.st.InitialKey = origin, key
	return nil
}

func (m *memLog) Add(_ context.Context, i int, e transparency.Published) error {
	if i != len(m.st.Entries) {
		return ddrerr.ErrConflict
	}
	m.st.Entries = append(m.st.Entries, e)
	return nil
}

func (m *memLog) AddRotation(_ context.Context, n int, r []byte) error {
	if n != len(m.st.Rotations)+1 {
		return ddrerr.ErrConflict
	}
	m.st.Rotations = append(m.st.Rotations, r)
	return nil
}

func signer(t *testing.T) *translog.Signer {
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

func render(r *domain.Report) (map[string][]byte, error) {
	s := fmt.Sprintf("%s %d\n", r.Period, r.Totals.Requests)
	return map[string][]byte{transparency.FileJSON: []byte(s), transparency.FileCSV: []byte(s), transparency.FileHTML: []byte(s)}, nil
}

func index([]transparency.IndexEntry, string) ([]byte, error) { return []byte("index\n"), nil }

func publisher(t *testing.T, log app.PublicLog, s, prev *translog.Signer) *app.Publisher {
	t.Helper()
	a, err := app.New(app.Config{Report: domain.DefaultConfig(), Now: func() time.Time { return time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) }}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return app.NewPublisher(a, app.NewReports(), log, app.PublishConfig{Origin: "example.com/t", Signer: s, Previous: prev, Render: render, Index: index})
}

func asFS(site map[string][]byte) fstest.MapFS {
	fs := fstest.MapFS{}
	for p, b := range site {
		fs[p] = &fstest.MapFile{Data: b}
	}
	return fs
}

// The signing key is rotated by starting the publisher on the new key
// with the old one as previous: the rotation statement, signed by both, is
// published with the next report, which the new key signs; the site
// verifies from either key. A publisher on a key that is not the log's,
// without the log's key as previous, publishes nothing.
func TestClause5_1_KeyRotationPublishesTheNewKeySignedByTheOld(t *testing.T) {
	ctx := context.Background()
	log := &memLog{}
	k0, k1 := signer(t), signer(t)
	if _, err := publisher(t, log, k0, nil).Publish(ctx, domain.Period{Year: 2026, Half: domain.H1}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := publisher(t, log, k1, nil).Publish(ctx, domain.Period{Year: 2026, Half: domain.H2}, false); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("publishing with a stranger key: %v", err)
	}
	if _, err := publisher(t, log, k1, signer(t)).Publish(ctx, domain.Period{Year: 2026, Half: domain.H2}, false); !errors.Is(err, ddrerr.ErrFailedPrecondition) {
		t.Fatalf("publishing with a previous key that is not the log's: %v", err)
	}
	pub, err := publisher(t, log, k1, k0).Publish(ctx, domain.Period{Year: 2026, Half: domain.H2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(log.st.Rotations) != 1 || string(pub.Site[transparency.PathPublicKey]) != k1.VerifierKey()+"\n" {
		t.Fatalf("%d rotations, public key %q", len(log.st.Rotations), pub.Site[transparency.PathPublicKey])
	}
	for _, anchor := range []string{k0.VerifierKey(), k1.VerifierKey()} {
		c, err := transparency.VerifySite(asFS(pub.Site), anchor, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Reports) != 2 {
			t.Fatalf("reports %v", c.Reports)
		}
	}
	// After the rotation the old key is only the previous one: publishing
	// again on the new key alone works and adds nothing; the site is the
	// same bytes.
	again, err := publisher(t, log, k1, nil).Publish(ctx, domain.Period{Year: 2026, Half: domain.H2}, false)
	if err != nil || again.Added {
		t.Fatalf("republish: %v added=%v", err, again != nil && again.Added)
	}
	if !maps.EqualFunc(pub.Site, again.Site, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatal("republishing after the rotation changed the site")
	}
}
