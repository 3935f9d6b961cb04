package main

import (
	"math"
	"testing"

	"github.com/ddrsuite/ddr/services/loadgen/bench"
)

func scaleRun(points ...bench.ScalePoint) *results {
	return &results{Rebuild: &bench.RebuildResult{Scale: points}}
}

// The scale goal compares the costs per event at 3 M events with those at
// 1 M, the worst of start-up, report and verification deciding.
func TestScaleGoalTakesTheWorstCostPerEventAt3MAgainst1M(t *testing.T) {
	g := scaleGoal(scaleRun(
		bench.ScalePoint{Events: 10_000, StartSecs: 1, ReportMs: 1, VerifyMs: 100},
		bench.ScalePoint{Events: 1_000_000, StartSecs: 100, ReportMs: 50, VerifyMs: 10_000},
		// Start-up per event 1.1x, report 1.0x, verify 1.3x.
		bench.ScalePoint{Events: 3_000_000, StartSecs: 330, ReportMs: 150, VerifyMs: 39_000},
	))
	if g.Ratio == nil || math.Abs(*g.Ratio-1.3) > 1e-9 || g.Met {
		t.Fatalf("goal %+v: want ratio 1.3 (verify), not met", g)
	}
	if math.Abs(*g.Measured-13_000) > 1e-6 || math.Abs(*g.Baseline-10_000) > 1e-6 {
		t.Errorf("measured %v, baseline %v: want verify ms per 1M events, 13000 against 10000", *g.Measured, *g.Baseline)
	}
	g = scaleGoal(scaleRun(
		bench.ScalePoint{Events: 1_000_000, StartSecs: 100, ReportMs: 50, VerifyMs: 10_000},
		bench.ScalePoint{Events: 3_000_000, StartSecs: 330, ReportMs: 150, VerifyMs: 33_000},
	))
	if g.Ratio == nil || !g.Met {
		t.Errorf("goal %+v: want met at 1.1", g)
	}
}

// A goal is never met by a size nobody measured.
func TestScaleGoalIsNotMetWithoutBothSizes(t *testing.T) {
	for name, r := range map[string]*results{
		"no rebuild":   {},
		"1 M only":     scaleRun(bench.ScalePoint{Events: 1_400_000, StartSecs: 100, ReportMs: 1, VerifyMs: 1}),
		"below 3 M":    scaleRun(bench.ScalePoint{Events: 1_000_000, StartSecs: 100, ReportMs: 1, VerifyMs: 1}, bench.ScalePoint{Events: 2_000_000, StartSecs: 200, ReportMs: 2, VerifyMs: 2}),
		"below 1 M":    scaleRun(bench.ScalePoint{Events: 10_000, StartSecs: 1, ReportMs: 1, VerifyMs: 1}, bench.ScalePoint{Events: 3_000_000, StartSecs: 300, ReportMs: 300, VerifyMs: 300}),
		"report unmet": scaleRun(bench.ScalePoint{Events: 1_000_000, StartSecs: 100, VerifyMs: 1}, bench.ScalePoint{Events: 3_000_000, StartSecs: 300, ReportMs: 3, VerifyMs: 3}),
	} {
		if g := scaleGoal(r); g.Met || g.Ratio != nil {
			t.Errorf("%s: %+v, want unmeasured", name, g)
		}
	}
}

// The decay goal is at 1 M events: a scale run's 3 M point does not
// replace it.
func TestDecayGoalTakesTheFirstPointOfAtLeast1MEvents(t *testing.T) {
	calls := func(v float64) map[string]float64 {
		m := map[string]float64{}
		for _, n := range bench.DecayNames() {
			m[n] = v
		}
		return m
	}
	r := &results{Rebuild: &bench.RebuildResult{Decay: []bench.DecayPoint{
		{Events: 10_000, P50ms: calls(1)},
		{Events: 1_000_000, P50ms: calls(1.1)},
		{Events: 3_000_000, P50ms: calls(2)},
	}}}
	g := decayGoal(r)
	if g.Ratio == nil || math.Abs(*g.Ratio-1.1) > 1e-9 || !g.Met {
		t.Fatalf("goal %+v: want 1.1 at 1 M events, met", g)
	}
}
