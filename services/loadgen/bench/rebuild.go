package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/loadgen/launch"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/seal"
	reportingdomain "github.com/ddrsuite/ddr/services/reporting/domain"
)

// RebuildResult is the memory and start-up cost of a large record.
type RebuildResult struct {
	TemplateRequests int     `json:"template_requests"`
	Requests         int     `json:"requests_loaded"`
	Events           int     `json:"events_loaded"`
	PublishSeconds   float64 `json:"publish_seconds"`
	// HeapBefore and HeapAfter are heap in use after GC of the running
	// suite, with only the templates and with the whole load.
	HeapBeforeMiB    float64 `json:"heap_inuse_before_mib"`
	HeapAfterMiB     float64 `json:"heap_inuse_after_mib"`
	MiBPer100k       float64 `json:"heap_mib_per_100k_requests"`
	StartEmptySecs   float64 `json:"start_seconds_empty"`
	RebuildSeconds   float64 `json:"start_seconds_loaded"`
	RebuildPer1MSecs float64 `json:"start_seconds_per_1m_events"`
	// Decay is the latency of the per-request calls on the template
	// requests with about 10,000 events in the stream and with the whole
	// load (issue 19's decay goal).
	Decay []DecayPoint `json:"decay,omitempty"`
	// Scale is the cost of start-up and of the report at each size the
	// record was probed at with the calls (issue 19's scale goal compares
	// them per event at 1 M and 3 M events).
	Scale []ScalePoint `json:"scale,omitempty"`
}

// ScalePoint is what a probe measured of the whole record's costs at one
// size: start-up (every projection rebuilt), the heap, and the half-year
// transparency report, built from reporting's read model and verified by
// a fold of the record up to the report's sequence.
type ScalePoint struct {
	Events         int     `json:"events"`
	StartSecs      float64 `json:"start_seconds"`
	HeapMiB        float64 `json:"heap_inuse_mib"`
	ReportMs       float64 `json:"report_ms"`
	VerifyMs       float64 `json:"verify_report_ms"`
	ReportRequests int     `json:"report_requests"`
}

// PerMillion is p's cost per 1,000,000 events of each measure, in s for
// the start-up and in ms for the report and its verification.
func (p ScalePoint) PerMillion() map[string]float64 {
	f := 1_000_000 / float64(max(p.Events, 1))
	return map[string]float64{"start-up (s)": p.StartSecs * f, "report (ms)": p.ReportMs * f, "verify report (ms)": p.VerifyMs * f}
}

// decaySmallEvents is the smaller stream of the decay measurement.
const decaySmallEvents = 10_000

