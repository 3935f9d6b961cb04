package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ddrsuite/ddr/services/loadgen/bench"
)

// goal is one of issue 19's goals as a run measured it. Measured,
// Baseline and Ratio are nil where this run did not measure them: a goal
// is never met by a number nobody measured.
type goal struct {
	ID       string   `json:"id"`
	Measured *float64 `json:"measured"`
	Baseline *float64 `json:"baseline"`
	Ratio    *float64 `json:"ratio"`
	Target   float64  `json:"target"`
	Met      bool     `json:"met"`
	// Unit of Measured and Baseline; Note says what was measured, or why
	// nothing was.
	Unit string `json:"unit"`
	Note string `json:"note,omitempty"`
}

// goalLevel is the concurrency the goals are stated at: 32, or the
// highest level this run measured.
func goalLevel(res *results) int {
	lvl := 0
	for _, l := range res.Config.Levels {
		if l == 32 {
			return 32
		}
		lvl = max(lvl, l)
	}
	return lvl
}

func find(res *results, workload string, c int) (bench.Result, bool) {
	for _, r := range res.Results {
		if r.Workload == workload && r.Concurrency == c {
			return r, true
		}
	}
	return bench.Result{}, false
}

func ptr(v float64) *float64 { return &v }

// ratioGoal compares a workload's throughput with another's at the goal
// level: measured / baseline >= target.
func ratioGoal(res *results, id, workload, baseline string, target float64) goal {
	c := goalLevel(res)
	g := goal{ID: id, Target: target, Unit: "req/s", Note: fmt.Sprintf("%s / %s at c=%d", workload, baseline, c)}
	m, ok1 := find(res, workload, c)
	b, ok2 := find(res, baseline, c)
	if !ok1 || !ok2 || b.RPS == 0 {
		g.Note = "not measured in this run"
		return g
	}
	g.Measured, g.Baseline, g.Ratio = ptr(m.RPS), ptr(b.RPS), ptr(m.RPS/b.RPS)
	g.Met = *g.Ratio >= target && m.Errors == 0
	if m.Errors > 0 {
		g.Note += fmt.Sprintf("; %d errors", m.Errors)
	}
	return g
}

// goals evaluates issue 19's goals on what this run measured.
func goals(res *results) []goal {
	c := goalLevel(res)
	out := []goal{
		ratioGoal(res, "submit_c32", "submit", "baseline js publish", 0.5),
		ratioGoal(res, "get_c32", "get", "baseline grpc echo", 0.5),
	}
	// The slowest of the three staff reads decides; all must meet it.
	staff := goal{ID: "staff_reads_c32", Target: 0.3, Unit: "req/s", Note: "not measured in this run"}
	allMet := true
	for _, s := range staffReads {
		g := ratioGoal(res, "staff_reads_c32", s.name, "baseline grpc echo", 0.3)
		if g.Ratio == nil {
			staff = goal{ID: "staff_reads_c32", Target: 0.3, Unit: "req/s", Note: "not measured in this run"}
			allMet = false
			break
		}
		allMet = allMet && g.Met
		if staff.Ratio == nil || *g.Ratio < *staff.Ratio {
			staff = g
			staff.Note = "slowest of GetCase, GetPlan, GetRecord: " + g.Note
		}
	}
	staff.Met = allMet
	out = append(out, staff, ratioGoal(res, "list_c32", "list (page of 50)", "baseline grpc echo", 0.1))
	// Reactor lag: how long the durable consumers took to catch up once
	// the submits at the goal level stopped, which is their lag then.
	lag := goal{ID: "reactor_lag", Target: 2, Unit: "s", Note: "not measured in this run"}
	if d, ok := res.Drains[fmt.Sprintf("%s c=%d", lagWorkload, c)]; ok {
		lag.Measured = ptr(d)
		lag.Met = d <= 2
		lag.Note = fmt.Sprintf("catch-up of every durable consumer after %s of submit at c=%d", res.Config.LagDuration, c)
		if res.Config.LagDuration < 60*time.Second {
			lag.Met = false
			lag.Note += "; not met: the submit ran shorter than the goal's 60 s"
		}
	}
	out = append(out, lag)
	pipe := ratioGoal(res, "pipeline", "pipeline submit→sealed", "submit", 0.25)
	out = append(out, pipe,
		decayGoal(res),
		scaleGoal(res),
	)
	return out
}

func writeGoals(md *strings.Builder, gs []goal) {
	md.WriteString("\n## Goals (issue 19)\n\n| id | measured | baseline | ratio | target | met | note |\n| --- | ---: | ---: | ---: | ---: | --- | --- |\n")
	num := func(v *float64) string {
		if v == nil {
			return "—"
		}
		if *v >= 100 {
			return fmt.Sprintf("%.0f", *v)
		}
		return fmt.Sprintf("%.3g", *v)
	}
	for _, g := range gs {
		target := fmt.Sprintf("≥ %.2g", g.Target)
		if g.Unit != "req/s" {
			target = fmt.Sprintf("≤ %.2g", g.Target)
			if g.Unit == "s" {
				target += " s"
			}
		}
		fmt.Fprintf(md, "| %s | %s | %s | %s | %s | %v | %s |\n", g.ID, num(g.Measured), num(g.Baseline), num(g.Ratio), target, g.Met, g.Note)
	}
}

