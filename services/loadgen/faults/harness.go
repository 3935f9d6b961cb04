// Package faults runs the suite the way a deployment does (the four
// services as separate processes against nats-server processes) and breaks
// it on purpose: services killed with SIGKILL at random moments, a NATS
// cluster node stopped. Its tests then read the stream itself to prove that
// every acknowledged request reached its record exactly once.
package faults

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/ddrsuite/ddr/services/loadgen/bench"
	"github.com/ddrsuite/ddr/services/loadgen/launch"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/natsacl"
)

// ServiceNames are the services, each a binary of its own.
var ServiceNames = []string{"intake", "assessment", "notification", "reporting"}

// gRPC service each binary serves, for its health check.
var grpcService = map[string]string{
	"intake":       "ddr.intake.v1.IntakeService",
	"assessment":   "ddr.assessment.v1.AssessmentService",
	"notification": "ddr.notification.v1.NotificationService",
	"reporting":    "ddr.reporting.v1.ReportingService",
}

// RepoRoot is the directory of go.work.
func RepoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil {
		return "", err
	}
	w := strings.TrimSpace(string(out))
	if w == "" || w == "off" {
		return "", errors.New("faults: not in the ddr workspace (go env GOWORK is empty)")
	}
	return filepath.Dir(w), nil
}

// Build builds the four service binaries and nats-server (from the Go
// module the platform requires) into binDir.
func Build(ctx context.Context, binDir string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	args := []string{"build", "-o", binDir + "/"}
	for _, s := range ServiceNames {
		args = append(args, "./services/"+s+"/cmd/"+s)
	}
	for _, a := range [][]string{args, {"build", "-o", filepath.Join(binDir, "nats-server"), "github.com/nats-io/nats-server/v2"}} {
		cmd := exec.CommandContext(ctx, "go", a...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %w\n%s", strings.Join(a, " "), err, out)
		}
	}
	return nil
}

// Env is a running deployment: NATS nodes and the four services, each as
// one process or as several replicas.
type Env struct {
	Dir   string
	Bin   string
	Sec   launch.Security
	Nodes []launch.NATSNode
	NATS  []*launch.Proc
	// PerService is how many processes (replicas) of each service run; 0
	// means 1. With one, a process is named after its service ("intake");
	// with more, "intake-1", "intake-2", ... (see [Env.Instances]).
	PerService int
	// Port, if set, is the gRPC port of replica i of service; nil picks
	// free ports.
	Port func(service string, i int) int
	// Extra, if set, adds flags to replica i of service (after the ones
	// [launch.Command] chooses, so a repeated flag overrides).
	Extra func(service string, i int) []string
	// Services and Addrs are keyed by process name.
	Services map[string]*launch.Proc
	Addrs    map[string]string // process -> gRPC address
	// StartRestarts counts processes that exited while starting.
	StartRestarts map[string]int

	mu        sync.Mutex
	serviceOf map[string]string // process -> service
}

// Instances are the names of service's processes.
func (e *Env) Instances(service string) []string {
	n := max(e.PerService, 1)
	if n == 1 {
		return []string{service}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", service, i+1)
	}
	return out
}

// Target is the address a client dials for service: its one process's, or
// the comma-separated list of its replicas' (balanced on the client).
func (e *Env) Target(service string) string {
	var addrs []string
	for _, name := range e.Instances(service) {
		addrs = append(addrs, e.Addrs[name])
	}
	return strings.Join(addrs, ",")
}

// service is the service a process runs.
func (e *Env) service(name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.serviceOf[name]; ok {
		return s
	}
	return name
}

// Secure makes a development PKI under dir (as `make certs` does): the
// services serve mTLS, present their certificates to NATS and the load
// clients call with group members' and staff certificates.
func Secure(dir string) (launch.Security, error) {
	return launch.DevPKI(filepath.Join(dir, "pki"))
}

