package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/translog"
	"github.com/ddrsuite/ddr/services/reporting/app"
)

type keyer struct{}

func (keyer) Fingerprint(purpose string, parts ...[]byte) string {
	h := sha256.New()
	h.Write([]byte(purpose))
	for _, p := range parts {
		h.Write(p)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

type given struct {
	c  translog.Checkpoint
	ok bool
}

func (g *given) Last(context.Context) (translog.Checkpoint, bool, error) { return g.c, g.ok, nil }
func (g *given) Put(_ context.Context, c translog.Checkpoint) error      { g.c, g.ok = c, true; return nil }

func sealed(seq uint64, head string) eventstore.Event {
	h := sha256.Sum256([]byte(head))
	return eventstore.Event{RequestID: fmt.Sprint("req-", seq), Sequence: seq, Payload: &reportingv1.RecordSealed{HeadHash: h[:], EntryCount: 2, LastSequence: seq - 1}}
}

func recordLog(t *testing.T, heads ...string) *app.RecordLog {
	t.Helper()
	l := app.NewRecordLog(keyer{})
	for i, h := range heads {
		if err := l.Apply(sealed(uint64(10*(i+1)), h)); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// The record log is rebuilt from the stream at every start. Rebuilt from
// a stream whose seal was rewritten, it no longer extends the tree already
// handed to DPAs, and the service refuses to sign a new checkpoint: the
// rewrite shows at the service, not only at the DPA.
func TestClause5_1_RecordLogRebuiltFromARewrittenStreamIsRefused(t *testing.T) {
	ctx := context.Background()
	k := signer(t)
	g := &given{}
	if _, _, err := app.NewDPA(nil, recordLog(t, "a", "b", "c"), k, "o/record-log", g).Consistency(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if !g.ok || g.c.Size != 3 {
		t.Fatalf("checkpoint kept: %+v", g.c)
	}
	if _, _, err := app.NewDPA(nil, recordLog(t, "a", "b", "c", "d"), k, "o/record-log", g).Consistency(ctx, 3); err != nil {
		t.Fatalf("an honest, longer log: %v", err)
	}
	for name, heads := range map[string][]string{
		"a seal rewritten": {"a", "B", "c", "d", "e"},
		"a seal removed":   {"a", "c", "d", "e"},
		"the log cut":      {"a", "b"},
	} {
		_, _, err := app.NewDPA(nil, recordLog(t, heads...), k, "o/record-log", g).Consistency(ctx, 0)
		if !errors.Is(err, app.ErrRecordRewritten) {
			t.Errorf("%s: %v, want the rewrite refused", name, err)
		}
	}
}
