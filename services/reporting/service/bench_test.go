package service_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
	"github.com/ddrsuite/ddr/services/platform/projection"
	"github.com/ddrsuite/ddr/services/reporting/adapters"
	"github.com/ddrsuite/ddr/services/reporting/app"
	"github.com/ddrsuite/ddr/services/reporting/domain"
)

// BenchmarkReport_1MRecordedRequests measures transparency report
// generation over a recorded half-year against a raw scan of the same
// stream, in the same run. The documented run is 1,000,000 requests:
//
//	cd services/reporting && go test -run '^$' -bench Report_1M -benchtime 1x -timeout 2h ./service/
//
// DDR_BENCH_REQUESTS=<n> makes it smaller. Metrics per iteration:
//
//	raw-scan-s        read every stored message of the stream (direct gets), nothing decoded
//	record-report-s   report from the record: scan, hash the stored bytes, decode what the fold needs, fold, build
//	rebuild-s         the service's start: replay the stream into the read model (platform/projection)
//	build-s           a report request once running: build from the read model
//	record/raw, rebuild/raw, build/raw   the ratios to the raw scan
func BenchmarkReport_1MRecordedRequests(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("DDR_BENCH_REQUESTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	env := natstest.Start(b) // the server's default sync, not SyncAlways
	ctx := context.Background()
	if err := eventstore.EnsureStreams(ctx, env.JS, eventstore.StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	reqs := genRequests(11, n, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
	start := time.Now()
	last := publishAll(b, env.JS, events(reqs))
	b.Logf("published %d requests, %d events in %s", n, last, time.Since(start).Round(time.Millisecond))

	now := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	a, err := app.New(app.Config{Report: domain.DefaultConfig(), Now: func() time.Time { return now }, ScanTimeout: time.Hour}, adapters.Stream{JS: env.JS}, eventstore.NewStore(env.JS))
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	var raw, record, rebuild, build time.Duration
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		var msgs, bytes int
		sctx, cancel := context.WithTimeout(ctx, time.Hour)
		if err := eventstore.Scan(sctx, env.JS, eventstore.StreamName, "" /* the whole stream */, func(m eventstore.RawMsg) error {
			msgs++
			bytes += len(m.Data)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		cancel()
		raw += time.Since(t)
		if uint64(msgs) != last {
			b.Fatalf("raw scan read %d messages, want %d", msgs, last)
		}

		t = time.Now()
		facts, _, err := a.FactsFromRecord(ctx, h1, 0)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := domain.BuildReport(facts, h1, domain.DefaultConfig(), now)
		if err != nil {
			b.Fatal(err)
		}
		record += time.Since(t)

		t = time.Now()
		model := app.NewReports()
		p, err := projection.Start(ctx, env.JS, app.ReportSubjects, model.Apply, logger)
		if err != nil {
			b.Fatal(err)
		}
		rebuild += time.Since(t)
		p.Stop()

		t = time.Now()
		rep2, err := a.Report(model, h1)
		if err != nil {
			b.Fatal(err)
		}
		build += time.Since(t)
		if rep2.Digest.MerkleRoot != rep.Digest.MerkleRoot || rep.Totals.Requests+rep2.Totals.Requests == 0 {
			b.Fatal("the read model and the record disagree")
		}
	}
	it := float64(b.N)
	b.ReportMetric(raw.Seconds()/it, "raw-scan-s")
	b.ReportMetric(record.Seconds()/it, "record-report-s")
	b.ReportMetric(rebuild.Seconds()/it, "rebuild-s")
	b.ReportMetric(build.Seconds()/it, "build-s")
	b.ReportMetric(record.Seconds()/raw.Seconds(), "record/raw")
	b.ReportMetric(rebuild.Seconds()/raw.Seconds(), "rebuild/raw")
	b.ReportMetric(build.Seconds()/raw.Seconds(), "build/raw")
}