// StartNATS starts n nats-server processes (a cluster when n > 1) with
// fsync on every write. With sec's PKI they run the secure mode of
// deploy/nats (same renderer): TLS on clients and routes, the service users
// of natsacl mapped from client certificates.
func StartNATS(ctx context.Context, dir, bin string, n int, sec launch.Security) ([]launch.NATSNode, []*launch.Proc, error) {
	nodes := make([]launch.NATSNode, n)
	var routes []string
	for i := range nodes {
		port, err := launch.FreePort()
		if err != nil {
			return nil, nil, err
		}
		httpPort, err := launch.FreePort()
		if err != nil {
			return nil, nil, err
		}
		nodes[i] = launch.NATSNode{Name: fmt.Sprintf("n%d", i+1), Port: port, HTTPPort: httpPort,
			StoreDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)), SyncAlways: true, TLS: sec.NodeTLS()}
		if n > 1 {
			cport, err := launch.FreePort()
			if err != nil {
				return nil, nil, err
			}
			nodes[i].ClusterName, nodes[i].ClusterPort = "ddr", cport
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", cport))
		}
	}
	var procs []*launch.Proc
	for i := range nodes {
		nodes[i].Routes = routes
		p, err := launch.StartNATS(filepath.Join(bin, "nats-server"), dir, nodes[i])
		if err != nil {
			return nil, nil, err
		}
		procs = append(procs, p)
	}
	for _, nd := range nodes {
		if err := launch.WaitTCP(ctx, fmt.Sprintf("127.0.0.1:%d", nd.Port)); err != nil {
			return nil, nil, err
		}
	}
	return nodes, procs, nil
}

// StartServices starts the four services against the nodes.
func (e *Env) StartServices(ctx context.Context, replicas int) error {
	if e.Sec.PKIDir == "" && e.Sec.KEKFile == "" {
		e.Sec.KEKFile = filepath.Join(e.Dir, "kek")
		if _, err := keys.EnsureKEKFile(e.Sec.KEKFile); err != nil {
			return err
		}
		if _, err := keys.EnsureFingerprintKeyFile(e.Sec.KEKFile); err != nil {
			return err
		}
	}
	var urls []string
	for _, n := range e.Nodes {
		urls = append(urls, n.URL())
	}
	// With mTLS the admin identity creates the streams and the data-key
	// bucket; each service's own user may not (natsacl).
	if err := launch.Provision(ctx, e.Sec, urls, replicas); err != nil {
		return err
	}
	e.Services, e.Addrs = map[string]*launch.Proc{}, map[string]string{}
	e.mu.Lock()
	e.serviceOf = map[string]string{}
	e.mu.Unlock()
	// Processes start one after the other: on a fresh cluster, four
	// processes creating the same replicated streams and buckets at once
	// can outlast the JetStream API timeout.
	for _, svc := range ServiceNames {
		for i, name := range e.Instances(svc) {
			if err := e.startInstance(ctx, svc, i, name, urls, replicas); err != nil {
				return err
			}
		}
	}
	return nil
}

