package bench

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Result is one measurement: one workload at one concurrency.
type Result struct {
	Workload    string  `json:"workload"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"req_per_s"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	// Baseline names the baseline row compared against, at the same
	// concurrency; Ratio is RPS / baseline RPS, P50Ratio p50 / baseline p50.
	Baseline string  `json:"baseline,omitempty"`
	Ratio    float64 `json:"ratio_to_baseline,omitempty"`
	P50Ratio float64 `json:"p50_ratio_to_baseline,omitempty"`
	// Extra latencies of a workload (the pipeline's submit→cleared).
	Extra map[string]float64 `json:"extra,omitempty"`
	// FirstError is the text of the first failed call, if any.
	FirstError string `json:"first_error,omitempty"`
}

// Op is one call of a workload by worker w; it returns extra latencies to
// record (name -> duration) or nil.
type Op func(ctx context.Context, w int) (map[string]time.Duration, error)

// Measure runs op in a closed loop on conc workers for d (after a warm-up
// of d/5 that is not counted) and summarises the latencies.
func Measure(ctx context.Context, name string, conc int, d time.Duration, op Op) Result {
	warm := d / 5
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+d)
	type part struct {
		lat    []time.Duration
		extra  map[string][]time.Duration
		errs   int
		errTxt string
	}
	parts := make([]part, conc)
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &parts[w]
			p.extra = map[string][]time.Duration{}
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				extra, err := op(ctx, w)
				took := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					p.errs++
					if p.errTxt == "" {
						p.errTxt = err.Error()
					}
					continue
				}
				p.lat = append(p.lat, took)
				for k, v := range extra {
					p.extra[k] = append(p.extra[k], v)
				}
			}
		}()
	}
	wg.Wait()
	// The window ends when the last counted call started; calls still
	// running then finish inside it, so use the real elapsed time.
	elapsed := time.Since(measureFrom)
	r := Result{Workload: name, Concurrency: conc, Seconds: elapsed.Seconds()}
	var all []time.Duration
	extra := map[string][]time.Duration{}
	for _, p := range parts {
		all = append(all, p.lat...)
		r.Errors += p.errs
		if r.FirstError == "" {
			r.FirstError = p.errTxt
		}
		for k, v := range p.extra {
			extra[k] = append(extra[k], v...)
		}
	}
	r.Requests = len(all)
	r.RPS = float64(len(all)) / elapsed.Seconds()
	r.P50ms, r.P99ms = pct(all, 0.50), pct(all, 0.99)
	for k, v := range extra {
		if r.Extra == nil {
			r.Extra = map[string]float64{}
		}
		r.Extra[k+"_p50_ms"], r.Extra[k+"_p99_ms"] = pct(v, 0.50), pct(v, 0.99)
	}
	return r
}

// pct is the q-quantile in milliseconds (nearest rank).
func pct(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(q*float64(len(d)) + 0.5)
	i = min(max(i-1, 0), len(d)-1)
	return float64(d[i].Microseconds()) / 1000
}

// Compare fills r's ratio fields from the baseline b.
func (r *Result) Compare(b Result) {
	r.Baseline = b.Workload
	if b.RPS > 0 {
		r.Ratio = r.RPS / b.RPS
	}
	if b.P50ms > 0 {
		r.P50Ratio = r.P50ms / b.P50ms
	}
}