// Rebuild measures the memory the projections hold per request and the
// time the suite takes to start (rebuilding every projection) on a large
// record. The record lives in a nats-server process of its own, so the
// heap measured is the services' alone. It drives templates real requests
// through the pipeline, then copies their events under new request ids
// until requests requests are loaded, marks the reactors' durable consumers
// as caught up (as they are on a running system) and restarts the suite.
//
// Start-up time and heap are measured by probe, in a fresh process each
// time: measured in this one, the heap would still hold what the earlier
// workloads and suite instances left live, and the difference between two
// readings would mean nothing (an earlier version measured a negative one).
//
// scaleAt are sizes (events) below the whole load at which the record is
// probed too, the calls and the report measured as at the end: the scale
// goal compares the costs per event at 1 M and 3 M events.
func Rebuild(ctx context.Context, natsServer, dir string, templates, requests int, scaleAt []int, logs io.Writer, probe Probe) (RebuildResult, error) {
	var res RebuildResult
	port, err := launch.FreePort()
	if err != nil {
		return res, err
	}
	node := launch.NATSNode{Name: "bench-nats", Port: port, StoreDir: filepath.Join(dir, "nats")}
	nproc, err := launch.StartNATS(natsServer, dir, node)
	if err != nil {
		return res, err
	}
	defer nproc.Close()
	if err := launch.WaitTCP(ctx, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		return res, err
	}
	opts := SuiteOptions{DataDir: filepath.Join(dir, "suite"), NATSURL: node.URL(), Logs: logs}

	s, err := StartSuite(ctx, opts)
	if err != nil {
		return res, err
	}
	res.StartEmptySecs = s.Started.Seconds()
	w, err := s.NewWorkers(min(templates, 8))
	if err != nil {
		_ = s.Stop()
		return res, err
	}
	op := w.Pipeline()
	for i := range templates {
		if _, err := op(ctx, i%min(templates, 8)); err != nil {
			w.Close()
			_ = s.Stop()
			return res, fmt.Errorf("template request: %w", err)
		}
	}
	w.Close()
	if _, err := Drain(ctx, launch.Security{}, node.URL()); err != nil {
		_ = s.Stop()
		return res, err
	}
	if err := s.Stop(); err != nil {
		return res, err
	}
	// The same start-up as after the load, on the templates alone.
	pr, err := probe(ctx, opts, nil)
	if err != nil {
		return res, err
	}
	res.HeapBeforeMiB = pr.HeapMiB

	nc, err := nats.Connect(node.URL())
	if err != nil {
		return res, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return res, err
	}
	tmpl, err := readTemplates(ctx, js)
	if err != nil {
		return res, err
	}
	// The copies' personal data is sealed again under their own ids, as
	// the suite would have sealed it: a value sealed for one request
	// opens only for that request.
	kek, err := keys.LoadKEKFile(filepath.Join(runner.SecretsDir(opts.DataDir), runner.KEKFileName))
	if err != nil {
		return res, err
	}
	kr, err := keys.Lazy(js, kek)
	if err != nil {
		return res, err
	}
	rs := resealer{keys: kr, sealer: seal.New(kr)}
	res.TemplateRequests = len(tmpl)
	ids := make([]string, len(tmpl))
	perRequest := 0
	for i, t := range tmpl {
		id, _, _, err := eventstore.ParseSubject(t[0].Subject)
		if err != nil {
			return res, err
		}
		ids[i] = id
		res.Events += len(t)
		perRequest = max(perRequest, len(t))
	}
	res.Requests = len(tmpl)
	templateEvents := res.Events
	var publishing time.Duration
	load := func(n int) error {
		start := time.Now()
		events, err := publishCopies(ctx, js, rs, tmpl, n)
		publishing += time.Since(start)
		res.Requests += n
		res.Events += events
		if err != nil {
			return err
		}
		return catchUpDurables(ctx, js)
	}
	// probeAt loads n more requests and probes the record: the decay's
	// calls and, for a scale point, start-up and the report's cost too.
	probeAt := func(n int, scale bool) error {
		if err := load(n); err != nil {
			return err
		}
		pr, err := probe(ctx, opts, ids)
		if err != nil {
			return err
		}
		res.Decay = append(res.Decay, DecayPoint{Events: res.Events, P50ms: pr.Calls, Rounds: pr.Rounds})
		if scale {
			res.Scale = append(res.Scale, pr.scalePoint(res.Events))
		}
		return nil
	}
	// The decay: the same calls on the same (template) requests with
	// about 10,000 events in the stream, then with the whole load.
	small := min(decaySmallEvents/max(perRequest, 1), requests) - len(tmpl)
	if small > 0 && requests > small+len(tmpl) {
		if err := probeAt(small, false); err != nil {
			return res, err
		}
	}
	// The copies cycle through the templates, so a request adds the
	// templates' average number of events.
	perCopy := float64(templateEvents) / float64(len(tmpl))
	for _, at := range slices.Sorted(slices.Values(scaleAt)) {
		n := int(math.Ceil(float64(at-res.Events) / perCopy))
		if n <= 0 || res.Requests+n >= requests {
			continue
		}
		if err := probeAt(n, true); err != nil {
			return res, err
		}
	}
	if err := load(requests - res.Requests); err != nil {
		return res, err
	}
	res.PublishSeconds = publishing.Seconds()

	pr, err = probe(ctx, opts, ids)
	if err != nil {
		return res, err
	}
	res.RebuildSeconds, res.HeapAfterMiB = pr.StartSecs, pr.HeapMiB
	if len(res.Decay) > 0 {
		res.Decay = append(res.Decay, DecayPoint{Events: res.Events, P50ms: pr.Calls, Rounds: pr.Rounds})
	}
	res.Scale = append(res.Scale, pr.scalePoint(res.Events))
	loaded := float64(res.Requests - res.TemplateRequests)
	res.MiBPer100k = (res.HeapAfterMiB - res.HeapBeforeMiB) / loaded * 100_000
	res.RebuildPer1MSecs = res.RebuildSeconds / float64(res.Events) * 1_000_000
	return res, nil
}

// Probe starts the suite on the record o names, in a process of its own,
// and reports how long it took to be ready (every projection rebuilt), the
// heap in use after GC once it was and, given template request ids, the
// latency of the per-request calls on them ([MeasureCalls]).
type Probe func(ctx context.Context, o SuiteOptions, ids []string) (ProbeResult, error)