// startInstance starts replica i of svc as the process name and waits
// until it serves.
func (e *Env) startInstance(ctx context.Context, svc string, i int, name string, urls []string, replicas int) error {
	var port int
	if e.Port != nil {
		port = e.Port(svc, i)
	} else {
		p, err := launch.FreePort()
		if err != nil {
			return err
		}
		port = p
	}
	var extra []string
	if e.Extra != nil {
		extra = e.Extra(svc, i)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := launch.Command(e.Sec, launch.Service{
		Bin: filepath.Join(e.Bin, svc), Name: svc, GRPCAddr: addr, NATSURLs: urls,
		Replicas: replicas, DataDir: filepath.Join(e.Dir, name), Extra: extra,
	})
	p, err := launch.Start(name, cmd, filepath.Join(e.Dir, name+".log"))
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.serviceOf[name] = svc
	e.mu.Unlock()
	e.Services[name], e.Addrs[name] = p, addr
	return e.WaitServing(ctx, name)
}

// WaitServing waits until the process's health check says SERVING. A
// process that exits meanwhile is started again, as a supervisor would,
// and counted in StartRestarts.
func (e *Env) WaitServing(ctx context.Context, name string) error {
	svc := e.service(name)
	conn, err := launch.Dial(e.Sec, e.Addrs[name], bench.Operator)
	if err != nil {
		return err
	}
	defer conn.Close()
	h := healthpb.NewHealthClient(conn)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		res, err := h.Check(cctx, &healthpb.HealthCheckRequest{Service: grpcService[svc]})
		cancel()
		if err == nil && res.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		if p := e.Services[name]; !p.Running() {
			e.mu.Lock()
			if e.StartRestarts == nil {
				e.StartRestarts = map[string]int{}
			}
			e.StartRestarts[name]++
			n := e.StartRestarts[name]
			e.mu.Unlock()
			if n > 5 {
				return fmt.Errorf("%s exits at start (see %s.log)", name, name)
			}
			if err := p.Restart(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not serving (see %s.log): %w", name, name, errors.Join(ctx.Err(), err))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops everything: the services first (each drains and stops on
// SIGTERM, all at once), then the NATS nodes.
func (e *Env) Close() {
	closeAll(e.Services)
	nodes := map[string]*launch.Proc{}
	for _, p := range e.NATS {
		nodes[p.Name] = p
	}
	closeAll(nodes)
}

func closeAll(procs map[string]*launch.Proc) {
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(p.Close)
	}
	wg.Wait()
}

// Clients dials the services as member, the reviewer and the approver;
// a service with replicas is dialled as the list of them.
func (e *Env) Clients(member string) (bench.Clients, func(), error) {
	dial := func(addr string) func(string) (*grpc.ClientConn, error) {
		return func(uri string) (*grpc.ClientConn, error) { return launch.Dial(e.Sec, addr, uri) }
	}
	var conns []*grpc.ClientConn
	in, c1, err := bench.NewClients(dial(e.Target("intake")), member)
	if err != nil {
		return bench.Clients{}, nil, err
	}
	conns = append(conns, c1...)
	as, c2, err := bench.NewClients(dial(e.Target("assessment")), member)
	if err != nil {
		return bench.Clients{}, nil, err
	}
	conns = append(conns, c2...)
	re, c3, err := bench.NewClients(dial(e.Target("reporting")), member)
	if err != nil {
		return bench.Clients{}, nil, err
	}
	conns = append(conns, c3...)
	no, c4, err := bench.NewClients(dial(e.Target("notification")), member)
	if err != nil {
		return bench.Clients{}, nil, err
	}
	conns = append(conns, c4...)
	c := bench.Clients{Intake: in.Intake, Reviewer: as.Reviewer, Approver: as.Approver, Record: re.Record, Plan: no.Plan, PlanApprover: no.PlanApprover}
	return c, func() {
		for _, cn := range conns {
			_ = cn.Close()
		}
	}, nil
}

// Counts are, per request id, how often each event of interest is in the
// stream.
type Counts struct {
	Received, Opened, Sealed map[string]int
	// Clocked counts DeadlinesSet, which the case opening writes right
	// after CaseOpened, one by one on a single server.
	Clocked map[string]int
	Events  int
}

// Count reads the whole DDR stream, as the admin identity (service/ddr),
// which may read every event but write none.
func Count(ctx context.Context, sec launch.Security, urls []string) (Counts, error) {
	nc, err := launch.ConnectNATS(sec, urls, "service/"+natsacl.Admin)
	if err != nil {
		return Counts{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return Counts{}, err
	}
	c := Counts{Received: map[string]int{}, Opened: map[string]int{}, Sealed: map[string]int{}, Clocked: map[string]int{}}
	err = eventstore.Scan(ctx, js, eventstore.StreamName, eventstore.AllEvents, func(m eventstore.RawMsg) error {
		c.Events++
		p := strings.Split(m.Subject, ".")
		if len(p) != 5 {
			return nil
		}
		switch p[3] + "." + p[4] {
		case "intake.received":
			c.Received[p[2]]++
		case "assessment.opened":
			c.Opened[p[2]]++
		case "assessment.deadlines_set":
			c.Clocked[p[2]]++
		case "reporting.sealed":
			c.Sealed[p[2]]++
		}
		return nil
	})
	return c, err
}

// Report is the outcome of a fault run.
type Report struct {
	Name         string
	Acknowledged int // submits answered with a request id
	Recorded     int // acknowledged and exactly one RequestReceived
	Lost         int // acknowledged, no RequestReceived
	Duplicated   int // more than one RequestReceived for a key, or one for an id never acknowledged
	// Reactions under crashes: exactly one CaseOpened, exactly one seal.
	CasesOpenedOnce, CasesDuplicated, CasesMissing int
	// CasesWithoutClocks were opened but have no DeadlinesSet: a kill
	// between the two events of the one-by-one opening leaves the case
	// half written, and nothing completes it yet. Reported, not yet a
	// failure: the fix is not built (ARCHITECTURE.md, the known gap).
	CasesWithoutClocks                 int
	Sealed, SealsDuplicated, NotSealed int
	Kills                              map[string]int
	Events                             int
	Elapsed                            time.Duration
	Notes                              []string
}

// tally counts one id seen n times: never, exactly once (the only right
// answer) or more than once.
func tally(n int, never, once, more *int) {
	switch n {
	case 0:
		*never++
	case 1:
		*once++
	default:
		*more++
	}
}

// Check fills the report from the stream counts and the acknowledged ids.
func (r *Report) Check(c Counts, acked map[string]string, wantSealed bool) {
	r.Events = c.Events
	ids := map[string]bool{}
	for _, id := range acked {
		ids[id] = true
	}
	r.Acknowledged = len(acked)
	for id := range ids {
		tally(c.Received[id], &r.Lost, &r.Recorded, &r.Duplicated)
		tally(c.Opened[id], &r.CasesMissing, &r.CasesOpenedOnce, &r.CasesDuplicated)
		if c.Opened[id] > 0 && c.Clocked[id] == 0 {
			r.CasesWithoutClocks++
		}
		if wantSealed {
			tally(c.Sealed[id], &r.NotSealed, &r.Sealed, &r.SealsDuplicated)
		}
	}
	// Acknowledged ids are distinct per key; a request the stream holds
	// but nobody was told about is a second copy of a retried submit.
	for id := range c.Received {
		if !ids[id] {
			r.Duplicated++
		}
	}
	if len(ids) != len(acked) {
		r.Duplicated += len(acked) - len(ids)
	}
}

// OK says nothing was lost or doubled.
func (r *Report) OK(wantSealed bool) bool {
	ok := r.Lost == 0 && r.Duplicated == 0 && r.CasesDuplicated == 0 && r.CasesMissing == 0
	if wantSealed {
		ok = ok && r.SealsDuplicated == 0 && r.NotSealed == 0
	}
	return ok
}

// String is the printed report.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "=== fault report: %s ===\n", r.Name)
	fmt.Fprintf(&b, "requests acknowledged: %d\n", r.Acknowledged)
	fmt.Fprintf(&b, "recorded exactly once: %d\n", r.Recorded)
	fmt.Fprintf(&b, "lost:                  %d\n", r.Lost)
	fmt.Fprintf(&b, "duplicated:            %d\n", r.Duplicated)
	fmt.Fprintf(&b, "cases opened once:     %d (missing %d, duplicated %d)\n", r.CasesOpenedOnce, r.CasesMissing, r.CasesDuplicated)
	fmt.Fprintf(&b, "opened without clocks: %d\n", r.CasesWithoutClocks)
	if r.Sealed+r.NotSealed+r.SealsDuplicated > 0 {
		fmt.Fprintf(&b, "records sealed once:   %d (not sealed %d, duplicated %d)\n", r.Sealed, r.NotSealed, r.SealsDuplicated)
	}
	if len(r.Kills) > 0 {
		fmt.Fprintf(&b, "kills:                 %v\n", r.Kills)
	}
	fmt.Fprintf(&b, "events in DDR:         %d\n", r.Events)
	fmt.Fprintf(&b, "elapsed:               %s\n", r.Elapsed.Round(time.Millisecond))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

// Acked is a concurrent map of idempotency key -> acknowledged request id.
type Acked struct {
	mu sync.Mutex
	m  map[string]string
}

// Put records an acknowledgement.
func (a *Acked) Put(key, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]string{}
	}
	a.m[key] = id
}

// Snapshot copies the map.
func (a *Acked) Snapshot() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]string, len(a.m))
	for k, v := range a.m {
		out[k] = v
	}
	return out
}

// Getenv returns the environment variable or def.
func Getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
