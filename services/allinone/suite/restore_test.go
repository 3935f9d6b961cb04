package suite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
)

// The backup and restore drill of deploy/README.md: with the suite
// stopped, back up the JetStream store (the DDR stream and every KV
// bucket: data keys, idempotency keys) and the KEK and fingerprint key
// under a recovery key kept apart; lose everything; restore into a fresh
// data directory and keys, start a fresh suite on them, and every record
// still verifies, the personal data opens, and a retried submission is
// still recognised.
func TestRestoreDrill_StoreAndKeysIntoAFreshSuiteEveryRecordVerifies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cfg := suite.DefaultConfig()
	dirA := t.TempDir()
	a := runnertest.Start(t, runnertest.Options{Insecure: true, DataDir: dirA}, cfg.Build)
	in := intakev1.NewIntakeServiceClient(a.Dial(t, member))
	demands := map[string]*intakev1.SubmitRequest{}
	var ids []string
	for i := range 2 {
		key := fmt.Sprintf("restore-%d", i)
		demands[key] = &intakev1.SubmitRequest{IdempotencyKey: key, Request: request(time.Now().Add(-time.Hour))}
		sub, err := in.Submit(ctx, demands[key])
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.GetRequestId())
		decideDisclosure(t, ctx, assessmentv1.NewAssessmentServiceClient(a.Dial(t, reviewer)), assessmentv1.NewAssessmentServiceClient(a.Dial(t, approver)), sub.GetRequestId())
		// Every disclosure notifies the lead DPA first (2.2): by a
		// two-person manual dispatch here, no DPA address being configured.
		dispatchLeadPacket(t, ctx, a, sub.GetRequestId())
	}
	re := reportingv1.NewReportingServiceClient(a.Dial(t, reviewer))
	for _, id := range ids {
		waitSealed(t, ctx, re, id)
	}
	a.Stop(t)

	// Back up: the store as it is on disk (the server is stopped, so it is
	// consistent), the keys wrapped under a recovery key.
	backup, offline := t.TempDir(), t.TempDir()
	if err := os.CopyFS(filepath.Join(backup, "jetstream"), os.DirFS(filepath.Join(dirA, "jetstream"))); err != nil {
		t.Fatal(err)
	}
	recFile := filepath.Join(offline, "recovery-key")
	if err := keys.NewKeyFile(recFile); err != nil {
		t.Fatal(err)
	}
	recovery, err := keys.LoadKEKFile(recFile)
	if err != nil {
		t.Fatal(err)
	}
	keyBackups := map[string][]byte{}
	for _, name := range []string{runner.KEKFileName, keys.FingerprintKeyFileName} {
		k, err := keys.LoadKEKFile(filepath.Join(dirA, "pki", name))
		if err != nil {
			t.Fatal(err)
		}
		if keyBackups[name], err = keys.BackupKEK(k, recovery); err != nil {
			t.Fatal(err)
		}
	}
	// Lost: the data directory and the keys with it.
	if err := os.RemoveAll(dirA); err != nil {
		t.Fatal(err)
	}

	// Restore into a fresh directory and start a fresh suite there.
	dirB := t.TempDir()
	if err := os.CopyFS(filepath.Join(dirB, "jetstream"), os.DirFS(filepath.Join(backup, "jetstream"))); err != nil {
		t.Fatal(err)
	}
	for name, b := range keyBackups {
		k, err := keys.RestoreKEK(b, recovery)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dirB, "pki"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := keys.WriteKeyFile(filepath.Join(dirB, "pki", name), k); err != nil {
			t.Fatal(err)
		}
	}
	b := runnertest.Start(t, runnertest.Options{Insecure: true, DataDir: dirB}, cfg.Build)
	reB := reportingv1.NewReportingServiceClient(b.Dial(t, reviewer))
	inB := intakev1.NewIntakeServiceClient(b.Dial(t, member))
	for _, id := range ids {
		v, err := reB.VerifyRecord(ctx, &reportingv1.VerifyRecordRequest{RequestId: id})
		if err != nil || !v.GetValid() || v.GetSealsChecked() == 0 {
			t.Errorf("record %s after the restore: %v, %v", id, v, err)
		}
		// The targets are sealed with data keys the restored KEK opens.
		got, err := inB.Get(ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			t.Fatalf("Get %s after the restore: %v", id, err)
		}
		if ts := got.GetRequest().GetContent().GetTargets(); len(ts) != 1 || ts[0].GetValue() != "acct-981" {
			t.Errorf("targets of %s after the restore: %v", id, ts)
		}
	}
	for key, d := range demands {
		res, err := inB.Submit(ctx, d)
		if err != nil || !res.GetReplayed() {
			t.Errorf("retry of %s after the restore: %v, %v; want the first submission's answer", key, res, err)
		}
	}
}

// waitSealed waits for the request's record to end sealed, and returns it.
func waitSealed(t *testing.T, ctx context.Context, re reportingv1.ReportingServiceClient, id string) *reportingv1.Record {
	t.Helper()
	var rec *reportingv1.Record
	eventually(t, func() error {
		res, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return err
		}
		rec = res.GetRecord()
		if n := len(rec.GetEntries()); n == 0 || rec.GetEntries()[n-1].GetEventType() != "ddr.reporting.v1.RecordSealed" {
			return fmt.Errorf("record not sealed yet (%d entries)", n)
		}
		return nil
	})
	return rec
}
