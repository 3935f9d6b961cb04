// Command loadgen benchmarks the suite and, in the same run and the same
// way, its baselines: a raw gRPC echo (loopback, same concurrency, same
// payload size) and a raw JetStream publish (embedded server, fsync on
// every write, same payload size). The suite runs in a process of its own
// as the all-in-one does (runner.Run, embedded JetStream with fsync on
// every write, gRPC on loopback, mTLS with a development PKI of its own),
// the baselines' servers in another, with the same mTLS, and every client
// in this process, so suite and baselines share the machine, the
// transport and the distance between client and server.
//
//	go run ./services/loadgen/cmd/loadgen -nats-server .build/bin/nats-server   # quick (make bench)
//	go run ./services/loadgen/cmd/loadgen -nats-server .build/bin/nats-server -full
//
// The suite and the baselines' servers run in child processes (this binary
// with -serve), the clients in this one.
//
// It prints a table and writes <out>/results.json and <out>/RESULTS.md.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/proto"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/loadgen/bench"
	"github.com/ddrsuite/ddr/services/loadgen/launch"
)

type config struct {
	Levels           []int         `json:"concurrency_levels"`
	Duration         time.Duration `json:"duration_per_level_ns"`
	PipelineDuration time.Duration `json:"pipeline_duration_per_level_ns"`
	Templates        int           `json:"rebuild_template_requests"`
	LoadRequests     int           `json:"rebuild_requests"`
	// ScaleAt are the smaller sizes (events) the rebuild also probes at,
	// for the scale goal.
	ScaleAt []int `json:"scale_events,omitempty"`
	// Workloads are the suite's workloads this run measures (all when
	// empty): a subset for measuring one change quickly.
	Workloads  []string `json:"workloads,omitempty"`
	NATSServer string   `json:"-"`
	Out        string   `json:"-"`
	// ProfileDir, when set, receives a CPU profile of the suite's process
	// for each measured suite workload and level.
	ProfileDir string `json:"-"`
	Full       bool   `json:"full"`
	// LagDuration is how long Submit runs at the highest level before the
	// reactors' catch-up is timed for the reactor_lag goal (issue 19 says
	// 60 s); 0 skips it.
	LagDuration time.Duration `json:"lag_duration_ns"`
}

type results struct {
	Generated string             `json:"generated"`
	Machine   map[string]string  `json:"machine"`
	Config    config             `json:"config"`
	Setup     string             `json:"setup"`
	Results   []bench.Result     `json:"results"`
	Drains    map[string]float64 `json:"reactor_catch_up_seconds"`
	// LagByConsumer is, after the reactor_lag workload, each durable
	// consumer's backlog when the submits stopped and its catch-up time.
	LagByConsumer map[string]bench.ConsumerLag `json:"reactor_lag_by_consumer,omitempty"`
	Rebuild       *bench.RebuildResult         `json:"rebuild,omitempty"`
	// Goals are issue 19's goals as this run measured them.
	Goals []goal `json:"goals"`
}

// lagWorkload names the long Submit the reactor_lag goal is timed after.
const lagWorkload = "submit (reactor lag)"

// allWorkloads are the suite's workloads -workloads selects from.
var allWorkloads = []string{"submit", "get", "list", "pipeline", "staff", "lag"}

// rebuildOnly is the -workloads value that measures the memory and
// start-up of a large record alone: no baselines, no suite workload.
const rebuildOnly = "rebuild"

// onlyRebuild says whether the run measures the rebuild alone.
func (c config) onlyRebuild() bool {
	return len(c.Workloads) == 1 && c.Workloads[0] == rebuildOnly
}

// runs says whether the run measures workload w. The staff reads need
// requests the pipeline finished, so they bring the pipeline with them.
func (c config) runs(w string) bool {
	if len(c.Workloads) == 0 || slices.Contains(c.Workloads, w) {
		return true
	}
	return w == "pipeline" && slices.Contains(c.Workloads, "staff")
}