// ProbeResult is what a probe measured.
type ProbeResult struct {
	StartSecs float64            `json:"start_secs"`
	HeapMiB   float64            `json:"heap_mib"`
	Calls     map[string]float64 `json:"calls_p50_ms,omitempty"`
	Rounds    int                `json:"rounds,omitempty"`
	Report    ReportCost         `json:"report"`
}

func (r ProbeResult) scalePoint(events int) ScalePoint {
	return ScalePoint{Events: events, StartSecs: r.StartSecs, HeapMiB: r.HeapMiB,
		ReportMs: r.Report.BuildMs, VerifyMs: r.Report.VerifyMs, ReportRequests: r.Report.Requests}
}

// RunProbe is the body of a probe process: start the suite, measure, stop.
// Given a profile directory, it writes there a CPU profile of the start-up
// (startup.pprof), a heap profile once ready (heap.pprof) and a CPU
// profile of the decay's calls (calls.pprof), to see where the start-up
// time, the heap and the calls' time go.
func RunProbe(ctx context.Context, o SuiteOptions, ids []string, profileDir string) (ProbeResult, error) {
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o750); err != nil {
			return ProbeResult{}, err
		}
	}
	stop, err := cpuProfile(profileDir, "startup.pprof")
	if err != nil {
		return ProbeResult{}, err
	}
	// The record was received in the half-year holding now, and a
	// half-year's report is built only once it is over: reporting's clock
	// reads a day past its end. The record is the bench's own, thrown
	// away after the run, so whatever reporting's periodic jobs might
	// write by that clock stays there.
	period := reportingdomain.PeriodOf(time.Now())
	shift := time.Until(period.End()) + 24*time.Hour
	o.ReportClock = func() time.Time { return time.Now().Add(shift) }
	s, err := StartSuite(ctx, o)
	stop()
	if err != nil {
		return ProbeResult{}, err
	}
	r := ProbeResult{StartSecs: s.Started.Seconds(), HeapMiB: heapInUse()}
	if profileDir != "" {
		if err := writeHeapProfile(filepath.Join(profileDir, "heap.pprof")); err != nil {
			_ = s.Stop()
			return r, err
		}
	}
	if len(ids) > 0 {
		stop, perr := cpuProfile(profileDir, "calls.pprof")
		if perr != nil {
			_ = s.Stop()
			return r, perr
		}
		r.Calls, r.Rounds, err = MeasureCalls(ctx, s, ids)
		stop()
		if err == nil {
			r.Report, err = MeasureReport(ctx, s, period.String())
		}
	}
	if serr := s.Stop(); err == nil {
		err = serr
	}
	return r, err
}

// cpuProfile starts a CPU profile into name in dir (nothing without a
// dir); stop ends it.
func cpuProfile(dir, name string) (stop func(), err error) {
	if dir == "" {
		return func() {}, nil
	}
	f, err := os.Create(filepath.Join(dir, name)) //nolint:gosec // G304: the bench's own output path.
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// writeHeapProfile writes the heap profile as of the last GC (heapInUse's).
func writeHeapProfile(path string) error {
	f, err := os.Create(path) //nolint:gosec // G304: the bench's own output path.
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func heapInUse() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// readTemplates returns every event of the stream, grouped by request in
// stream order.
func readTemplates(ctx context.Context, js jetstream.JetStream) ([][]eventstore.RawMsg, error) {
	byID := map[string]int{}
	var out [][]eventstore.RawMsg
	err := eventstore.Scan(ctx, js, eventstore.StreamName, eventstore.AllEvents, func(m eventstore.RawMsg) error {
		ev, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, m.Sequence)
		if err != nil {
			return err
		}
		i, ok := byID[ev.RequestID]
		if !ok {
			i = len(out)
			byID[ev.RequestID] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], m)
		return nil
	})
	return out, err
}

