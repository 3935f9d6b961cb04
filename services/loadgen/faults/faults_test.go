package faults_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"github.com/ddrsuite/ddr/services/loadgen/bench"
	"github.com/ddrsuite/ddr/services/loadgen/faults"
)

// The fault runs start processes and take minutes: `make faults` runs them
// (DDR_FAULTS=1); a plain `go test ./...` skips them.
var binDir string

func TestMain(m *testing.M) {
	if os.Getenv("DDR_FAULTS") == "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ddr-faults-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	err = faults.Build(ctx, binDir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func gate(t *testing.T) {
	t.Helper()
	if binDir == "" {
		t.Skip("fault run: set DDR_FAULTS=1 (make faults)")
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	n, err := strconv.Atoi(faults.Getenv(name, strconv.Itoa(def)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// submit retries one demand with the same idempotency key until intake
// acknowledges it, as a group member's system does.
func submit(ctx context.Context, c bench.Clients, key string) (string, time.Duration, error) {
	start := time.Now()
	// The same demand on every attempt: intake tells a retry from a
	// different demand reusing the key by its content.
	demand := bench.Demand(key)
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := c.Intake.Submit(cctx, demand)
		cancel()
		if err == nil {
			return res.GetRequestId(), time.Since(start), nil
		}
		switch status.Code(err) {
		case codes.Unavailable, codes.Aborted, codes.DeadlineExceeded, codes.Internal:
		default:
			return "", 0, err
		}
		select {
		case <-ctx.Done():
			return "", 0, fmt.Errorf("%s never acknowledged: %w", key, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func logs(t *testing.T, dir string) {
	t.Helper()
	if !t.Failed() {
		return
	}
	if keep := os.Getenv("DDR_FAULTS_KEEP"); keep != "" {
		if err := os.CopyFS(filepath.Join(keep, t.Name()), os.DirFS(dir)); err != nil {
			t.Log(err)
		}
	}
	// Every process's log: services, their replicas, the NATS nodes.
	paths, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, path := range paths {
		n := strings.TrimSuffix(filepath.Base(path), ".log")
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("--- tail of %s.log ---\n%s", n, b)
	}
}

// Every service is killed with SIGKILL at random moments while requests
// are submitted and driven to their sealed record by an automatic reviewer
// and approver; afterwards the stream holds exactly one RequestReceived,
// one CaseOpened and one RecordSealed per acknowledged request.
func TestKilledServicesLoseNothingAndDoubleNothing(t *testing.T) {
	gate(t)
	n := envInt(t, "DDR_FAULTS_REQUESTS", 1000)
	conc := envInt(t, "DDR_FAULTS_CONCURRENCY", 16)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()
	defer logs(t, dir)

	sec, err := faults.Secure(dir)
	if err != nil {
		t.Fatal(err)
	}
	nodes, nprocs, err := faults.StartNATS(ctx, dir, binDir, 1, sec)
	if err != nil {
		t.Fatal(err)
	}
	env := &faults.Env{Dir: dir, Bin: binDir, Sec: sec, Nodes: nodes, NATS: nprocs}
	defer env.Close()
	if err := env.StartServices(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := env.ShowMTLS(ctx, os.Stdout); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	report := &faults.Report{Name: fmt.Sprintf("%d requests, services killed with SIGKILL and restarted", n), Kills: map[string]int{}}
	var acked faults.Acked
	keys := idempotencyKeys(ctx, "faults", n)

	chaosDone := make(chan struct{})
	stopChaos := make(chan struct{})
	go func() {
		defer close(chaosDone)
		chaos(ctx, t, env, report.Kills, stopChaos)
	}()

	var wg sync.WaitGroup
	var failures atomic.Int64
	var firstErr sync.Once
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, closeAll, err := env.Clients(bench.Members[w%len(bench.Members)])
			if err != nil {
				t.Error(err)
				return
			}
			defer closeAll()
			for key := range keys {
				id, _, err := submit(ctx, c, key)
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("submit: %v", err) })
					continue
				}
				acked.Put(key, id)
				rctx, rcancel := context.WithTimeout(ctx, 3*time.Minute)
				if err := bench.Review(rctx, c, id); err != nil {
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("review %s: %v", id, err) })
				}
				rcancel()
			}
		}()
	}
	wg.Wait()
	close(stopChaos)
	<-chaosDone

	// Every service is up again; every acknowledged request gets sealed.
	for _, s := range faults.ServiceNames {
		if err := env.WaitServing(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	c, closeAll, err := env.Clients(bench.Members[0])
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	snapshot := acked.Snapshot()
	sealCtx, sealCancel := context.WithTimeout(ctx, 3*time.Minute)
	for _, id := range snapshot {
		if err := bench.WaitSealed(sealCtx, c, id); err != nil {
			t.Errorf("request %s not sealed: %v", id, err)
			break
		}
	}
	sealCancel()
	report.Elapsed = time.Since(start)

	counts, err := faults.Count(ctx, sec, []string{nodes[0].URL()})
	if err != nil {
		t.Fatal(err)
	}
	report.Check(counts, snapshot, true)
	if f := failures.Load(); f > 0 {
		report.Notes = append(report.Notes, fmt.Sprintf("%d flows failed (see errors above)", f))
	}
	if len(env.StartRestarts) > 0 {
		report.Notes = append(report.Notes, fmt.Sprintf("processes that exited while starting and were started again: %v", env.StartRestarts))
	}
	fmt.Print(report.String())
	t.Log("\n" + report.String())
	if report.Acknowledged != n {
		t.Errorf("acknowledged %d of %d submissions", report.Acknowledged, n)
	}
	for _, s := range faults.ServiceNames {
		if report.Kills[s] == 0 {
			t.Errorf("%s was never killed; the run proves nothing about it", s)
		}
	}
	if !report.OK(true) {
		t.Errorf("lost or doubled work:\n%s", report)
	}
}

// chaos kills a service with SIGKILL 0.2 to 0.8 s after the previous one
// serves again and starts it after 0.05 to 0.5 s, in rounds of every service in a random order,
// until stop is closed at the end of a round.
func chaos(ctx context.Context, t *testing.T, env *faults.Env, kills map[string]int, stop <-chan struct{}) {
	order := append([]string{}, faults.ServiceNames...)
	for round := 0; ; round++ {
		if round > 0 {
			// At least one round, so every service dies at least once.
			select {
			case <-stop:
				return
			default:
			}
		}
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, name := range order {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(200+rand.IntN(600)) * time.Millisecond):
			}
			p := env.Services[name]
			p.Kill()
			kills[name]++
			time.Sleep(time.Duration(50+rand.IntN(450)) * time.Millisecond)
			if err := p.Restart(); err != nil {
				t.Errorf("restart %s: %v", name, err)
				return
			}
			if err := env.WaitServing(ctx, name); err != nil {
				t.Errorf("%s after restart: %v", name, err)
				return
			}
		}
	}
}

// A 3-node NATS cluster holds the stream at 3 replicas; one node is
// stopped mid-run. Submissions keep succeeding after a brief reconnect,
// and the two remaining nodes hold every acknowledged request once.
func TestClusterNodeLossLosesNothing(t *testing.T) {
	gate(t)
	n := envInt(t, "DDR_FAULTS_CLUSTER_REQUESTS", 300)
	conc := envInt(t, "DDR_FAULTS_CONCURRENCY", 16)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	defer logs(t, dir)

	sec, err := faults.Secure(dir)
	if err != nil {
		t.Fatal(err)
	}
	nodes, nprocs, err := faults.StartNATS(ctx, dir, binDir, 3, sec)
	if err != nil {
		t.Fatal(err)
	}
	env := &faults.Env{Dir: dir, Bin: binDir, Sec: sec, Nodes: nodes, NATS: nprocs}
	defer env.Close()
	if err := env.StartServices(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if err := env.ShowMTLS(ctx, os.Stdout); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	report := &faults.Report{Name: fmt.Sprintf("%d requests on a 3-node cluster (replicas 3), node n1 killed mid-run", n)}
	var acked faults.Acked
	var done, afterStop atomic.Int64
	var stopped atomic.Bool
	var maxGap atomic.Int64
	stopAt := int64(n / 3)
	var stopOnce sync.Once
	keys := idempotencyKeys(ctx, "cluster", n)
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, closeAll, err := env.Clients(bench.Members[w%len(bench.Members)])
			if err != nil {
				t.Error(err)
				return
			}
			defer closeAll()
			for key := range keys {
				wasStopped := stopped.Load()
				id, took, err := submit(ctx, c, key)
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				acked.Put(key, id)
				if wasStopped {
					afterStop.Add(1)
				}
				for {
					cur := maxGap.Load()
					if int64(took) <= cur || maxGap.CompareAndSwap(cur, int64(took)) {
						break
					}
				}
				if done.Add(1) == stopAt {
					stopOnce.Do(func() {
						env.NATS[0].Kill()
						stopped.Store(true)
					})
				}
			}
		}()
	}
	wg.Wait()

	// Cases open for every request although a node is gone; the reviewer
	// sees them all.
	c, closeAll, err := env.Clients(bench.Members[0])
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	snapshot := acked.Snapshot()
	for _, id := range snapshot {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
		err := waitCase(wctx, c, id)
		wcancel()
		if err != nil {
			t.Errorf("case of %s: %v", id, err)
			break
		}
	}
	report.Elapsed = time.Since(start)
	counts, err := faults.Count(ctx, sec, []string{nodes[1].URL(), nodes[2].URL()})
	if err != nil {
		t.Fatal(err)
	}
	report.Check(counts, snapshot, false)
	report.Notes = append(report.Notes,
		fmt.Sprintf("submissions acknowledged after the node stopped: %d", afterStop.Load()),
		fmt.Sprintf("longest submit including retries: %s", time.Duration(maxGap.Load()).Round(time.Millisecond)))
	if len(env.StartRestarts) > 0 {
		report.Notes = append(report.Notes, fmt.Sprintf("processes that exited while starting and were started again: %v", env.StartRestarts))
	}
	fmt.Print(report.String())
	t.Log("\n" + report.String())
	if !stopped.Load() {
		t.Error("the node was never stopped")
	}
	if report.Acknowledged != n || afterStop.Load() == 0 {
		t.Errorf("acknowledged %d of %d, %d after the node stopped", report.Acknowledged, n, afterStop.Load())
	}
	if !report.OK(false) {
		t.Errorf("lost or doubled work:\n%s", report)
	}
}