// decayGoal: the worst ratio of a call's p50 with the whole load to its
// p50 with about 10,000 events; met only if the load reached 1 M events.
func decayGoal(res *results) goal {
	g := goal{ID: "decay", Target: 1.2, Unit: "ratio", Note: "not measured in this run (needs -rebuild-requests)"}
	rb := res.Rebuild
	if rb == nil || len(rb.Decay) < 2 {
		return g
	}
	// The goal's size is 1 M events: the first point at least that large
	// (a scale run probes at 3 M too), else the largest.
	small, big := rb.Decay[0], rb.Decay[len(rb.Decay)-1]
	if i := slices.IndexFunc(rb.Decay, func(p bench.DecayPoint) bool { return p.Events >= 1_000_000 }); i > 0 {
		big = rb.Decay[i]
	}
	worst, which := 0.0, ""
	for _, name := range bench.DecayNames() {
		if small.P50ms[name] <= 0 {
			return g
		}
		if r := big.P50ms[name] / small.P50ms[name]; r > worst {
			worst, which = r, name
		}
	}
	g.Measured, g.Baseline, g.Ratio = ptr(big.P50ms[which]), ptr(small.P50ms[which]), ptr(worst)
	g.Unit = "ms"
	g.Met = worst <= g.Target && big.Events >= 1_000_000
	g.Note = fmt.Sprintf("worst call %s: p50 at %d events / p50 at %d events, c=1", which, big.Events, small.Events)
	if big.Events < 1_000_000 {
		g.Note += "; not met: the load stayed below the goal's 1,000,000 events"
	}
	return g
}

func writeDecay(md *strings.Builder, rb *bench.RebuildResult) {
	if rb == nil || len(rb.Decay) == 0 {
		return
	}
	md.WriteString("\n### Decay: the same calls on the same requests as the record grows\n\n" +
		"p50 in ms of each call, one client, on the template requests (real requests at the start of the stream), " +
		"measured in the probe process after start-up in rounds of 200 calls each until two rounds agreed within 20 % (at most a minute).\n\n| call |")
	for _, p := range rb.Decay {
		fmt.Fprintf(md, " %d events |", p.Events)
	}
	md.WriteString(" ratio, last to first |\n| --- |")
	for range rb.Decay {
		md.WriteString(" ---: |")
	}
	md.WriteString(" ---: |\n")
	for _, name := range bench.DecayNames() {
		fmt.Fprintf(md, "| %s |", name)
		for _, p := range rb.Decay {
			fmt.Fprintf(md, " %.2f |", p.P50ms[name])
		}
		first, last := rb.Decay[0].P50ms[name], rb.Decay[len(rb.Decay)-1].P50ms[name]
		if first > 0 {
			fmt.Fprintf(md, " %.2f |\n", last/first)
		} else {
			md.WriteString(" — |\n")
		}
	}
	md.WriteString("\nRounds until stable:")
	for _, p := range rb.Decay {
		fmt.Fprintf(md, " %d at %d events;", p.Rounds, p.Events)
	}
	md.WriteString("\n")
}

// Sizes of the scale goal: the costs per event at scaleBig events compared
// with those at scaleSmall (a little slack: the copies come in whole
// requests).
const (
	scaleSmall = 1_000_000
	scaleBig   = 2_900_000
)

// scaleGoal: the worst ratio, over start-up and the report's build and
// verification, of the cost per event with the whole load (3 M events) to
// the cost per event at 1 M events.
func scaleGoal(res *results) goal {
	g := goal{ID: "scale", Target: 1.2, Unit: "ratio", Note: "not measured by this run (needs -scale: report and rebuild at 1 M and 3 M events)"}
	rb := res.Rebuild
	if rb == nil {
		return g
	}
	i := slices.IndexFunc(rb.Scale, func(p bench.ScalePoint) bool { return p.Events >= scaleSmall })
	if i < 0 || i == len(rb.Scale)-1 || rb.Scale[len(rb.Scale)-1].Events < scaleBig {
		return g
	}
	small, big := rb.Scale[i], rb.Scale[len(rb.Scale)-1]
	sp, bp := small.PerMillion(), big.PerMillion()
	worst, which := 0.0, ""
	for _, k := range slices.Sorted(maps.Keys(sp)) {
		if sp[k] <= 0 {
			return g
		}
		if r := bp[k] / sp[k]; r > worst {
			worst, which = r, k
		}
	}
	g.Measured, g.Baseline, g.Ratio = ptr(bp[which]), ptr(sp[which]), ptr(worst)
	g.Unit = "per 1M events"
	g.Met = worst <= g.Target
	g.Note = fmt.Sprintf("worst: %s per 1M events at %d events / at %d events", which, big.Events, small.Events)
	return g
}

func writeScale(md *strings.Builder, rb *bench.RebuildResult) {
	if rb == nil || len(rb.Scale) == 0 {
		return
	}
	md.WriteString("\n### Scale: start-up and the report as the record grows\n\n" +
		"Each probe (a fresh process) started the suite on the record, then built the half-year transparency report (JSON) from " +
		"reporting's read model and verified it (a fold of the record up to the report's sequence), three times each, the fastest counting.\n\n" +
		"| events | requests in the report | heap MiB | start-up s | report ms | verify ms | start-up s per 1M events | report ms per 1M events | verify ms per 1M events |\n" +
		"| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range rb.Scale {
		pm := p.PerMillion()
		fmt.Fprintf(md, "| %d | %d | %.0f | %.2f | %.1f | %.1f | %.2f | %.1f | %.1f |\n", p.Events, p.ReportRequests, p.HeapMiB,
			p.StartSecs, p.ReportMs, p.VerifyMs, pm["start-up (s)"], pm["report (ms)"], pm["verify report (ms)"])
	}
}
