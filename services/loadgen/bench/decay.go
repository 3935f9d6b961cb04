package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// DecayPoint is the latency of each per-request call, one client at a
// time, with a number of events in the stream.
type DecayPoint struct {
	Events int                `json:"events"`
	P50ms  map[string]float64 `json:"p50_ms"`
	// Rounds is how many rounds of calls it took until two rounds in a
	// row agreed (the services' indexes and caches had caught up).
	Rounds int `json:"rounds"`
}

// decayCalls are the calls whose cost must not grow with the record: the
// group member's Get and List (first page), the staff's GetCase, GetPlan
// and GetRecord, and the first page of the review queue.
var decayCalls = []struct {
	name string
	call func(ctx context.Context, c Clients, id string) error
}{
	{"get", func(ctx context.Context, c Clients, id string) error {
		_, err := c.Intake.Get(ctx, &intakev1.GetRequest{RequestId: id})
		return err
	}},
	{"list (page of 50)", func(ctx context.Context, c Clients, _ string) error {
		_, err := c.Intake.List(ctx, &intakev1.ListRequest{PageSize: 50})
		return err
	}},
	{"GetCase", GetCase},
	{"GetPlan", GetPlan},
	{"GetRecord", GetRecord},
	// The review queue's default page, as a reviewer opens it: the cases
	// still needing work, which do not grow with the record as the
	// ended ones do.
	{"ListCases (page of 50)", func(ctx context.Context, c Clients, _ string) error {
		_, err := c.Reviewer.ListCases(ctx, &assessmentv1.ListCasesRequest{PageSize: 50})
		return err
	}},
}

// decayRound is how many calls of each kind one round makes;
// decayMaxWait bounds the rounds until two agree.
const (
	decayRound   = 200
	decayMaxWait = time.Minute
)

// MeasureCalls measures each call of decayCalls on the template requests
// ids (template i was submitted by Members[i%len(Members)], as Rebuild
// drives them), in rounds, until the p50 of every call in a round is
// within 20 % of the round before (or decayMaxWait passed), and returns
// the last round's p50 per call.
func MeasureCalls(ctx context.Context, s *Suite, ids []string) (map[string]float64, int, error) {
	if len(ids) == 0 {
		return nil, 0, errors.New("bench: no requests to measure calls on")
	}
	var clients []Clients
	var conns []*grpc.ClientConn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for _, m := range Members {
		c, cc, err := NewClients(s.Dial, m)
		if err != nil {
			return nil, 0, err
		}
		clients, conns = append(clients, c), append(conns, cc...)
	}
	deadline := time.Now().Add(decayMaxWait)
	var prev map[string]float64
	for round := 1; ; round++ {
		cur := map[string]float64{}
		for _, dc := range decayCalls {
			lat := make([]time.Duration, 0, decayRound)
			for i := range decayRound {
				k := i % len(ids)
				t0 := time.Now()
				if err := dc.call(ctx, clients[k%len(clients)], ids[k]); err != nil {
					return nil, round, fmt.Errorf("%s of template %d: %w", dc.name, k, err)
				}
				lat = append(lat, time.Since(t0))
			}
			cur[dc.name] = pct(lat, 0.5)
		}
		if prev != nil && (agree(prev, cur) || time.Now().After(deadline)) {
			return cur, round, nil
		}
		prev = cur
	}
}

// agree says every call's p50 in cur is within 20 % of prev's.
func agree(prev, cur map[string]float64) bool {
	for k, v := range cur {
		p := prev[k]
		if p == 0 || v > 1.2*p || v < p/1.2 {
			return false
		}
	}
	return true
}

// decayNames are the calls of a DecayPoint, in table order.
func DecayNames() []string {
	var out []string
	for _, dc := range decayCalls {
		out = append(out, dc.name)
	}
	return slices.Clip(out)
}

// ReportCost is what the half-year transparency report cost: building it
// from reporting's read model and verifying it, which folds the record
// from the start up to the report's sequence (the verification's job:
// recompute every figure from the record itself).
type ReportCost struct {
	Requests int     `json:"requests"`
	BuildMs  float64 `json:"build_ms"`
	VerifyMs float64 `json:"verify_ms"`
}

// reportRounds is how many times the report is built and verified; the
// fastest counts, as the least disturbed by the machine's other work.
const reportRounds = 3

// MeasureReport builds the transparency report of period, as the reviewer
// would (JSON), and verifies it, reportRounds times.
func MeasureReport(ctx context.Context, s *Suite, period string) (ReportCost, error) {
	c, conns, err := NewClients(s.Dial, Members[0])
	if err != nil {
		return ReportCost{}, err
	}
	defer func() {
		for _, cc := range conns {
			_ = cc.Close()
		}
	}()
	var out ReportCost
	for range reportRounds {
		t0 := time.Now()
		res, err := c.Record.GetTransparencyReport(ctx, &reportingv1.GetTransparencyReportRequest{Period: period, Format: reportingv1.ReportFormat_REPORT_FORMAT_JSON})
		if err != nil {
			return out, fmt.Errorf("report %s: %w", period, err)
		}
		build := time.Since(t0)
		t0 = time.Now()
		v, err := c.Record.VerifyTransparencyReport(ctx, &reportingv1.VerifyTransparencyReportRequest{ReportJson: res.GetReport().GetContent()})
		if err != nil {
			return out, fmt.Errorf("verifying the report of %s: %w", period, err)
		}
		verify := time.Since(t0)
		if !v.GetValid() {
			return out, fmt.Errorf("the report of %s does not verify: %v", period, v)
		}
		out.Requests = int(res.GetReport().GetRequestsCounted())
		if ms := float64(build) / float64(time.Millisecond); out.BuildMs == 0 || ms < out.BuildMs {
			out.BuildMs = ms
		}
		if ms := float64(verify) / float64(time.Millisecond); out.VerifyMs == 0 || ms < out.VerifyMs {
			out.VerifyMs = ms
		}
	}
	return out, nil
}