// staffReads are the staff's per-request queries, measured like Get.
var staffReads = []struct {
	name string
	call func(ctx context.Context, c bench.Clients, id string) error
}{
	{"staff GetCase", bench.GetCase},
	{"staff GetPlan", bench.GetPlan},
	{"staff GetRecord", bench.GetRecord},
}

func main() {
	var cfg config
	levels := flag.String("levels", env("DDR_BENCH_LEVELS", "1,8,32"), "concurrency levels (clients), comma separated")
	flag.DurationVar(&cfg.Duration, "duration", envDur("DDR_BENCH_DURATION", 3*time.Second), "measured time per workload and level (plus a fifth of it as warm-up)")
	flag.DurationVar(&cfg.PipelineDuration, "pipeline-duration", envDur("DDR_BENCH_PIPELINE_DURATION", 6*time.Second), "measured time of the full pipeline per level")
	flag.IntVar(&cfg.Templates, "templates", envInt("DDR_BENCH_TEMPLATES", 16), "real requests driven through the pipeline as templates of the rebuild load")
	flag.IntVar(&cfg.LoadRequests, "rebuild-requests", envInt("DDR_BENCH_REBUILD_REQUESTS", 15000), "requests (about 10 events each) loaded for the memory and rebuild measurement; 0 skips it")
	flag.StringVar(&cfg.NATSServer, "nats-server", env("DDR_BENCH_NATS_SERVER", ".build/bin/nats-server"), "nats-server binary for the rebuild measurement")
	flag.StringVar(&cfg.Out, "out", env("DDR_BENCH_OUT", "bench"), "directory of results.json and RESULTS.md")
	workloads := flag.String("workloads", env("DDR_BENCH_WORKLOADS", ""), "the suite's workloads to measure, comma separated, of "+strings.Join(allWorkloads, ",")+" (default all; staff runs the pipeline first, whose finished requests it reads), or "+rebuildOnly+" alone for the memory and start-up measurement without baselines or workloads")
	flag.StringVar(&cfg.ProfileDir, "profile-dir", env("DDR_BENCH_PROFILE_DIR", ""), "write a CPU profile of the suite's process for each measured suite workload and level here (<workload>-c<clients>.pprof), and of each rebuild probe in probe<n>/: its start-up (startup.pprof), its heap once ready (heap.pprof) and the decay calls (calls.pprof)")
	probeNATS := flag.String("probe-nats-url", "", "internal: run as a rebuild probe against this NATS and print its JSON result")
	probeDir := flag.String("probe-data-dir", "", "internal: the probe's data directory")
	probeIDs := flag.String("probe-ids", "", "internal: template request ids the probe measures calls on, comma separated")
	probeProfiles := flag.String("probe-profile-dir", "", "internal: where the probe writes startup.pprof, heap.pprof and calls.pprof")
	serveWhat := flag.String("serve", "", "internal: serve the suite or the baselines (suite|baselines) until stdin closes")
	serveDir := flag.String("serve-dir", "", "internal: the served process's data directory")
	var serveSec launch.Security
	flag.StringVar(&serveSec.PKIDir, "serve-pki", "", "internal: the served process's PKI directory")
	flag.StringVar(&serveSec.KEKFile, "serve-kek", "", "internal: the served process's KEK file")
	flag.DurationVar(&cfg.LagDuration, "lag-duration", envDur("DDR_BENCH_LAG_DURATION", 60*time.Second), "how long Submit runs at the highest level before the reactors' catch-up is timed (the reactor_lag goal; 0 skips it)")
	scaleAt := flag.String("scale-events", env("DDR_BENCH_SCALE_EVENTS", ""), "sizes of the record (events, comma separated) below the whole load at which the rebuild also probes start-up, the calls and the report")
	scale := flag.Bool("scale", false, "the scale goal's measurement: load about 3,000,000 events (215,000 requests) and probe at 1,000,000 too (-scale-events); about 35 minutes on 2 cores")
	flag.BoolVar(&cfg.Full, "full", false, "the documented full run: 10 s per level, 20 s of pipeline, 100,000 requests (about 1M events) for memory and rebuild")
	flag.Parse()
	if cfg.Full {
		cfg.Duration, cfg.PipelineDuration, cfg.LoadRequests = 10*time.Second, 20*time.Second, 100_000
	}
	if *scale {
		cfg.LoadRequests = max(cfg.LoadRequests, 215_000)
		if *scaleAt == "" {
			*scaleAt = "1000000"
		}
	}
	for _, l := range strings.Split(*scaleAt, ",") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			fatal(fmt.Errorf("bad -scale-events size %q", l))
		}
		cfg.ScaleAt = append(cfg.ScaleAt, n)
	}
	for _, l := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("bad level %q", l))
		}
		cfg.Levels = append(cfg.Levels, n)
	}
	if *workloads != "" {
		for _, w := range strings.Split(*workloads, ",") {
			w = strings.TrimSpace(w)
			if !slices.Contains(allWorkloads, w) && (w != rebuildOnly || strings.Contains(*workloads, ",")) {
				fatal(fmt.Errorf("unknown workload %q (known: %s)", w, strings.Join(allWorkloads, ",")))
			}
			cfg.Workloads = append(cfg.Workloads, w)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *serveWhat != "" {
		if err := serve(ctx, *serveWhat, *serveDir, serveSec); err != nil {
			_ = json.NewEncoder(os.Stdout).Encode(served{Error: err.Error()})
			fatal(err)
		}
		return
	}
	if *probeNATS != "" {
		var ids []string
		if *probeIDs != "" {
			ids = strings.Split(*probeIDs, ",")
		}
		r, err := bench.RunProbe(ctx, bench.SuiteOptions{NATSURL: *probeNATS, DataDir: *probeDir, Logs: os.Stderr}, ids, *probeProfiles)
		if err != nil {
			fatal(err)
		}
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	res, err := run(ctx, cfg)
	if err != nil {
		fatal(err)
	}
	if err := write(cfg.Out, res); err != nil {
		fatal(err)
	}
}

func run(ctx context.Context, cfg config) (*results, error) {
	tmp, err := os.MkdirTemp("", "ddr-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	res := &results{
		Generated: time.Now().UTC().Format(time.RFC3339),
		Machine:   machine(),
		Config:    cfg,
		Setup: "suite: the all-in-one in a process of its own (this binary re-run with -serve suite: runner.Run + suite.DefaultConfig().Build), embedded JetStream with " +
			"fsync on every write (SyncAlways), mTLS end to end as `make run` serves it (a development PKI: gRPC on 127.0.0.1 with TLS 1.3 and client " +
			"certificates of group members and staff; each service's NATS connection over TLS with its own certificate and NATS user); the clients in the load generator's process, one connection per client and identity; " +
			"baselines: their servers in another process of their own (-serve baselines), the clients in the load generator's process like the suite's: grpc-go echo on 127.0.0.1 without interceptors over the same mTLS, one connection per client, payload the size of a SubmitRequest; " +
			"JetStream: an embedded server configured as the suite's (file storage, SyncAlways, TLS with client certificates), a TLS connection with a client certificate over loopback, synchronous publish of a payload the size of a RequestReceived event, at the same concurrency as the submit it is compared with. " +
			"Rebuild: a separate nats-server process (default sync) holding the record, suite in the development identity mode (plaintext loopback: " +
			"it measures memory and start-up, and the loader writes every service's events); start-up and heap measured in a fresh probe process each time.",
		Drains: map[string]float64{},
	}
	submitSize := proto.Size(bench.Demand("bench-0000000000-0000001"))
	eventSize := proto.Size(&intakev1.RequestReceived{RequestId: "01a221da-0a00-74b1-a1a3-6edea4976efc", GroupMember: bench.Members[0], Request: bench.Demand("k").GetRequest(), ContentFingerprint: strings.Repeat("f", 64)})
	fmt.Printf("payloads: SubmitRequest %d B, RequestReceived %d B\n", submitSize, eventSize)
	if cfg.onlyRebuild() {
		if err := rebuild(ctx, cfg, tmp, res); err != nil {
			return nil, err
		}
		res.Goals = goals(res)
		return res, nil
	}

	report := func(r bench.Result) {
		res.Results = append(res.Results, r)
		fmt.Printf("%-22s c=%-3d %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d\n", r.Workload, r.Concurrency, r.RPS, r.P50ms, r.P99ms, r.Errors)
		if r.FirstError != "" {
			fmt.Printf("  first error: %s\n", r.FirstError)
		}
	}

	// Suite and baselines run over mTLS with a PKI of their own.
	sec, err := launch.DevPKI(filepath.Join(tmp, "pki"))
	if err != nil {
		return nil, err
	}

	// Baselines: the servers in a process of their own, the clients here.
	bases, err := startChild(ctx, "baselines", filepath.Join(tmp, "baseline-js"), sec, false)
	if err != nil {
		return nil, err
	}
	defer func() { _ = bases.stop() }()
	echo, err := bench.RemoteEcho(bases.EchoAddr, sec)
	if err != nil {
		return nil, err
	}
	js, err := bench.ConnectJetStream(ctx, bases.NATSURL, sec)
	if err != nil {
		return nil, err
	}
	base := map[string]bench.Result{}
	for _, c := range cfg.Levels {
		op, closeConns, err := echo.EchoOp(c, submitSize)
		if err != nil {
			return nil, err
		}
		r := bench.Measure(ctx, "baseline grpc echo", c, cfg.Duration, op)
		closeConns()
		base[key("echo", c)] = r
		report(r)
		r = bench.Measure(ctx, "baseline js publish", c, cfg.Duration, js.PublishOp(eventSize))
		base[key("js", c)] = r
		report(r)
	}

	// The suite, in a process of its own like the baselines' servers.
	sc, err := startChild(ctx, "suite", filepath.Join(tmp, "suite"), sec, cfg.ProfileDir != "")
	if err != nil {
		return nil, err
	}
	// measure measures a suite workload, with a CPU profile of the
	// suite's process over the measured time when asked for.
	measure := func(name string, c int, d time.Duration, op bench.Op) bench.Result {
		if cfg.ProfileDir == "" {
			return bench.Measure(ctx, name, c, d, op)
		}
		if err := os.MkdirAll(cfg.ProfileDir, 0o750); err != nil {
			fmt.Printf("  profile: %v\n", err)
			return bench.Measure(ctx, name, c, d, op)
		}
		path := filepath.Join(cfg.ProfileDir, fmt.Sprintf("%s-c%d.pprof", strings.NewReplacer(" ", "_", "(", "", ")", "", "→", "-").Replace(name), c))
		done := make(chan error, 1)
		go func() {
			// From the end of the warm-up, as the measurement counts.
			select {
			case <-time.After(d / 5):
			case <-ctx.Done():
			}
			done <- sc.profile(ctx, d, path)
		}()
		r := bench.Measure(ctx, name, c, d, op)
		if err := <-done; err != nil {
			fmt.Printf("  profile of %s c=%d: %v\n", name, c, err)
		}
		return r
	}
	s := sc.suiteOf(sec)
	defer func() { _ = s.Stop() }()
	maxC := 0
	for _, c := range cfg.Levels {
		maxC = max(maxC, c)
	}
	w, err := s.NewWorkers(maxC)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	drain := func(after string) error {
		d, err := bench.Drain(ctx, sec, s.Info.NATSURL)
		res.Drains[after] = d.Seconds()
		return err
	}
	if !cfg.runs("submit") && cfg.runs("get") {
		// Get reads submitted requests: submit some, unmeasured.
		bench.Measure(ctx, "submit (unmeasured)", maxC, cfg.Duration/5, w.Submit())
	}
	for _, c := range cfg.Levels {
		if !cfg.runs("submit") {
			break
		}
		r := measure("submit", c, cfg.Duration, w.Submit())
		r.Compare(base[key("js", c)])
		report(r)
		if err := drain(fmt.Sprintf("submit c=%d", c)); err != nil {
			return nil, err
		}
	}
	for _, c := range cfg.Levels {
		if cfg.runs("get") {
			r := measure("get", c, cfg.Duration, w.Get())
			r.Compare(base[key("echo", c)])
			report(r)
		}
		if cfg.runs("list") {
			r := measure("list (page of 50)", c, cfg.Duration, w.List())
			r.Compare(base[key("echo", c)])
			report(r)
		}
	}
	for _, c := range cfg.Levels {
		if !cfg.runs("pipeline") {
			break
		}
		// The flow polls for the reactions' effects; the pollers together
		// stay near 500 reads/s so they do not starve what they wait for.
		bench.PollInterval = max(5*time.Millisecond, time.Duration(c)*2*time.Millisecond)
		r := measure("pipeline submit→sealed", c, cfg.PipelineDuration, w.Pipeline())
		r.Compare(base[key("js", c)])
		report(r)
		if err := drain(fmt.Sprintf("pipeline c=%d", c)); err != nil {
			return nil, err
		}
	}
	// The reactor_lag goal: Submit at the highest level for as long as
	// the goal says, then the time every durable consumer takes to catch
	// up, which is how far behind the reactors were when it stopped.
	if cfg.runs("lag") && cfg.LagDuration > 0 {
		r := measure(lagWorkload, maxC, cfg.LagDuration, w.Submit())
		r.Compare(base[key("js", maxC)])
		report(r)
		d, each, err := bench.DrainEach(ctx, sec, s.Info.NATSURL)
		if err != nil {
			return nil, err
		}
		res.Drains[fmt.Sprintf("%s c=%d", lagWorkload, maxC)] = d.Seconds()
		res.LagByConsumer = each
	}
	// The staff's reads, of requests the pipeline finished.
	for _, c := range cfg.Levels {
		if !cfg.runs("staff") {
			break
		}
		for _, s := range staffReads {
			r := measure(s.name, c, cfg.Duration, w.Staff(s.call))
			r.Compare(base[key("echo", c)])
			report(r)
		}
	}
	w.Close()
	if err := s.Stop(); err != nil {
		return nil, err
	}
	js.Stop()
	if err := bases.stop(); err != nil {
		return nil, fmt.Errorf("baselines process: %w", err)
	}

	if err := rebuild(ctx, cfg, tmp, res); err != nil {
		return nil, err
	}
	res.Goals = goals(res)
	return res, nil
}

// rebuild measures memory and start-up on a large record, unless the run
// loads none.
func rebuild(ctx context.Context, cfg config, tmp string, res *results) error {
	if cfg.LoadRequests <= 0 {
		return nil
	}
	fmt.Printf("rebuild: %d template requests, loading %d requests...\n", cfg.Templates, cfg.LoadRequests)
	rb, err := bench.Rebuild(ctx, cfg.NATSServer, filepath.Join(tmp, "rebuild"), cfg.Templates, cfg.LoadRequests, cfg.ScaleAt, io.Discard, probeProcess(cfg.ProfileDir))
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	res.Rebuild = &rb
	return nil
}

// probeProcess runs this binary again as a rebuild probe, so that start-up
// and heap are measured in a process that held nothing before. Given a
// profile directory, the n-th probe (they run one after another) writes
// its profiles in probe<n> there, so that the small record's and the
// whole load's can be compared.
func probeProcess(profileDir string) bench.Probe {
	n := 0
	return func(ctx context.Context, o bench.SuiteOptions, ids []string) (bench.ProbeResult, error) {
		dir := profileDir
		if dir != "" {
			n++
			dir = filepath.Join(profileDir, fmt.Sprintf("probe%d", n))
		}
		return runProbe(ctx, o, ids, dir)
	}
}

func runProbe(ctx context.Context, o bench.SuiteOptions, ids []string, profileDir string) (bench.ProbeResult, error) {
	var r bench.ProbeResult
	self, err := os.Executable()
	if err != nil {
		return r, err
	}
	args := []string{"-probe-nats-url", o.NATSURL, "-probe-data-dir", o.DataDir, "-probe-ids", strings.Join(ids, ",")}
	if profileDir != "" {
		args = append(args, "-probe-profile-dir", profileDir)
	}
	//nolint:gosec // G204: our own binary with our own arguments.
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return r, fmt.Errorf("probe: %w", err)
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("probe output %q: %w", out, err)
	}
	return r, nil
}

func key(kind string, c int) string { return kind + "/" + strconv.Itoa(c) }

func write(dir string, res *results) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o600); err != nil {
		return err
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "| workload\t| clients\t| req/s\t| p50 ms\t| p99 ms\t| errors\t| baseline\t| ratio req/s\t| ratio p50\t|")
	fmt.Fprintln(tw, "| ---\t| ---:\t| ---:\t| ---:\t| ---:\t| ---:\t| ---\t| ---:\t| ---:\t|")
	for _, r := range res.Results {
		ratio, p50r := "", ""
		if r.Baseline != "" {
			ratio, p50r = fmt.Sprintf("%.3f", r.Ratio), fmt.Sprintf("%.1f", r.P50Ratio)
		}
		fmt.Fprintf(tw, "| %s\t| %d\t| %.1f\t| %.2f\t| %.2f\t| %d\t| %s\t| %s\t| %s\t|\n",
			r.Workload, r.Concurrency, r.RPS, r.P50ms, r.P99ms, r.Errors, r.Baseline, ratio, p50r)
	}
	_ = tw.Flush()
	var md strings.Builder
	fmt.Fprintf(&md, "# Benchmark results\n\nGenerated %s by `make bench%s` (services/loadgen). Raw numbers: [results.json](results.json).\n\n",
		res.Generated, map[bool]string{true: " BENCH_ARGS=-full", false: ""}[res.Config.Full])
	fmt.Fprintf(&md, "## Machine\n\n")
	for _, k := range []string{"cpu", "cores", "go", "os"} {
		fmt.Fprintf(&md, "- %s: %s\n", k, res.Machine[k])
	}
	fmt.Fprintf(&md, "\n## Setup\n\n%s\n\n", res.Setup)
	fmt.Fprintf(&md, "Each workload runs closed-loop for %s per level (pipeline %s) after a warm-up of a fifth of that. "+
		"Submit and the pipeline compare with the JetStream publish, reads with the gRPC echo, at the same number of clients. "+
		"A submit is at least two fsynced writes (the idempotency key, then the event) and starts a reaction (the case opens); "+
		"a pipeline is about ten fsynced events written by four services plus the reviewer's and approver's calls and the polling for the result "+
		"(every max(5 ms, 2 ms × clients), so the pollers together stay near 500 reads/s), "+
		"so its ratio is in pipelines per raw publish.\n\n", res.Config.Duration, res.Config.PipelineDuration)
	md.WriteString(table.String())
	writeGoals(&md, res.Goals)
	fmt.Fprintf(&md, "\nThe pipeline's submit→cleared latency (p50/p99, ms):")
	for _, r := range res.Results {
		if v, ok := r.Extra["submit_to_cleared_p50_ms"]; ok {
			fmt.Fprintf(&md, " c=%d: %.1f / %.1f;", r.Concurrency, v, r.Extra["submit_to_cleared_p99_ms"])
		}
	}
	fmt.Fprintf(&md, "\n\nReactor catch-up after each write workload (s): ")
	for _, r := range res.Results {
		if d, ok := res.Drains[r.Workload+" c="+strconv.Itoa(r.Concurrency)]; ok {
			fmt.Fprintf(&md, "%s c=%d: %.1f; ", r.Workload, r.Concurrency, d)
		}
	}
	md.WriteString("\n")
	if len(res.LagByConsumer) > 0 {
		md.WriteString("\nAfter the reactor-lag submit, each durable consumer (slowest first):\n\n" +
			"| consumer | events behind when the submits stopped | caught up after (s) |\n| --- | ---: | ---: |\n")
		names := slices.Collect(maps.Keys(res.LagByConsumer))
		slices.SortFunc(names, func(a, b string) int {
			return cmp.Compare(res.LagByConsumer[b].Seconds, res.LagByConsumer[a].Seconds)
		})
		for _, n := range names {
			l := res.LagByConsumer[n]
			fmt.Fprintf(&md, "| %s | %d | %.1f |\n", n, l.Pending, l.Seconds)
		}
	}
	if rb := res.Rebuild; rb != nil {
		fmt.Fprintf(&md, "\n## Memory and projection rebuild\n\n"+
			"%d real requests were driven through the pipeline, then copied under new request ids to %d requests (%d events) "+
			"in a separate nats-server process (%.1f s to publish). The reactors' durable consumers were acknowledged up to the end, as on a "+
			"running system, and the suite started again in a fresh process: start-up to ready rebuilds every projection of the four services.\n\n"+
			"| measure | value |\n| --- | ---: |\n"+
			"| heap in use after GC, templates only | %.1f MiB |\n| heap in use after GC, all requests loaded | %.1f MiB |\n"+
			"| **heap per 100,000 requests** | **%.1f MiB** |\n| start-up, nearly empty record | %.2f s |\n"+
			"| **start-up with %d events (rebuild)** | **%.2f s** |\n| rebuild time per 1,000,000 events | %.2f s |\n",
			rb.TemplateRequests, rb.Requests, rb.Events, rb.PublishSeconds, rb.HeapBeforeMiB, rb.HeapAfterMiB, rb.MiBPer100k,
			rb.StartEmptySecs, rb.Events, rb.RebuildSeconds, rb.RebuildPer1MSecs)
		writeDecay(&md, rb)
		writeScale(&md, rb)
		if rb.MiBPer100k <= 0 {
			md.WriteString("\n**The heap figure is not trustworthy in this run**: the heap after the load came out below the heap " +
				"before it, so something other than the projections (memory still held from the previous suite instance) dominates " +
				"the difference. Measuring each side in a fresh process is the fix; until then use the start-up time only.\n")
		}
	}
	fmt.Fprintf(&md, "\n## Run it\n\n```sh\nmake bench                      # this size, under 10 minutes on 2 cores\nmake bench BENCH_ARGS=-full     # 10 s per level, 100,000 requests (~1M events) for memory and rebuild\nmake bench BENCH_ARGS=\"-workloads rebuild -scale\"   # the scale goal: probes at 1M and 3M events, ~40 min\n```\n\n"+
		"Flags (or DDR_BENCH_* variables): -levels, -duration, -pipeline-duration, -rebuild-requests, -templates, -workloads, -profile-dir, -out, -scale-events; -scale loads about 3,000,000 events for the scale goal (about 40 minutes).\n")
	if err := os.WriteFile(filepath.Join(dir, "RESULTS.md"), []byte(md.String()), 0o600); err != nil {
		return err
	}
	fmt.Print("\n" + table.String())
	if rb := res.Rebuild; rb != nil {
		fmt.Printf("\nheap per 100,000 requests: %.1f MiB; start-up with %d events: %.2f s (%.2f s per 1M events)\n",
			rb.MiBPer100k, rb.Events, rb.RebuildSeconds, rb.RebuildPer1MSecs)
	}
	fmt.Printf("wrote %s and %s\n", filepath.Join(dir, "results.json"), filepath.Join(dir, "RESULTS.md"))
	return nil
}

func machine() map[string]string {
	m := map[string]string{
		"cores": strconv.Itoa(runtime.NumCPU()),
		"go":    runtime.Version(),
		"os":    runtime.GOOS + "/" + runtime.GOARCH,
		"cpu":   "unknown",
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if _, v, ok := strings.Cut(l, ":"); ok {
					m["cpu"] = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	return m
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	n, err := strconv.Atoi(env(name, strconv.Itoa(def)))
	if err != nil {
		fatal(fmt.Errorf("%s: %w", name, err))
	}
	return n
}

func envDur(name string, def time.Duration) time.Duration {
	d, err := time.ParseDuration(env(name, def.String()))
	if err != nil {
		fatal(fmt.Errorf("%s: %w", name, err))
	}
	return d
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