// publishCopies publishes n requests copied from the templates under new
// request ids (in subjects and payloads) with new event ids; returns the
// number of events.
func publishCopies(ctx context.Context, js jetstream.JetStream, rs resealer, tmpl [][]eventstore.RawMsg, n int) (int, error) {
	events := 0
	for i := range n {
		t := tmpl[i%len(tmpl)]
		first, err := eventstore.FromMsg(t[0].Subject, t[0].Header, t[0].Data, t[0].Sequence)
		if err != nil {
			return events, err
		}
		oldID, newID := first.RequestID, uuid.Must(uuid.NewV7()).String()
		for _, m := range t {
			msg, err := copyMsg(ctx, rs, m, oldID, newID)
			if err != nil {
				return events, err
			}
			if _, err := js.PublishMsgAsync(msg); err != nil {
				return events, err
			}
			events++
		}
		// About ten events a request: waiting every 200 requests keeps
		// fewer than the client's 4,000 unacknowledged publishes in
		// flight, so a slow server throttles the loader instead of
		// failing it ("stalled with too many outstanding").
		if i%200 == 199 {
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				return events, ctx.Err()
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return events, ctx.Err()
	}
	return events, nil
}

// resealer opens what a template's events hold sealed and seals it again
// for a copy: the envelope of personal fields (package seal) and the
// target values intake seals itself (keys.TargetLabel). A value sealed for
// one request opens only for that request.
type resealer struct {
	keys   *keys.Keyring
	sealer *seal.Sealer
}

// targets reseals every sealed target value within m.
func (rs resealer) targets(ctx context.Context, m protoreflect.Message, oldID, newID string) error {
	if t, ok := m.Interface().(*intakev1.Target); ok && len(t.GetSealedValue()) > 0 {
		label := keys.TargetLabel(t.GetRef())
		pt, err := rs.keys.Open(ctx, oldID, label, t.GetSealedValue())
		if err != nil {
			return err
		}
		if t.SealedValue, err = rs.keys.Seal(ctx, newID, label, pt); err != nil {
			return err
		}
		return nil
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			for i := range v.List().Len() {
				if err = rs.targets(ctx, v.List().Get(i).Message(), oldID, newID); err != nil {
					return false
				}
			}
			return true
		}
		err = rs.targets(ctx, v.Message(), oldID, newID)
		return err == nil
	})
	return err
}

// copyMsg rewrites one event for the request newID: opened with the
// template's keys, sealed again with the copy's.
func copyMsg(ctx context.Context, rs resealer, m eventstore.RawMsg, oldID, newID string) (*nats.Msg, error) {
	ev, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, m.Sequence)
	if err != nil {
		return nil, err
	}
	if _, err := rs.sealer.Open(ctx, oldID, ev.Payload); err != nil {
		return nil, err
	}
	replaceString(ev.Payload.ProtoReflect(), oldID, newID)
	if err := rs.targets(ctx, ev.Payload.ProtoReflect(), oldID, newID); err != nil {
		return nil, err
	}
	sealed, err := rs.sealer.Sealed(ctx, newID, ev.Payload)
	if err != nil {
		return nil, err
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(sealed)
	if err != nil {
		return nil, err
	}
	out := nats.NewMsg(eventstore.Subject(newID, ev.Service, ev.Name))
	for k, v := range m.Header {
		// The template was read with a direct get: its Nats-* headers are
		// the server's (its subject, sequence, stream, the expectations it
		// was published with), which a copy must not carry; a stale
		// Nats-Subject made a load of the copy see the template's subject.
		if strings.HasPrefix(k, "Nats-") {
			continue
		}
		out.Header[k] = append([]string(nil), v...)
	}
	id := uuid.Must(uuid.NewV7()).String()
	out.Header.Set(eventstore.HeaderID, id)
	out.Header.Set(nats.MsgIdHdr, id)
	out.Data = data
	return out, nil
}

// replaceString replaces old with new in every string field of m.
func replaceString(m protoreflect.Message, old, new string) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				switch fd.Kind() {
				case protoreflect.StringKind:
					if l.Get(i).String() == old {
						l.Set(i, protoreflect.ValueOfString(new))
					}
				case protoreflect.MessageKind, protoreflect.GroupKind:
					replaceString(l.Get(i).Message(), old, new)
				}
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					replaceString(mv.Message(), old, new)
					return true
				})
			}
		case fd.Kind() == protoreflect.StringKind:
			if v.String() == old {
				m.Set(fd, protoreflect.ValueOfString(new))
			}
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			replaceString(v.Message(), old, new)
		}
		return true
	})
}

// catchUpDurables acknowledges everything pending on every durable
// consumer of the stream: on a running system the reactors have long
// handled the old events, and a restart only rebuilds the projections.
func catchUpDurables(ctx context.Context, js jetstream.JetStream) error {
	st, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		return err
	}
	var names []string
	for ci := range st.ListConsumers(ctx).Info() {
		if ci.Config.Durable != "" {
			names = append(names, ci.Name)
		}
	}
	for _, name := range names {
		c, err := st.Consumer(ctx, name)
		if err != nil {
			return err
		}
		for {
			info, err := c.Info(ctx)
			if err != nil {
				return err
			}
			if info.NumPending == 0 && info.NumAckPending == 0 {
				break
			}
			batch, err := c.Fetch(1000, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				return err
			}
			for m := range batch.Messages() {
				if err := m.Ack(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
