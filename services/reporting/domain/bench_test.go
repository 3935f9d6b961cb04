package domain_test

import (
	"sync"
	"testing"
	"time"

	"github.com/ddrsuite/ddr/services/reporting/domain"
)

var million = sync.OnceValue(func() []domain.ReportFacts { return toFacts(genRequests(1, 1_000_000, h1)) })

// rawScan is the floor any report must pay: touch every fact once, with
// the period test, and nothing else.
func rawScan(facts []domain.ReportFacts, p domain.Period) int {
	start, end := p.Start(), p.End()
	n := 0
	for i := range facts {
		if !facts[i].ReceivedAt.Before(start) && facts[i].ReceivedAt.Before(end) {
			n += facts[i].AccountsSpecified
		}
	}
	return n
}

var sink int

// BenchmarkBuildReport_1M builds a report over a million recorded requests
// and reports, from the same run, how many raw scans of the facts one report
// costs (x-raw-scan).
func BenchmarkBuildReport_1M(b *testing.B) {
	facts := million()
	const scans = 5
	t0 := time.Now()
	for range scans {
		sink += rawScan(facts, h1)
	}
	scan := time.Since(t0) / scans

	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		r, err := domain.BuildReport(facts, h1, cfg250, late)
		if err != nil {
			b.Fatal(err)
		}
		sink += r.Totals.Requests
		n++
	}
	b.ReportMetric(float64(b.Elapsed())/float64(n)/float64(scan), "x-raw-scan")
	b.ReportMetric(float64(scan.Nanoseconds()), "raw-scan-ns")
}

func BenchmarkRawScan_1M(b *testing.B) {
	facts := million()
	b.ReportAllocs()
	for b.Loop() {
		sink += rawScan(facts, h1)
	}
}
