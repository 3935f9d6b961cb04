package adapters_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/assessment/adapters"
	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// The store is a compare-and-set on one key: a save on a stale revision
// is a conflict (two people never both change the setting on stale views),
// and the key's history keeps every setting, oldest first.
func TestScopeStoreSavesUnderCompareAndSetAndKeepsTheHistory(t *testing.T) {
	ctx := context.Background()
	n := natstest.Start(t)
	s, err := adapters.EnsureScopeStore(ctx, n.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, rev, err := s.Load(ctx); err != nil || rev != 0 {
		t.Fatalf("empty bucket: rev %d, %v; want 0 and no error", rev, err)
	}
	first := domain.InitialScope(domain.VerifyAll, "operator", t0)
	if err := s.Save(ctx, first, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, first, 0); !errors.Is(err, ddrerr.ErrConflict) {
		t.Fatalf("a second first save: %v, want a conflict", err)
	}
	got, rev, err := s.Load(ctx)
	if err != nil || got.InForce.Scope != domain.VerifyAll || rev == 0 {
		t.Fatalf("load: %+v rev %d %v", got, rev, err)
	}
	next := domain.ScopeState{InForce: domain.ScopeSetting{Scope: domain.VerifyEmergency, ChangedBy: "alice", ConfirmedBy: "bob", ChangedAt: t0, ConfirmedAt: t0}}
	if err := s.Save(ctx, next, rev); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, first, rev); !errors.Is(err, ddrerr.ErrConflict) {
		t.Fatalf("a save on a stale revision: %v, want a conflict", err)
	}
	h, err := s.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].InForce.Scope != domain.VerifyAll || h[1].InForce.ConfirmedBy != "bob" {
		t.Fatalf("history %+v; want all, then emergency confirmed by bob", h)
	}
	// A stored scope nobody knows is an error, never a silent default:
	// cases do not open under a scope nobody set.
	if _, err := s.KV.Put(ctx, "verify_scope", []byte(`{"InForce":{"Scope":"none"}}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load(ctx); err == nil {
		t.Error("an unknown stored scope loaded without error")
	}
}