func waitCase(ctx context.Context, c bench.Clients, id string) error {
	for {
		_, err := c.Reviewer.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error %w)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// The make run-cluster layout: two replicas of each service on the 3-node
// TLS cluster, clients balancing over the replicas. A quarter into the run
// one replica of each service is killed (SIGKILL, not restarted), at half
// way one NATS node; the surviving replicas keep serving, and the two
// remaining nodes hold every acknowledged request exactly once, with
// exactly one case opened for it.
func TestReplicasAndANodeKilledLoseNothing(t *testing.T) {
	gate(t)
	n := envInt(t, "DDR_FAULTS_REPLICA_REQUESTS", 500)
	conc := envInt(t, "DDR_FAULTS_CONCURRENCY", 16)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()
	defer logs(t, dir)

	sec, err := faults.Secure(dir)
	if err != nil {
		t.Fatal(err)
	}
	nodes, nprocs, err := faults.StartNATS(ctx, dir, binDir, 3, sec)
	if err != nil {
		t.Fatal(err)
	}
	env := &faults.Env{Dir: dir, Bin: binDir, Sec: sec, Nodes: nodes, NATS: nprocs, PerService: 2}
	defer env.Close()
	if err := env.StartServices(ctx, 3); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	report := &faults.Report{Name: fmt.Sprintf("%d requests, two replicas of each service on a 3-node cluster; one replica of each and node n1 killed", n), Kills: map[string]int{}}
	var acked faults.Acked
	var done, afterKills atomic.Int64
	var killed atomic.Bool
	var replicasOnce, nodeOnce sync.Once
	keys := idempotencyKeys(ctx, "replicas", n)
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, closeAll, err := env.Clients(bench.Members[w%len(bench.Members)])
			if err != nil {
				t.Error(err)
				return
			}
			defer closeAll()
			for key := range keys {
				wasKilled := killed.Load()
				id, _, err := submit(ctx, c, key)
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				acked.Put(key, id)
				if wasKilled {
					afterKills.Add(1)
				}
				switch done.Add(1) {
				case int64(n / 4):
					replicasOnce.Do(func() {
						for _, s := range faults.ServiceNames {
							env.Services[env.Instances(s)[0]].Kill()
							report.Kills[env.Instances(s)[0]]++
						}
						killed.Store(true)
					})
				case int64(n / 2):
					nodeOnce.Do(func() {
						env.NATS[0].Kill()
						report.Kills["n1"]++
					})
				}
			}
		}()
	}
	wg.Wait()

	// The surviving assessment replica opened a case for every request.
	c, closeAll, err := env.Clients(bench.Members[0])
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	snapshot := acked.Snapshot()
	for _, id := range snapshot {
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
		err := waitCase(wctx, c, id)
		wcancel()
		if err != nil {
			t.Errorf("case of %s: %v", id, err)
			break
		}
	}
	report.Elapsed = time.Since(start)
	counts, err := faults.Count(ctx, sec, []string{nodes[1].URL(), nodes[2].URL()})
	if err != nil {
		t.Fatal(err)
	}
	report.Check(counts, snapshot, false)
	report.Notes = append(report.Notes, fmt.Sprintf("submissions acknowledged after the replicas were killed: %d", afterKills.Load()))
	if len(env.StartRestarts) > 0 {
		report.Notes = append(report.Notes, fmt.Sprintf("processes that exited while starting and were started again: %v", env.StartRestarts))
	}
	fmt.Print(report.String())
	t.Log("\n" + report.String())
	for _, s := range faults.ServiceNames {
		if name := env.Instances(s)[1]; !env.Services[name].Running() {
			t.Errorf("the surviving replica %s stopped", name)
		}
	}
	if report.Acknowledged != n || afterKills.Load() == 0 {
		t.Errorf("acknowledged %d of %d, %d after the kills", report.Acknowledged, n, afterKills.Load())
	}
	if !report.OK(false) {
		t.Errorf("lost or doubled work:\n%s", report)
	}
}

// idempotencyKeys yields n idempotency keys unique to this run, until ctx
// ends: one submission each, shared out among the workers.
func idempotencyKeys(ctx context.Context, prefix string, n int) <-chan string {
	keys := make(chan string)
	go func() {
		defer close(keys)
		run := strconv.FormatInt(time.Now().UnixNano(), 36)
		for i := range n {
			select {
			case keys <- fmt.Sprintf("%s-%s-%05d", prefix, run, i):
			case <-ctx.Done():
				return
			}
		}
	}()
	return keys
}
