package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/loadgen/launch"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Suite is the all-in-one running inside this process, as `make run` runs
// it: runner.Run with suite.DefaultConfig().Build, real gRPC and NATS
// sockets on loopback.
type Suite struct {
	Info    runner.Info
	Sec     launch.Security
	Started time.Duration // from runner.Run to ready
	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
	err     error
	// stop, for a suite in another process, stops that process.
	stop func() error
}

// SuiteOptions say where the suite keeps its data and which NATS it uses.
type SuiteOptions struct {
	DataDir string
	// NATSURL, when set, is an external server; otherwise an embedded one
	// with fsync on every write.
	NATSURL string
	Logs    io.Writer
	// Sec, with a PKI, runs the suite over mTLS as `make run` does: gRPC
	// with client certificates, NATS over TLS with the per-service users.
	// Empty: the insecure development mode (identity header, plaintext).
	Sec launch.Security
	// ReportClock, when set, is reporting's clock (the rebuild's probe
	// reads it past the end of the half-year its record was received in,
	// so that the half-year's report can be built).
	ReportClock func() time.Time
}

// StartSuite starts the all-in-one, over mTLS with o.Sec's PKI, else in
// the development identity mode (plaintext loopback, identity header).
func StartSuite(ctx context.Context, o SuiteOptions) (*Suite, error) {
	logs := o.Logs
	if logs == nil {
		logs = io.Discard
	}
	ready := make(chan runner.Info, 1)
	cfg := runner.Config{
		Name:            "ddr",
		GRPCAddr:        "127.0.0.1:0",
		NATSURL:         o.NATSURL,
		DataDir:         o.DataDir,
		NATSListen:      "127.0.0.1:-1",
		SyncAlways:      true,
		Replicas:        1,
		DevIdentity:     o.Sec.PKIDir == "",
		PKIDir:          o.Sec.PKIDir,
		KEKFile:         o.Sec.KEKFile,
		ShutdownTimeout: 20 * time.Second,
		Ready:           func(i runner.Info) { ready <- i },
	}
	sc := suite.DefaultConfig()
	if o.ReportClock != nil {
		sc.Reporting.Now = o.ReportClock
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Suite{Sec: o.Sec, cancel: cancel, done: make(chan error, 1)}
	start := time.Now()
	go func() { s.done <- runner.Run(rctx, cfg, telemetry.NewLogger(logs, slog.LevelWarn, true), sc.Build) }()
	select {
	case s.Info = <-ready:
		s.Started = time.Since(start)
		return s, nil
	case err := <-s.done:
		cancel()
		return nil, fmt.Errorf("suite did not start: %w", err)
	case <-ctx.Done():
		cancel()
		return nil, ctx.Err()
	}
}

// RemoteSuite is a suite another process serves at info, stopped by stop.
func RemoteSuite(info runner.Info, sec launch.Security, stop func() error) *Suite {
	return &Suite{Info: info, Sec: sec, stop: stop}
}

// Stop shuts the suite down and waits; calling it again returns the same.
func (s *Suite) Stop() error {
	s.once.Do(func() {
		if s.stop != nil {
			s.err = s.stop()
			return
		}
		s.cancel()
		s.err = <-s.done
	})
	return s.err
}

// Dial connects to the suite as uri.
func (s *Suite) Dial(uri string) (*grpc.ClientConn, error) {
	return launch.Dial(s.Sec, s.Info.GRPCAddr, uri)
}

// Workers are the clients of a run, one set per worker, worker w acting
// as group member Members[w%len(Members)].
type Workers struct {
	c     []Clients
	conns []*grpc.ClientConn
	// ids are the requests submitted so far, per member; done are those
	// the pipeline took to the end (a case, a plan and a sealed record).
	mu   sync.Mutex
	ids  map[int][]string
	done map[int][]string
	seq  int
	run  string
}

// NewWorkers dials n workers.
func (s *Suite) NewWorkers(n int) (*Workers, error) {
	w := &Workers{ids: map[int][]string{}, done: map[int][]string{}, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	for i := range n {
		c, conns, err := NewClients(s.Dial, Members[i%len(Members)])
		if err != nil {
			w.Close()
			return nil, err
		}
		w.c = append(w.c, c)
		w.conns = append(w.conns, conns...)
	}
	return w, nil
}

// Close closes every connection.
func (w *Workers) Close() {
	for _, c := range w.conns {
		_ = c.Close()
	}
}

func (w *Workers) key() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return fmt.Sprintf("bench-%s-%07d", w.run, w.seq)
}

func (w *Workers) remember(worker int, id string) {
	m := worker % len(Members)
	w.mu.Lock()
	w.ids[m] = append(w.ids[m], id)
	w.mu.Unlock()
}

func (w *Workers) pick(worker int) string { return w.pickFrom(w.ids, worker) }

func (w *Workers) pickFrom(from map[int][]string, worker int) string {
	m := worker % len(Members)
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := from[m]
	if len(ids) == 0 {
		return ""
	}
	return ids[rand.IntN(len(ids))]
}

// Submit is a durable intake submit.
func (w *Workers) Submit() Op {
	return func(ctx context.Context, i int) (map[string]time.Duration, error) {
		res, err := w.c[i].Intake.Submit(ctx, Demand(w.key()))
		if err != nil {
			return nil, err
		}
		w.remember(i, res.GetRequestId())
		return nil, nil
	}
}

// Get reads one of the worker's member's requests.
func (w *Workers) Get() Op {
	return func(ctx context.Context, i int) (map[string]time.Duration, error) {
		id := w.pick(i)
		if id == "" {
			return nil, errors.New("no request to get: run submits first")
		}
		_, err := w.c[i].Intake.Get(ctx, &intakev1.GetRequest{RequestId: id})
		return nil, err
	}
}

// Staff reads the staff's view of one of the worker's member's requests
// that the pipeline finished (the reviewer's GetCase, GetPlan or
// GetRecord, as call says): every one has a case, a plan and a record.
func (w *Workers) Staff(call func(ctx context.Context, c Clients, id string) error) Op {
	return func(ctx context.Context, i int) (map[string]time.Duration, error) {
		id := w.pickFrom(w.done, i)
		if id == "" {
			return nil, errors.New("no request to read: run the pipeline first")
		}
		return nil, call(ctx, w.c[i], id)
	}
}

// GetCase, GetPlan and GetRecord are the staff reads of [Workers.Staff].
func GetCase(ctx context.Context, c Clients, id string) error {
	_, err := c.Reviewer.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
	return err
}

// GetPlan reads the request's notification plan as the reviewer.
func GetPlan(ctx context.Context, c Clients, id string) error {
	_, err := c.Plan.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
	return err
}

// GetRecord reads the request's record as the reviewer.
func GetRecord(ctx context.Context, c Clients, id string) error {
	_, err := c.Record.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
	return err
}

// List reads the first page (50) of the member's requests.
func (w *Workers) List() Op {
	return func(ctx context.Context, i int) (map[string]time.Duration, error) {
		_, err := w.c[i].Intake.List(ctx, &intakev1.ListRequest{PageSize: 50})
		return nil, err
	}
}

// Pipeline submits a demand, reviews and approves it as two staff members
// and waits for it to be cleared and its record sealed. The op's latency is
// submit→sealed; it also reports submit→cleared.
func (w *Workers) Pipeline() Op {
	return func(ctx context.Context, i int) (map[string]time.Duration, error) {
		c := w.c[i]
		start := time.Now()
		res, err := c.Intake.Submit(ctx, Demand(w.key()))
		if err != nil {
			return nil, err
		}
		id := res.GetRequestId()
		if err := Review(ctx, c, id); err != nil {
			return nil, err
		}
		if err := WaitCleared(ctx, c, id); err != nil {
			return nil, err
		}
		cleared := time.Since(start)
		if err := WaitSealed(ctx, c, id); err != nil {
			return nil, err
		}
		w.mu.Lock()
		w.done[i%len(Members)] = append(w.done[i%len(Members)], id)
		w.mu.Unlock()
		return map[string]time.Duration{"submit_to_cleared": cleared}, nil
	}
}

// Drain waits until every durable consumer of the suite has handled all
// its events, so one workload's reactions do not slow the next. It
// returns how long that took. With sec's PKI it looks as the operator
// (sre/oncall), whose NATS user sees consumer state and no messages.
func Drain(ctx context.Context, sec launch.Security, natsURL string) (time.Duration, error) {
	d, _, err := DrainEach(ctx, sec, natsURL)
	return d, err
}

// ConsumerLag is how far behind one durable consumer was when a drain
// began, and how long it took to catch up.
type ConsumerLag struct {
	Pending uint64  `json:"pending_at_start"`
	Seconds float64 `json:"catch_up_seconds"`
}

// DrainEach is [Drain] that also tells, for every durable consumer, how
// many events it had left when the drain began and when it caught up:
// which reactor is the one the others wait for.
func DrainEach(ctx context.Context, sec launch.Security, natsURL string) (time.Duration, map[string]ConsumerLag, error) {
	start := time.Now()
	nc, err := launch.ConnectNATS(sec, []string{natsURL}, "sre/oncall")
	if err != nil {
		return 0, nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, nil, err
	}
	st, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		return 0, nil, err
	}
	lags := map[string]ConsumerLag{}
	caughtUp := map[string]bool{}
	for {
		busy := false
		lister := st.ListConsumers(ctx)
		for ci := range lister.Info() {
			name := ci.Config.Durable
			if name == "" {
				continue
			}
			behind := ci.NumPending + uint64(max(ci.NumAckPending, 0))
			l, seen := lags[name]
			if !seen {
				l.Pending = behind
			}
			if behind > 0 {
				busy = true
				caughtUp[name] = false
			} else if !caughtUp[name] {
				caughtUp[name] = true
				l.Seconds = time.Since(start).Seconds()
			}
			lags[name] = l
		}
		if err := lister.Err(); err != nil {
			return 0, nil, err
		}
		if !busy {
			return time.Since(start), lags, nil
		}
		select {
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
